"""Image service rules: visibility, the status machine, data upload/download, members."""
