"""The service layer: rules, IPAM, quotas; each write commits, then pushes the data plane."""
