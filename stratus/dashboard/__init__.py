"""The dashboard (Horizon's job): a server-rendered web UI that reaches every service only through its HTTP API."""
