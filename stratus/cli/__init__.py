"""The ``stratus`` command: start, stop and inspect an all-in-one cloud (``up``, ``down``, ``status``, ``serve``)."""
