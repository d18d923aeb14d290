"""The host half of the network service: OVS/OVN daemons, VIF plugging, metadata proxies."""
