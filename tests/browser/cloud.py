"""A throwaway all-in-one cloud with the dashboard on a free port (browser tests and benchmarks/dashboard.py).

Built from tests/conftest.py's helpers (``write_config`` gives the dashboard a free port, as every API);
unlike the shared ``cloud`` fixture it takes config overrides (the benchmark adds fake hosts).
"""

from __future__ import annotations

import os
import subprocess
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import (
    START_TIMEOUT,
    STRATUS_BIN,
    CloudHandle,
    drop_postgres_databases,
    stop_process,
    stratus_env,
    wait_ready,
    write_config,
)


@contextmanager
def dashboard_cloud(base: Path, *, overrides: dict[str, str] | None = None) -> Iterator[CloudHandle]:
    """``stratus serve`` under ``base`` with every API and the dashboard on free ports; stopped on exit.

    ``overrides`` are ``STRATUS_<SECTION>__<OPTION>`` settings for the process (benchmarks add hosts).
    """
    prefix = f"stratus_dashboard_{os.getpid()}"
    drop_postgres_databases(prefix)
    config = write_config(base, db_prefix=prefix)
    env = {**stratus_env(config, base), **(overrides or {})}
    log = base / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(STRATUS_BIN), "serve", "--config", str(config)],
            env=env,
            cwd=base,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    handle = CloudHandle(base=base, config=config, env=env, process=process, log=log)
    try:
        wait_ready(handle, time.monotonic() + START_TIMEOUT)
        if "dashboard" not in handle.urls:
            raise RuntimeError(f"the cloud started without a dashboard:\n{handle.log_tail()}")
        yield handle
    finally:
        stop_process(process)


def project_token(handle: CloudHandle, user: str, project: str) -> str:
    """A token for API calls the tests make beside the browser (creating fixtures, checking results)."""
    password = handle.admin_password if user == "admin" else handle.demo_password
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    resp = httpx.post(f"{handle.auth_url}/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"]


def credentials(handle: CloudHandle) -> dict[str, str]:
    return tomllib.loads((handle.state_dir / "credentials.toml").read_text())
