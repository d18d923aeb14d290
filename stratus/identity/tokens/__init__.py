"""Fernet tokens: payloads, key repository, provider."""
