"""Image list queries: filters, sort keys and directions, and marker (keyset) pagination.

Sorting is on NULL-free expressions (``coalesce``) with ``id`` as the final tie-breaker, so the
order is total and the same on SQLite and PostgreSQL, and "after the marker" is a plain
lexicographic comparison against the marker row's values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from stratus.core.exceptions import BadRequest
from stratus.image.models import Image, ImageProperty, ImageTag
from stratus.image.schema import MEMBER_STATUSES

SORT_KEYS: dict[str, Callable[[Any], sa.ColumnElement[Any]]] = {
    "name": lambda e: sa.func.coalesce(e.name, ""),
    "status": lambda e: e.status,
    "container_format": lambda e: sa.func.coalesce(e.container_format, ""),
    "disk_format": lambda e: sa.func.coalesce(e.disk_format, ""),
    "size": lambda e: sa.func.coalesce(e.size, -1),
    "virtual_size": lambda e: sa.func.coalesce(e.virtual_size, -1),
    "min_disk": lambda e: e.min_disk,
    "min_ram": lambda e: e.min_ram,
    "owner": lambda e: sa.func.coalesce(e.owner, ""),
    "visibility": lambda e: e.visibility,
    "id": lambda e: e.id,
    "created_at": lambda e: e.created_at,
    "updated_at": lambda e: e.updated_at,
}
MAX_INT = 2**63 - 1
"""Largest integer a filter may hold (BIGINT); larger values are a 400, not a database error."""
STRING_FILTERS = ("id", "name", "status", "owner", "disk_format", "container_format")
BOOL_FILTERS = ("protected", "os_hidden")
CONTROL_PARAMS = frozenset(
    {"limit", "marker", "sort_key", "sort_dir", "sort", "visibility", "member_status", "tag", "size_min", "size_max"}
    | set(STRING_FILTERS)
    | set(BOOL_FILTERS)
)
"""Query parameters with a meaning of their own; any other parameter filters on a custom property."""


@dataclass
class ListQuery:
    """A parsed list request."""

    limit: int
    marker: str | None = None
    sort: list[tuple[str, str]] = field(default_factory=list)
    visibility: str | None = None
    member_status: str = "accepted"
    os_hidden: bool = False
    conditions: list[sa.ColumnElement[bool]] = field(default_factory=list)


def _bool(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise BadRequest(f"Invalid value {value!r} for filter '{name}': expected true or false.")
    return lowered == "true"


def _int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"Invalid value {value!r} for '{name}': expected an integer.") from None
    if number < 0 or number > MAX_INT:
        raise BadRequest(f"Invalid value {value!r} for '{name}': expected 0 to {MAX_INT}.")
    return number


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    return values[-1] if values else None


def parse_sort(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``sort=k1:dir,k2`` or repeated ``sort_key`` / ``sort_dir``; default ``created_at desc``."""
    keys = [v for k, v in params if k == "sort_key"]
    dirs = [v for k, v in params if k == "sort_dir"]
    sort = _one(params, "sort")
    if sort is not None and (keys or dirs):
        raise BadRequest("The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'.")
    pairs: list[tuple[str, str]] = []
    if sort is not None:
        for item in sort.split(","):
            key, _, direction = item.strip().partition(":")
            pairs.append((key.strip(), (direction or "asc").strip()))
    else:
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise BadRequest("The number of sort_dir values must be 1 or match the number of sort_key values.")
        keys = keys or ["created_at"]
        dirs = dirs * len(keys) if len(dirs) == 1 else dirs or ["desc"] * len(keys)
        pairs = list(zip(keys, dirs, strict=True))
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise BadRequest(f"Invalid sort key {key!r}: expected one of {', '.join(SORT_KEYS)}.")
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction {direction!r}: expected asc or desc.")
    if "id" not in [k for k, _ in pairs]:
        pairs.append(("id", pairs[-1][1] if pairs else "desc"))
    return pairs


def _string_condition(column: sa.ColumnElement[Any], value: str) -> sa.ColumnElement[bool]:
    if value.startswith("in:"):
        return column.in_([v.strip('"') for v in value[3:].split(",")])
    return column == value


def parse(params: list[tuple[str, str]], *, default_limit: int, max_limit: int) -> ListQuery:
    """Turn query parameters into a :class:`ListQuery`; 400 on anything malformed."""
    if any("\x00" in k or "\x00" in v for k, v in params):
        raise BadRequest("Query parameters may not contain NUL characters.")
    raw_limit = _one(params, "limit")
    limit = default_limit if raw_limit is None else _int("limit", raw_limit)
    query = ListQuery(limit=min(limit, max_limit), marker=_one(params, "marker"), sort=parse_sort(params))
    visibility = _one(params, "visibility")
    if visibility is not None and visibility not in ("public", "private", "shared", "community", "all"):
        raise BadRequest(f"Invalid visibility {visibility!r}: expected public, private, shared, community or all.")
    query.visibility = visibility
    member_status = _one(params, "member_status") or "accepted"
    if member_status not in (*MEMBER_STATUSES, "all"):
        raise BadRequest(f"Invalid member_status {member_status!r}: expected pending, accepted, rejected or all.")
    query.member_status = member_status
    for name in STRING_FILTERS:
        value = _one(params, name)
        if value is not None:
            query.conditions.append(_string_condition(getattr(Image, name), value))
    for name, op in (("size_min", "__ge__"), ("size_max", "__le__")):
        value = _one(params, name)
        if value is not None:
            query.conditions.append(getattr(Image.size, op)(_int(name, value)))
    protected = _one(params, "protected")
    if protected is not None:
        query.conditions.append(Image.protected == _bool("protected", protected))
    hidden = _one(params, "os_hidden")
    query.os_hidden = _bool("os_hidden", hidden) if hidden is not None else False
    for tag in [v for k, v in params if k == "tag"]:
        query.conditions.append(sa.exists().where(ImageTag.image_id == Image.id, ImageTag.value == tag))
    for name, value in params:
        if name not in CONTROL_PARAMS:
            prop = sa.and_(ImageProperty.image_id == Image.id, ImageProperty.name == name, ImageProperty.value == value)
            query.conditions.append(sa.exists().where(prop))
    return query


def order_by(sort: list[tuple[str, str]]) -> list[sa.ColumnElement[Any]]:
    return [SORT_KEYS[key](Image).asc() if d == "asc" else SORT_KEYS[key](Image).desc() for key, d in sort]


def after_marker(sort: list[tuple[str, str]], marker_id: str) -> sa.ColumnElement[bool]:
    """Rows strictly after the marker row in the ``sort`` order (the marker's values by subquery)."""
    marker = aliased(Image)

    def marker_value(key: str) -> sa.ScalarSelect[Any]:
        return sa.select(SORT_KEYS[key](marker)).where(marker.id == marker_id).scalar_subquery()

    clauses = []
    for i, (key, direction) in enumerate(sort):
        equal_before = [SORT_KEYS[k](Image) == marker_value(k) for k, _ in sort[:i]]
        column = SORT_KEYS[key](Image)
        beyond = column > marker_value(key) if direction == "asc" else column < marker_value(key)
        clauses.append(sa.and_(*equal_before, beyond))
    return sa.or_(*clauses)
