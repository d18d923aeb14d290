"""Where the CLI keeps its files inside the state directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StatePaths:
    """The CLI's files under ``<state_dir>``."""

    state_dir: Path

    @property
    def credentials(self) -> Path:
        return self.state_dir / "credentials.toml"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "run" / "stratus.pid"

    @property
    def runtime_file(self) -> Path:
        """Written by ``serve`` once every API listens: the running services and their URLs."""
        return self.state_dir / "run" / "stratus.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "logs" / "stratus.log"

    @property
    def clouds_yaml(self) -> Path:
        return self.state_dir / "clouds.yaml"

    @property
    def openrc(self) -> Path:
        return self.state_dir / "stratus-openrc"
