"""Compute's service layer: rules and state machines behind the HTTP API."""
