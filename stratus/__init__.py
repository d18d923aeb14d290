"""Stratus: a private IaaS cloud speaking the OpenStack APIs."""

__version__ = "0.1.0"
