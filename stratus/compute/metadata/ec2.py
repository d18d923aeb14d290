"""The EC2-style tree (``/<version>/meta-data/...``, ``/<version>/user-data``) as Nova renders it.

Directory listings follow Nova's ``ec2_md_print``: sorted keys, ``name/`` for a sub-tree, and a
sub-tree carrying ``_name`` (the public keys) is listed by that name (``0=mykey``).
"""

from __future__ import annotations

from typing import Any

from stratus.compute.metadata.netinfo import addresses
from stratus.compute.metadata.source import InstanceData

VERSIONS = (
    "1.0",
    "2007-01-19",
    "2007-03-01",
    "2007-08-29",
    "2007-10-10",
    "2007-12-15",
    "2008-02-01",
    "2008-09-01",
    "2009-04-04",
)


def ec2_id(prefix: str, uuid: str) -> str:
    """An EC2-style id (``i-1a2b3c4d``). Nova numbers them from a table; ours are the uuid's first 8 hex digits."""
    digits = uuid.replace("-", "")[:8]
    return f"{prefix}-{digits}" if digits else ""


def _at_least(required: str, version: str) -> bool:
    return VERSIONS.index(version) >= VERSIONS.index(required)


def tree(inst: InstanceData, version: str, *, hostname: str, address: str | None) -> dict[str, Any]:
    """``{"meta-data": {...}, "user-data": bytes}`` of one EC2 version ("latest" allowed). KeyError: unknown."""
    if version == "latest":
        version = VERSIONS[-1]
    if version not in VERSIONS:
        raise KeyError(version)
    fixed, floating = addresses(inst.network_info, version=4)
    meta: dict[str, Any] = {
        "ami-id": ec2_id("ami", inst.image_ref),
        "ami-launch-index": inst.launch_index,
        "ami-manifest-path": "FIXME",
        "instance-id": ec2_id("i", inst.uuid),
        "hostname": hostname,
        "local-ipv4": fixed[0] if fixed else (address or ""),
        "reservation-id": inst.reservation_id,
        "security-groups": inst.security_groups,
    }
    if inst.key_name:
        meta["public-keys"] = {"0": {"_name": f"0={inst.key_name}", "openssh-key": inst.key_data or ""}}
    if _at_least("2007-01-19", version):
        meta["local-hostname"] = hostname
        meta["public-hostname"] = hostname
        meta["public-ipv4"] = floating[0] if floating else ""
    if _at_least("2007-08-29", version):
        meta["instance-type"] = inst.flavor_name
    if _at_least("2007-12-15", version):
        meta["block-device-mapping"] = {"ami": "vda", "root": "/dev/vda"}
    if _at_least("2008-02-01", version):
        meta["placement"] = {"availability-zone": inst.availability_zone}
    if _at_least("2008-09-01", version):
        meta["instance-action"] = "none"
    data: dict[str, Any] = {"meta-data": meta}
    if inst.user_data is not None:
        data["user-data"] = inst.user_data
    return data


def find(data: Any, tokens: list[str]) -> Any:
    """Walk ``tokens`` down a dict tree; KeyError when a step does not exist."""
    for token in tokens:
        if not isinstance(data, dict) or token not in data or token == "_name":
            raise KeyError(token)
        data = data[token]
    return data


def render(data: Any) -> bytes:
    """Nova's plain-text rendering of a value or a directory listing."""
    if isinstance(data, dict):
        lines = []
        for key in sorted(data):
            if key == "_name":
                continue
            value = data[key]
            if isinstance(value, dict):
                lines.append(str(value["_name"]) if "_name" in value else f"{key}/")
            else:
                lines.append(key)
        return "\n".join(lines).encode()
    if isinstance(data, list | tuple):
        return "\n".join(str(v) for v in data).encode()
    if isinstance(data, bytes):
        return data
    return str(data).encode()
