"""``stratus join <controller-url> --token T``: make this machine a compute host of a running controller.

1. (as root, unless ``--no-install``) install the Debian packages a compute host needs (scripts/install-debs.sh);
2. ``POST <controller-url>/v1/join`` with the host name and token; the controller answers with the bus URL,
   identity URL, metadata secret, OVN SB address, ... (``join_api.node_settings``) or refuses (403);
3. write them with this host's own options (name, state directory, underlay) to the config file, mode 0600;
4. replace this process with ``stratus serve --role compute --config <file>`` (same pid, in the foreground).
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from stratus.cli.join_tokens import check_hostname
from stratus.cli.testbed_plan import to_toml

INSTALL_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-debs.sh"


class JoinError(RuntimeError):
    """Joining failed; the message says why (the controller's refusal, an unreachable controller, ...)."""


def fetch_settings(controller_url: str, hostname: str, token: str, timeout: float = 30.0) -> dict[str, Any]:
    """The controller's settings for ``hostname``, spending ``token``."""
    url = controller_url.rstrip("/") + "/v1/join"
    try:
        resp = httpx.post(url, json={"hostname": hostname, "token": token}, timeout=timeout)
    except httpx.HTTPError as exc:
        raise JoinError(f"cannot reach the controller's join API at {url}: {exc}") from None
    if resp.status_code != 200:
        try:
            message = resp.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = resp.text[:300]
        raise JoinError(f"the controller refused to admit {hostname} (HTTP {resp.status_code}): {message}")
    try:
        settings: dict[str, Any] = resp.json()["join"]["config"]
    except (ValueError, KeyError, TypeError):
        raise JoinError(f"unexpected answer from {url}: {resp.text[:300]}") from None
    return settings


def host_config(
    settings: dict[str, Any],
    hostname: str,
    state_dir: Path,
    *,
    underlay_cidr: str = "",
    underlay_interface: str = "",
    encap_ip: str = "",
) -> dict[str, dict[str, Any]]:
    """The compute host's whole configuration: the controller's ``settings`` plus this host's own options."""
    check_hostname(hostname)
    if underlay_cidr:
        try:
            iface = ipaddress.ip_interface(underlay_cidr)
        except ValueError:
            raise JoinError(f"--underlay-cidr {underlay_cidr!r} is not an address/prefix (10.0.0.11/24)") from None
        encap_ip = encap_ip or str(iface.ip)
        if not underlay_interface:
            raise JoinError("--underlay-cidr needs --underlay-interface (the NIC whose address moves onto br-phy)")
    if not encap_ip:
        raise JoinError("give --underlay-cidr (with --underlay-interface) or --encap-ip: the tunnel endpoint address")
    config = {section: dict(options) for section, options in settings.items()}
    config.setdefault("core", {}).update({"host": hostname, "state_dir": str(state_dir)})
    config.setdefault("compute_agent", {}).update({"driver": "libvirt", "fake_hosts": 1})
    agent = config.setdefault("network_agent", {})
    agent.update({"encap_ip": encap_ip, "external_cidr": "", "gateway_chassis": False})
    if underlay_cidr:
        agent.update({"underlay_interface": underlay_interface, "underlay_cidr": underlay_cidr})
    return config


def write_config(path: Path, config: dict[str, dict[str, Any]]) -> None:
    """Write the config file, mode 0600 from the start (it holds the metadata secret and bus credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(to_toml(config))
    os.chmod(tmp, 0o600)  # an existing .tmp kept its mode
    os.replace(tmp, path)


def install_packages() -> None:
    """Install the missing Debian packages of a compute host (root only)."""
    if os.geteuid() != 0:
        raise JoinError("installing packages needs root: run `stratus join` with sudo, or pass --no-install")
    if not INSTALL_SCRIPT.exists():
        raise JoinError(f"{INSTALL_SCRIPT} is missing: install the packages yourself and pass --no-install")
    done = subprocess.run(["bash", str(INSTALL_SCRIPT)], check=False)
    if done.returncode != 0:
        raise JoinError(f"bash {INSTALL_SCRIPT} failed (exit code {done.returncode})")


def exec_compute(config_file: Path) -> None:
    """Become ``stratus serve --role compute`` (same pid: whoever started ``join`` keeps the right pid)."""
    argv = [sys.executable, "-m", "stratus.cli.main", "serve", "--role", "compute", "--config", str(config_file)]
    sys.stdout.flush()
    sys.stderr.flush()
    env = {k: v for k, v in os.environ.items() if k != "STRATUS_JOIN_TOKEN"}  # spent; the daemon needs no copy
    os.execve(sys.executable, argv, env)
