"""``libvirt_cloud``: a ``stratus serve`` cloud whose compute agent runs the libvirt driver on real QEMU guests.

The cloud gets a private libvirtd (``hostdaemons.ensure_libvirt(private=True)``: its own mount
namespace, sockets under the cloud's state directory), so the tests see only their own domains and
never touch the machine's libvirtd or anyone else's guests. Teardown destroys every domain of that
libvirtd, stops it and the cloud, whatever the outcome.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import START_TIMEOUT, STRATUS_BIN, CloudHandle, stop_process, stratus_env, wait_ready, write_config


def _libvirt_missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (libvirtd and QEMU guests)"
    for tool in ("libvirtd", "qemu-system-x86_64", "qemu-img", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    try:
        import libvirt  # noqa: F401
    except ImportError:
        return "libvirt-python is not installed"
    return None


def dump_toml(settings: dict[str, dict[str, object]]) -> str:
    """Flat ``[section]`` tables of strings, numbers and booleans (all a stratus.toml holds)."""
    lines: list[str] = []
    for section, values in settings.items():
        lines += [f"[{section}]", *(f"{key} = {_toml_value(value)}" for key, value in values.items()), ""]
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


class LibvirtCloud(CloudHandle):
    """A CloudHandle that can be killed and restarted in place (same state directory and ports)."""

    uri: str = ""

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(STRATUS_BIN), "serve", "--config", str(self.config)],
                env=self.env,
                cwd=self.base,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_ready(self, time.monotonic() + START_TIMEOUT)

    def kill(self) -> None:
        """SIGKILL the whole all-in-one process (API, conductor and compute agent), as a crash would."""
        self.process.kill()
        self.process.wait(10)
        (self.state_dir / "run" / "stratus.json").unlink(missing_ok=True)
        (self.state_dir / "run" / "stratus.pid").unlink(missing_ok=True)


@pytest.fixture(scope="session")
def libvirt_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibvirtCloud]:
    reason = _libvirt_missing()
    if reason:
        pytest.skip(reason)
    from stratus.cli.hostdaemons import ensure_libvirt, stop_libvirt

    base = tmp_path_factory.mktemp("lvcloud")
    config = write_config(base, db_prefix="stratus_e2e_libvirt")
    state = base / "state"
    uri = ensure_libvirt(state, private=True)
    try:
        settings = tomllib.loads(config.read_text())
        # The compute API and agents reach the image API on its test port, not the default 9292.
        settings["compute"]["image_url"] = f"http://127.0.0.1:{settings['image']['port']}"
        settings["compute_agent"] = {
            "driver": "libvirt",
            "fake_hosts": 1,
            "libvirt_uri": uri,
            "libvirt_virt_type": "auto",
            "sync_power_state_interval": 30.0,
        }
        config.write_text(dump_toml(settings))
        env = stratus_env(config, base)
        handle = LibvirtCloud(base=base, config=config, env=env, process=None, log=base / "serve.log")  # type: ignore[arg-type]
        handle.uri = uri
        try:
            handle.start()
            yield handle
        finally:
            if handle.process is not None:
                stop_process(handle.process)
    finally:
        stop_libvirt(state)


def instance_dir(cloud: CloudHandle, uuid: str) -> Path:
    return cloud.state_dir / "instances" / uuid
