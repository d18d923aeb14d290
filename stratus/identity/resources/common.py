"""Shared pieces of the resource modules: request-body base model, lookups, extra attributes."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest, NotFound
from stratus.identity import models
from stratus.identity.resources.text import has_nul

ModelT = TypeVar("ModelT")

DEFAULT_DOMAIN_ID = "default"

KINDS: dict[type, str] = {
    models.Domain: "domain",
    models.Project: "project",
    models.User: "user",
    models.Group: "group",
    models.Role: "role",
    models.Region: "region",
    models.Service: "service",
    models.Endpoint: "endpoint",
}

Name = Field(min_length=1, max_length=255)
"""Keystone's rule for names: a non-empty string of at most 255 characters."""
OptionalName = Field(default="", min_length=1, max_length=255)
"""The same rule for a PATCH, where the name may be left out."""
ShortName = Field(min_length=1, max_length=64, pattern=r"\S")
"""Keystone's rule for project and domain names: 1-64 characters, not all blank."""
OptionalShortName = Field(default="", min_length=1, max_length=64, pattern=r"\S")


class Body(BaseModel):
    """An entity in a request body: strict types, unknown attributes kept (Keystone's ``extra``)."""

    model_config = ConfigDict(strict=True, extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if has_nul(data):
            raise ValueError("NUL characters, NaN and infinity are not allowed in any attribute")
        return data

    def given(self) -> dict[str, Any]:
        """Declared fields the client actually sent (for PATCH)."""
        return {k: getattr(self, k) for k in self.model_fields_set if k in type(self).model_fields}

    def extras(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def get_or_404(session: Session, model: type[ModelT], entity_id: str) -> ModelT:
    """The row with this id, or NotFound in Keystone's words ("Could not find user: x.")."""
    row = session.get(model, entity_id)
    if row is None:
        raise NotFound(f"Could not find {KINDS.get(model, model.__name__.lower())}: {entity_id}.")
    return row


def require_ref(session: Session, model: type[ModelT], entity_id: str, field: str) -> ModelT:
    """Like get_or_404 for an id given in a request body: an unknown reference is a 400."""
    row = session.get(model, entity_id)
    if row is None:
        raise BadRequest(f"Invalid {field}: could not find {KINDS.get(model, 'entity')} {entity_id}.")
    return row


def merge_extra(current: dict[str, Any] | None, updates: dict[str, Any]) -> dict[str, Any]:
    """Extra attributes after a PATCH: new values replace old ones."""
    return {**(current or {}), **updates}


def pop_matching_id(extras: dict[str, Any], own_id: str) -> None:
    """A PATCH body may repeat the entity's own id (Keystone allows it); any other id is a 400."""
    if "id" in extras and extras.pop("id") != own_id:
        raise BadRequest("Cannot change the id of an entity.")


def reject_reserved(extras: dict[str, Any], reserved: tuple[str, ...]) -> None:
    """Refuse attributes the server owns (e.g. ``id``) instead of silently storing them."""
    for key in reserved:
        if key in extras:
            raise BadRequest(f"Invalid input for field '{key}': it cannot be set.")


def flush_unique(session: Session, what: str) -> None:
    """Flush, turning a unique-constraint violation into Keystone's 409."""
    from stratus.core.exceptions import Conflict

    try:
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise Conflict(f"Conflict occurred attempting to store {what}. Duplicate entry.") from exc
