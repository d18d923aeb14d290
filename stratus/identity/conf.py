"""Identity's configuration section ``[identity]``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from stratus.core.config import Config, Section


class IdentityConfig(Section):
    port: int = Field(5000, description="Port of the Identity v3 API.")
    region: str = Field("RegionOne", description="Region name used for the catalog.")
    token_expiration: int = Field(3600, ge=60, description="Token lifetime in seconds.")
    allow_expired_window: int = Field(172800, description="Seconds an expired token stays valid for allow_expired.")
    key_repository: Path | None = Field(None, description="Fernet keys directory (default: <state_dir>/fernet-keys).")
    max_active_keys: int = Field(3, ge=3, description="Fernet keys kept: primary, secondaries and staged.")
    password_hash_rounds: int = Field(12, ge=4, le=31, description="bcrypt cost factor.")
    token_cache_ttl: float = Field(30.0, description="Seconds other services cache a validated token.")
    list_limit: int = Field(1000, description="Most entities returned by one list call.")


def load(config: Config) -> IdentityConfig:
    return config.section("identity", IdentityConfig)


def key_repository(config: Config, identity: IdentityConfig) -> Path:
    return identity.key_repository or config.core.state_dir / "fernet-keys"
