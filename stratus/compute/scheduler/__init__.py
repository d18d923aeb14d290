"""Scheduling: placement-style accounting (claims), filters, weighers and host selection."""
