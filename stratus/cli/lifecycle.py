"""``serve`` (the all-in-one process), ``up`` (start it in the background and wait) and ``down``."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import NoReturn

from rich.console import Console

from stratus.cli import clientconfig, credentials, daemon, probe
from stratus.cli.cloud import Cloud
from stratus.cli.paths import StatePaths
from stratus.cli.progress import progress_bar
from stratus.core.config import Config

LOG = logging.getLogger(__name__)

START_TIMEOUT = 180.0


class StartFailed(RuntimeError):
    """The cloud did not come up; the message says where to look."""


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration plugin is noise


def region(config: Config) -> str:
    try:
        from stratus.identity import conf as identity_conf
    except ImportError:
        return "RegionOne"
    return identity_conf.load(config).region


def write_state_client_files(paths: StatePaths, auth_url: str, creds: credentials.Credentials, region: str) -> None:
    """clouds.yaml and stratus-openrc in the state directory (what tests and `up` start from)."""
    clientconfig.merge_clouds_yaml(paths.clouds_yaml, clientconfig.stratus_clouds(auth_url, creds, region))
    clientconfig.write_openrc(paths.openrc, auth_url, creds, region)


def serve(config: Config, on_ready: Callable[[Cloud], None] | None = None) -> None:
    """Run every service in this process until SIGTERM or SIGINT, then stop them cleanly."""
    paths = StatePaths(config.core.state_dir)
    daemon.claim_pid_file(paths)
    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        LOG.info("received %s, stopping", signal.Signals(signum).name)
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    cloud = Cloud(config, credentials.load_or_create(paths.credentials))
    try:
        cloud.start(step=LOG.info)
        if cloud.identity_url:
            write_state_client_files(paths, cloud.identity_url, cloud.credentials, region(config))
        daemon.write_runtime(
            paths, {"pid": os.getpid(), "started_at": time.time(), "services": [e.to_dict() for e in cloud.endpoints]}
        )
        LOG.info("ready: %s", ", ".join(f"{e.name} {e.url}" for e in cloud.endpoints))
        if on_ready is not None:
            on_ready(cloud)
        while not stop_requested.wait(1.0):
            pass
    finally:
        cloud.stop()
        daemon.release_pid_file(paths)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        LOG.info("stopped")


def write_user_client_files(config: Config, cwd: Path) -> list[Path]:
    """Merge the stratus clouds into the user's clouds.yaml and write ./stratus-openrc; returns what was written."""
    paths = StatePaths(config.core.state_dir)
    runtime = daemon.read_runtime(paths) or {}
    auth_url = next((s["url"] for s in runtime.get("services", []) if s["service_type"] == "identity"), None)
    if auth_url is None:
        return []
    creds = credentials.load_or_create(paths.credentials)
    user_yaml = clientconfig.user_clouds_yaml()
    clientconfig.merge_clouds_yaml(user_yaml, clientconfig.stratus_clouds(auth_url, creds, region(config)))
    clientconfig.give_to_invoking_user(user_yaml, parents=2)  # ~/.config/openstack and ~/.config
    openrc = cwd / "stratus-openrc"
    clientconfig.write_openrc(openrc, auth_url, creds, region(config))
    clientconfig.give_to_invoking_user(openrc)
    return [user_yaml, paths.clouds_yaml, openrc, paths.openrc]


def start_background(config: Config, console: Console, timeout: float = START_TIMEOUT) -> None:
    """Launch ``stratus serve`` detached and return once every API answers; raise StartFailed if it does not."""
    paths = StatePaths(config.core.state_dir)
    credentials.load_or_create(paths.credentials)
    proc = daemon.spawn_serve(paths, config.source)
    deadline = time.monotonic() + timeout

    def alive() -> bool:
        return proc.poll() is None

    with progress_bar(console) as progress:
        task = progress.add_task("starting the services", total=None)
        runtime = None
        while alive() and time.monotonic() < deadline:
            runtime = daemon.read_runtime(paths)
            if runtime is not None and runtime.get("pid") == proc.pid:
                break
            runtime = None
            time.sleep(0.1)  # polling for the runtime file, bounded by the deadline
        if runtime is None:
            _fail(proc, paths, f"not ready after {timeout:.0f}s" if alive() else "the process exited while starting")
        urls = {s["url"]: s["name"] for s in runtime["services"]}
        progress.update(task, description="waiting for the APIs to answer", total=len(urls), completed=0)

        def answered(url: str) -> None:
            progress.advance(task)
            progress.console.print(f"  {urls[url]} answers at {url}")

        pending = probe.wait_until_answering(urls, deadline, on_answer=answered, alive=alive)
        if pending or not alive():
            _fail(proc, paths, f"these APIs do not answer: {', '.join(pending)}")
        progress.update(task, description="all APIs answer")


def _fail(proc: subprocess.Popen[bytes], paths: StatePaths, why: str) -> NoReturn:
    if proc.poll() is None:
        daemon.stop(proc.pid, timeout=15)
    tail = paths.log_file.read_text(errors="replace").splitlines()[-25:] if paths.log_file.exists() else []
    raise StartFailed(f"Stratus did not start: {why}.\nLast lines of {paths.log_file}:\n" + "\n".join(tail))


def stop_background(config: Config, timeout: float = 60.0) -> int | None:
    """Stop the running cloud; returns its pid, or None if it was not running."""
    paths = StatePaths(config.core.state_dir)
    pid = daemon.running_pid(paths)
    if pid is None:
        paths.runtime_file.unlink(missing_ok=True)
        paths.pid_file.unlink(missing_ok=True)
        return None
    clean = daemon.stop(pid, timeout)
    if not clean:
        LOG.warning("pid %s did not stop within %ss and was killed", pid, timeout)
        paths.runtime_file.unlink(missing_ok=True)
        paths.pid_file.unlink(missing_ok=True)
    return pid
