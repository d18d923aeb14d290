"""Client configuration for the ``openstack`` CLI and openstacksdk: ``clouds.yaml`` entries and an openrc file."""

from __future__ import annotations

import os
import pwd
import shlex
from pathlib import Path
from typing import Any

import yaml

from stratus.cli.credentials import Credentials

ADMIN_CLOUD = "stratus"
DEMO_CLOUD = "stratus-demo"


def invoking_user() -> tuple[int, int, Path] | None:
    """(uid, gid, home) of the user behind ``sudo``, or None when not run through sudo by another user."""
    name = os.environ.get("SUDO_USER")
    if not name or name == "root":
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid, Path(entry.pw_dir)


def user_clouds_yaml() -> Path:
    """Where the ``openstack`` CLI of the user who ran us (through sudo too) looks for clouds.yaml."""
    sudo = invoking_user()
    if sudo is not None:
        return sudo[2] / ".config" / "openstack" / "clouds.yaml"
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "openstack" / "clouds.yaml"


def give_to_invoking_user(path: Path, *, parents: int = 0) -> None:
    """Under sudo, hand ``path`` (and ``parents`` directories above it) to the user who ran sudo."""
    sudo = invoking_user()
    if sudo is None:
        return
    for target in [path, *list(path.parents)[:parents]]:
        os.chown(target, sudo[0], sudo[1])


def cloud_entry(auth_url: str, username: str, password: str, project: str, region: str) -> dict[str, Any]:
    return {
        "auth": {
            "auth_url": auth_url,
            "username": username,
            "password": password,
            "project_name": project,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": region,
        "identity_api_version": 3,
        "interface": "public",
    }


def stratus_clouds(auth_url: str, creds: Credentials, region: str) -> dict[str, dict[str, Any]]:
    """The two clouds: ``stratus`` (admin) and ``stratus-demo`` (demo user in the demo project)."""
    return {
        ADMIN_CLOUD: cloud_entry(auth_url, "admin", creds.admin_password, "admin", region),
        DEMO_CLOUD: cloud_entry(auth_url, "demo", creds.demo_password, "demo", region),
    }


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600 (the file holds passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def merge_clouds_yaml(path: Path, clouds: dict[str, dict[str, Any]]) -> None:
    """Add or replace ``clouds`` in the clouds.yaml at ``path``, keeping every other cloud and key there."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise RuntimeError(f"{path} is not valid YAML ({exc}); fix it so Stratus can add its clouds") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise RuntimeError(f"{path} does not hold a YAML mapping; fix it so Stratus can add its clouds")
        data = loaded or {}
    existing = data.get("clouds") or {}
    data["clouds"] = {**existing, **clouds}
    _write_private(path, yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def openrc_text(auth_url: str, creds: Credentials, region: str) -> str:
    values = {
        "OS_AUTH_URL": auth_url,
        "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": "admin",
        "OS_PASSWORD": creds.admin_password,
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": region,
        "OS_INTERFACE": "public",
    }
    lines = ["# Stratus admin credentials: source this file, then run `openstack ...`.", "unset OS_CLOUD OS_TOKEN"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def write_openrc(path: Path, auth_url: str, creds: Credentials, region: str) -> None:
    _write_private(path, openrc_text(auth_url, creds, region))
