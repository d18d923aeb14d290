"""``stratus up`` / ``status`` / ``down`` as a user runs them, on a throwaway state directory."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from stratus.cli import daemon
from tests.clients.osc import OPENSTACK_BIN
from tests.conftest import STRATUS_BIN, drop_postgres_databases, stratus_env, write_config


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    prefix = f"stratus_lifecycle_{os.getpid()}"
    drop_postgres_databases(prefix)
    config = write_config(tmp_path, db_prefix=prefix)
    env = stratus_env(config, tmp_path)
    del env["OS_CLIENT_CONFIG_FILE"]  # `up` must write a clouds.yaml the CLI finds by itself
    (tmp_path / "xdg" / "openstack").mkdir(parents=True)
    (tmp_path / "xdg" / "openstack" / "clouds.yaml").write_text(yaml.safe_dump({"clouds": {"other": {"x": 1}}}))
    yield tmp_path, env
    subprocess.run([str(STRATUS_BIN), "down"], env=env, cwd=tmp_path, capture_output=True, timeout=120)


def stratus(sandbox: tuple[Path, dict[str, str]], *args: str) -> subprocess.CompletedProcess[str]:
    base, env = sandbox
    return subprocess.run([str(STRATUS_BIN), *args], env=env, cwd=base, capture_output=True, text=True, timeout=240)


def test_up_status_down(sandbox: tuple[Path, dict[str, str]]) -> None:
    base, env = sandbox
    up = stratus(sandbox, "up")
    assert up.returncode == 0, up.stderr + up.stdout
    assert "identity" in up.stdout and "answering" in up.stdout

    pid = int((base / "state" / "run" / "stratus.pid").read_text())
    clouds = yaml.safe_load((base / "xdg" / "openstack" / "clouds.yaml").read_text())["clouds"]
    assert {"other", "stratus", "stratus-demo"} <= set(clouds)
    assert stat.S_IMODE((base / "xdg" / "openstack" / "clouds.yaml").stat().st_mode) == 0o600
    assert (base / "stratus-openrc").exists() and (base / "state" / "stratus-openrc").exists()

    again = stratus(sandbox, "up")
    assert again.returncode == 0 and f"pid {pid}" in again.stdout  # already up: only the status

    status = stratus(sandbox, "status")
    assert status.returncode == 0 and "answering" in status.stdout

    # The openrc works on its own, and clouds.yaml is found where the CLI looks.
    script = f"source stratus-openrc && {OPENSTACK_BIN} token issue -f value -c id"
    token = subprocess.run(["bash", "-c", script], env=env, cwd=base, capture_output=True, text=True, timeout=120)
    assert token.returncode == 0 and token.stdout.strip(), token.stderr
    listed = subprocess.run(
        [str(OPENSTACK_BIN), "--os-cloud", "stratus", "project", "list", "-f", "value", "-c", "Name"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0 and "admin" in listed.stdout.split(), listed.stderr

    down = stratus(sandbox, "down")
    assert down.returncode == 0 and f"pid {pid}" in down.stdout
    assert not _alive(pid)
    assert "stopped" in (base / "state" / "logs" / "stratus.log").read_text()
    after = stratus(sandbox, "status")
    assert after.returncode == 3 and "not running" in after.stdout


def test_credentials_survive_a_restart(sandbox: tuple[Path, dict[str, str]]) -> None:
    base, _env = sandbox
    assert stratus(sandbox, "up").returncode == 0
    first = (base / "state" / "credentials.toml").read_text()
    assert stratus(sandbox, "down").returncode == 0
    up = stratus(sandbox, "up")
    assert up.returncode == 0, up.stderr
    assert (base / "state" / "credentials.toml").read_text() == first


def _alive(pid: int) -> bool:
    return daemon.is_stratus_process(pid)  # `down` returns only once it has exited (zombies count as exited)
