"""What every compute manager needs, plus small helpers shared by them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.conf import ComputeConfig
from stratus.core.context import RequestContext
from stratus.core.db import Database
from stratus.core.exceptions import BadRequest, NotFound
from stratus.core.policy import Enforcer

if TYPE_CHECKING:
    from stratus.compute.core.images import ImageLookup
    from stratus.compute.core.network import NetworkBinder
    from stratus.core.bus import Bus


@dataclass
class Deps:
    """The database, config, policy, bus and outside clients a manager works with."""

    db: Database
    conf: ComputeConfig
    enforcer: Enforcer
    bus: Bus | None
    images: ImageLookup
    network: NetworkBinder


def ctx_dict(ctx: RequestContext) -> dict[str, Any]:
    """The request context as it travels on the bus (see rpcapi)."""
    return {
        "user_id": ctx.user_id,
        "project_id": ctx.project_id,
        "roles": sorted(ctx.roles),
        "auth_token": ctx.token,
        "request_id": ctx.request_id,
    }


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def get_instance(session: Session, ctx: RequestContext, server_id: str, *, lock: bool = False) -> models.Instance:
    """A live server the caller may see (admins: any project), else NotFound."""
    query = sa.select(models.Instance).where(models.Instance.uuid == server_id, models.Instance.deleted.is_(False))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    inst = session.scalar(query) if is_uuid(server_id) else None
    if inst is None or inst.vm_state == "deleted" or (not ctx.is_admin and inst.project_id != ctx.project_id):
        raise NotFound(f"Instance {server_id} could not be found.")
    return inst


def require_dict(body: Any, key: str) -> dict[str, Any]:
    """``body[key]`` as a dict, or a 400 naming what is missing."""
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise BadRequest(f"Invalid input for field/attribute {key}. Value: {body!r}. '{key}' is a required property")
    return body[key]


def parse_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """An int (or an int in a string) within bounds, else 400 with Nova's wording."""
    if isinstance(value, bool):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. {value} is not of type 'integer'")
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. Must be an integer.") from None
    if minimum is not None and number < minimum:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. Must be >= {minimum}.")
    if maximum is not None and number > maximum:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. Must be <= {maximum}.")
    return number


TRUE_STRINGS = ("True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")
FALSE_STRINGS = ("False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")


def parse_bool(value: Any, name: str) -> bool:
    """A JSON boolean or one of the strings Nova's ``parameter_types.boolean`` accepts, else 400."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in TRUE_STRINGS:
        return True
    if isinstance(value, str) and value in FALSE_STRINGS:
        return False
    raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value!r}. {value!r} is not a valid boolean")


def check_string(value: Any, name: str, *, min_len: int = 0, max_len: int = 255) -> str:
    if not isinstance(value, str) or not (min_len <= len(value) <= max_len):
        raise BadRequest(
            f"Invalid input for field/attribute {name}. Value: {value!r}. "
            f"Must be a string of {min_len} to {max_len} characters."
        )
    return value


def paginate(items: list[Any], key: Any, limit: Any, marker: str | None, max_limit: int) -> list[Any]:
    """The page after ``marker`` (an id; 400 if unknown) of at most ``limit`` items."""
    if marker:
        ids = [key(i) for i in items]
        if marker not in ids:
            raise BadRequest(f"marker [{marker}] not found")
        items = items[ids.index(marker) + 1 :]
    if limit is not None:
        items = items[: min(parse_int(limit, "limit", 0), max_limit)]
    return items
