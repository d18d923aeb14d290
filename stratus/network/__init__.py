"""The network service: Networking API v2.0 (Neutron ML2/OVN style), server half."""
