"""Configuration: one TOML file plus environment overrides, read into typed sections.

The file is ``$STRATUS_CONFIG`` if set, else ``/etc/stratus/stratus.toml`` if it exists.
Every option can be overridden by ``STRATUS_<SECTION>__<OPTION>`` (for example
``STRATUS_CORE__DATABASE_URL``). Core options live in ``[core]``; each service declares its own
section model in ``<service>/conf.py`` and reads it with :meth:`Config.section`.
"""

from __future__ import annotations

import os
import socket
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_CONFIG_FILE = Path("/etc/stratus/stratus.toml")
ENV_PREFIX = "STRATUS_"

SectionT = TypeVar("SectionT", bound=BaseModel)


class ConfigError(Exception):
    """The configuration file or an override is invalid; the message says which option."""


class Section(BaseModel):
    """Base for every config section: unknown options are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CoreConfig(Section):
    state_dir: Path = Field(Path("/var/lib/stratus"), description="Where every service keeps its state.")
    host: str = Field(default_factory=socket.gethostname, description="This host's name on the bus.")
    bind_host: str = Field("127.0.0.1", description="Address the API servers listen on.")
    public_host: str = Field("127.0.0.1", description="Host name or address put in catalog URLs.")
    database_url: str = Field(
        "sqlite:///{state_dir}/{service}.sqlite",
        description="SQLAlchemy URL template; {service} and {state_dir} are substituted, so "
        "each service gets its own database (e.g. postgresql+psycopg://u@db/stratus_{service}).",
    )
    bus_url: str = Field("memory://", description="kombu URL: memory:// in one process, amqp://... across hosts.")
    identity_url: str = Field("http://127.0.0.1:5000", description="Identity API root for token checks.")
    token_cache_ttl: float = Field(30.0, description="Seconds a validated token is cached by the other APIs.")
    seed_images: bool = Field(True, description="On start, build and register the public testvm image if missing.")
    seed_networks: bool = Field(
        True, description="On start, create the external network public and the demo project's private network."
    )
    log_level: str = "INFO"
    max_request_body_bytes: int = Field(1024 * 1024, description="Larger JSON bodies get 413.")
    metadata_secret: str = Field(
        "", description="Shared secret the metadata proxies sign instance ids with and the compute metadata API checks."
    )


class ServiceAuthConfig(Section):
    """[service_auth]: the user services act as when they call each other's APIs (Nova's [neutron] / [nova])."""

    username: str = Field("stratus", description="Service user name (it needs the admin role on its project).")
    password: str = Field("", description="Its password; empty means service-to-service calls are not configured.")
    project_name: str = Field("service", description="Project the service token is scoped to.")
    user_domain_name: str = Field("Default", description="Domain of the service user.")
    project_domain_name: str = Field("Default", description="Domain of the service project.")


class Config:
    """The raw TOML plus environment, read into typed sections on demand."""

    def __init__(self, raw: dict[str, Any], env: dict[str, str] | None = None, source: Path | None = None):
        self._raw = raw
        self._env = dict(os.environ if env is None else env)
        self.source = source
        self.core: CoreConfig = self.section("core", CoreConfig)

    def section(self, name: str, model: type[SectionT]) -> SectionT:
        values: dict[str, Any] = dict(self._raw.get(name, {}))
        prefix = f"{ENV_PREFIX}{name.upper()}__"
        for key, value in self._env.items():
            if key.startswith(prefix):
                values[key[len(prefix) :].lower()] = value
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(f"[{name}] {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid configuration ({self.source or 'defaults'}): {problems}") from None

    def database_url(self, service: str) -> str:
        return self.core.database_url.format(service=service, state_dir=self.core.state_dir)

    def with_overrides(self, **sections: dict[str, Any]) -> Config:
        """A copy with some options replaced (tests and the CLI use it)."""
        raw = {k: dict(v) for k, v in self._raw.items()}
        for name, values in sections.items():
            raw.setdefault(name, {}).update(values)
        return Config(raw, self._env, self.source)

    def to_toml_dict(self) -> dict[str, Any]:
        return {k: dict(v) for k, v in self._raw.items()}


def load_config(path: Path | str | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the config file (see module doc for where it is looked for)."""
    environ = dict(os.environ if env is None else env)
    if path is None:
        path = environ.get("STRATUS_CONFIG") or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    raw: dict[str, Any] = {}
    source = Path(path) if path else None
    if source is not None:
        try:
            raw = tomllib.loads(source.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {source} does not exist (set STRATUS_CONFIG or create it)") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {source} is not valid TOML: {exc}") from None
    return Config(raw, environ, source)
