"""Shared plumbing for every Stratus service; it imports no service."""
