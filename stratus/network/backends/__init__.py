"""Data plane back ends: ``ovn`` (the OVN Northbound DB) and ``fake`` (in memory)."""
