"""``stratus status``: each running service, its URL and whether its API answers."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from stratus.cli import daemon, probe
from stratus.cli.paths import StatePaths


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    service_type: str
    url: str
    answering: bool


@dataclass(frozen=True)
class CloudStatus:
    pid: int | None
    services: list[ServiceStatus]

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def healthy(self) -> bool:
        return self.running and bool(self.services) and all(s.answering for s in self.services)


def collect(paths: StatePaths) -> CloudStatus:
    """The cloud's state from its pid and runtime files, each API probed once."""
    pid = daemon.running_pid(paths)
    runtime = daemon.read_runtime(paths) if pid is not None else None
    services = [
        ServiceStatus(s["name"], s["service_type"], s["url"], probe.answers(s["url"]))
        for s in (runtime or {}).get("services", [])
    ]
    return CloudStatus(pid, services)


def render(console: Console, status: CloudStatus, paths: StatePaths) -> None:
    if not status.running:
        console.print("Stratus is [bold]not running[/]. Start it with `stratus up` (or `make up`).")
        return
    if not status.services:
        console.print(f"Stratus (pid {status.pid}) is still starting; its log is {paths.log_file}.")
        return
    table = Table(title=f"Stratus (pid {status.pid}, state in {paths.state_dir})")
    table.add_column("service")
    table.add_column("type")
    table.add_column("URL")
    table.add_column("API")
    for s in status.services:
        table.add_row(s.name, s.service_type, s.url, "[green]answering[/]" if s.answering else "[red]not answering[/]")
    console.print(table)
    if not status.healthy:
        console.print(f"Some APIs do not answer: see {paths.log_file}, or restart with `stratus down; stratus up`.")
