"""Image service."""
