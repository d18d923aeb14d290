"""The dashboard's configuration section ``[dashboard]``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stratus.core.config import Config, Section


class DashboardConfig(Section):
    port: int = Field(8000, description="Port of the web dashboard.")
    identity_url: str | None = Field(
        None, description="Identity API root users log in at (default: [core] identity_url)."
    )
    interface: Literal["public", "internal", "admin"] = Field(
        "public", description="Which catalog endpoints the dashboard calls the services at."
    )
    region: str | None = Field(None, description="Catalog region to use (default: the first endpoint of each type).")
    session_idle_timeout: float = Field(3600.0, gt=0, description="Seconds of inactivity after which a session ends.")
    max_sessions: int = Field(10000, ge=10, description="Most sessions kept; the least recently used go first.")
    cookie_name: str = Field("stratus_session", description="Name of the session cookie.")
    cookie_secure: bool = Field(False, description="Mark the session cookie Secure (set when served over HTTPS).")
    cookie_samesite: Literal["lax", "strict"] = Field("lax", description="SameSite attribute of the session cookie.")
    api_timeout: float = Field(30.0, gt=0, description="Seconds to wait for a service API before showing an error.")
    poll_interval: float = Field(2.0, gt=0, description="Seconds between refreshes of changing instance lists.")
    default_domain: str = Field("Default", description="Domain name pre-filled on the login form.")


def load(config: Config) -> DashboardConfig:
    return config.section("dashboard", DashboardConfig)


def identity_url(config: Config, dashboard: DashboardConfig) -> str:
    """Identity API root (``http://host:5000``) used for logging in."""
    return (dashboard.identity_url or config.core.identity_url).rstrip("/")
