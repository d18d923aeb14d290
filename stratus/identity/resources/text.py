"""Identity uses core's input sanitising (kept here as the name its modules import)."""

from stratus.core.api.sanitize import has_nul, reject_nul_in_url

__all__ = ["has_nul", "reject_nul_in_url"]
