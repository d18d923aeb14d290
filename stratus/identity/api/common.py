"""Response helpers: entity ``links``, collection ``links``, booleans in query strings."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from stratus.core.exceptions import BadRequest


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def entity_links(request: Request, path: str) -> dict[str, str]:
    """``{"self": "<base>/v3/<path>"}`` for one entity."""
    return {"self": f"{base_url(request)}/v3/{path}"}


def collection(request: Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Keystone's collection shape: ``{key: [...], "links": {"self", "previous", "next"}}``."""
    return {key: items, "links": {"self": str(request.url), "previous": None, "next": None}}


def query_bool(value: str | None, name: str) -> bool | None:
    """Keystone's truthiness for query filters (``enabled=0``/``false`` is False)."""
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("", "1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise BadRequest(f"Invalid value for {name}: {value!r} is not a boolean.")
