"""The image attributes: which are read-only or reserved, how each is validated, and the JSON schemas.

``validate_attr`` is what create and PATCH use; the dicts here are served at ``/v2/schemas/...``.
"""

from __future__ import annotations

import uuid
from typing import Any

from stratus.core.exceptions import BadRequest, Forbidden

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "private", "shared", "community")
STATUSES = ("queued", "saving", "active", "killed", "deleted", "deactivated", "uploading", "importing")
MEMBER_STATUSES = ("pending", "accepted", "rejected")
READ_ONLY = frozenset(
    {
        "checksum",
        "created_at",
        "direct_url",
        "file",
        "os_hash_algo",
        "os_hash_value",
        "schema",
        "self",
        "size",
        "status",
        "updated_at",
        "virtual_size",
        "stores",
    }
)
RESERVED = frozenset({"deleted", "deleted_at", "location", "locations", "owner_id"})
WRITABLE_BASE = frozenset(
    {"name", "visibility", "protected", "os_hidden", "disk_format", "container_format", "min_disk", "min_ram", "owner"}
)
BASE_ATTRS = WRITABLE_BASE | READ_ONLY | {"id", "tags"}
MAX_PROPERTY_VALUE = 65535


RESERVED_PREFIX = "os_glance"
"""Properties named ``os_glance*`` belong to the service (Glance reserves them the same way)."""


def check_writable(name: str, *, creating: bool) -> None:
    """403 for read-only and reserved attributes, as Glance answers."""
    if name in READ_ONLY or (name == "id" and not creating):
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise Forbidden(f"Attribute '{name}' is reserved.")


def _enum(name: str, value: Any, allowed: tuple[str, ...], nullable: bool = True) -> Any:
    if value is None and nullable:
        return None
    if value not in allowed:
        raise BadRequest(f"Invalid value {value!r} for '{name}': expected one of {', '.join(allowed)}.")
    return value


def _string(name: str, value: Any, max_len: int = 255, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or len(value) > max_len or "\x00" in value:
        raise BadRequest(f"Invalid value for '{name}': expected a string of at most {max_len} characters.")
    return value


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"Invalid value {value!r} for '{name}': expected true or false.")
    return value


def _non_negative(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 2**31 - 1:
        raise BadRequest(f"Invalid value {value!r} for '{name}': expected a non-negative integer.")
    return value


def validate_tags(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise BadRequest("Invalid value for 'tags': expected a list of strings.")
    tags: list[str] = []
    for tag in value:
        tag = validate_tag(tag)
        if tag not in tags:
            tags.append(tag)
    return tags


def validate_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > 255 or "\x00" in tag:
        raise BadRequest("Invalid tag: expected a non-empty string of at most 255 characters.")
    return tag


def validate_id(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BadRequest(f"Invalid value {value!r} for 'id': expected a UUID.") from None


def validate_attr(name: str, value: Any) -> Any:
    """The validated value of a base attribute, or a custom property (string values only)."""
    if name == "name":
        return _string(name, value)
    if name == "owner":
        return _string(name, value)
    if name == "visibility":
        return _enum(name, value, VISIBILITIES, nullable=False)
    if name == "disk_format":
        return _enum(name, value, DISK_FORMATS)
    if name == "container_format":
        return _enum(name, value, CONTAINER_FORMATS)
    if name in ("protected", "os_hidden"):
        return _boolean(name, value)
    if name in ("min_disk", "min_ram"):
        return _non_negative(name, value)
    if name == "tags":
        return validate_tags(value)
    if name == "id":
        return validate_id(value)
    if not name or len(name) > 255 or "\x00" in name:
        raise BadRequest("Invalid property name: expected 1 to 255 characters.")
    return _string(name, value, MAX_PROPERTY_VALUE, nullable=False)


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


IMAGE_SCHEMA: dict[str, Any] = {
    "name": "image",
    "additionalProperties": {"type": "string"},
    "links": [
        {"href": "{self}", "rel": "self"},
        {"href": "{file}", "rel": "enclosure"},
        {"href": "{schema}", "rel": "describedby"},
    ],
    "properties": {
        "id": {
            "type": "string",
            "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
        },
        "name": _nullable("string", maxLength=255),
        "status": {"type": "string", "readOnly": True, "enum": list(STATUSES)},
        "visibility": {"type": "string", "enum": list(VISIBILITIES)},
        "protected": {"type": "boolean"},
        "os_hidden": {"type": "boolean"},
        "checksum": _nullable("string", readOnly=True, maxLength=32),
        "os_hash_algo": _nullable("string", readOnly=True, maxLength=64),
        "os_hash_value": _nullable("string", readOnly=True, maxLength=128),
        "owner": _nullable("string", maxLength=255),
        "size": _nullable("integer", readOnly=True),
        "virtual_size": _nullable("integer", readOnly=True),
        "container_format": {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS]},
        "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS]},
        "created_at": {"type": "string", "readOnly": True},
        "updated_at": {"type": "string", "readOnly": True},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
        "min_ram": {"type": "integer"},
        "min_disk": {"type": "integer"},
        "self": {"type": "string", "readOnly": True},
        "file": {"type": "string", "readOnly": True},
        "schema": {"type": "string", "readOnly": True},
    },
}

IMAGES_SCHEMA: dict[str, Any] = {
    "name": "images",
    "properties": {
        "images": {"type": "array", "items": IMAGE_SCHEMA},
        "schema": {"type": "string"},
        "first": {"type": "string"},
        "next": {"type": "string"},
    },
    "links": [
        {"href": "{first}", "rel": "first"},
        {"href": "{next}", "rel": "next"},
        {"href": "{schema}", "rel": "describedby"},
    ],
}

MEMBER_SCHEMA: dict[str, Any] = {
    "name": "member",
    "properties": {
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "image_id": {"type": "string"},
        "member_id": {"type": "string"},
        "schema": {"type": "string"},
        "status": {"type": "string", "enum": list(MEMBER_STATUSES)},
    },
}

MEMBERS_SCHEMA: dict[str, Any] = {
    "name": "members",
    "properties": {"members": {"type": "array", "items": MEMBER_SCHEMA}, "schema": {"type": "string"}},
    "links": [{"href": "{schema}", "rel": "describedby"}],
}
