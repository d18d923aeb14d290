"""Small stored documents: policies (``/v3/policies``), endpoint groups (OS-EP-FILTER), OAuth1 consumers.

Keystone keeps these for others to read and acts on none of them; so does Stratus.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest
from stratus.identity import models
from stratus.identity.resources.common import Body, merge_extra, pop_matching_id, reject_reserved

RESERVED = ("id", "links")
ENDPOINT_FILTERS = ("interface", "service_id", "region_id")
"""The endpoint attributes an endpoint group may filter on (as Keystone's OS-EP-FILTER)."""


class PolicyCreate(Body):
    type: str = Field(min_length=1, max_length=255)
    blob: str


class PolicyUpdate(Body):
    type: str = Field(default="", min_length=1, max_length=255)
    blob: str = ""


class EndpointGroupCreate(Body):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    filters: dict[str, Any]


class EndpointGroupUpdate(Body):
    name: str = Field(default="", min_length=1, max_length=255)
    description: str | None = None
    filters: dict[str, Any] = {}


class ConsumerCreate(Body):
    description: str | None = None


class ConsumerUpdate(Body):
    description: str | None = None


# -- policies ---------------------------------------------------------------------------------


def policy_dict(policy: models.Policy) -> dict[str, Any]:
    return {**(policy.extra or {}), "id": policy.id, "type": policy.type, "blob": policy.blob}


def create_policy(session: Session, body: PolicyCreate) -> models.Policy:
    extras = body.extras()
    reject_reserved(extras, RESERVED)
    policy = models.Policy(type=body.type, blob=body.blob, extra=extras)
    session.add(policy)
    session.flush()
    return policy


def update_policy(session: Session, policy: models.Policy, body: PolicyUpdate) -> None:
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, policy.id)
    reject_reserved(extras, RESERVED)
    for key, value in given.items():
        setattr(policy, key, value)
    if extras:
        policy.extra = merge_extra(policy.extra, extras)
    session.flush()


# -- endpoint groups --------------------------------------------------------------------------


def _check_filters(filters: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(filters) - set(ENDPOINT_FILTERS))
    if unknown:
        raise BadRequest(f"Invalid endpoint group filters {unknown}: use only {', '.join(ENDPOINT_FILTERS)}.")
    if not all(isinstance(v, str) for v in filters.values()):
        raise BadRequest("Endpoint group filter values must be strings.")
    if filters.get("interface", "public") not in ("public", "internal", "admin"):
        raise BadRequest(f"Invalid interface {filters['interface']!r} in the endpoint group filters.")
    return filters


def endpoint_group_dict(group: models.EndpointGroup) -> dict[str, Any]:
    return {"id": group.id, "name": group.name, "description": group.description, "filters": dict(group.filters)}


def create_endpoint_group(session: Session, body: EndpointGroupCreate) -> models.EndpointGroup:
    reject_reserved(body.extras(), RESERVED)
    group = models.EndpointGroup(
        name=body.name, description=body.description, filters=_check_filters(dict(body.filters))
    )
    session.add(group)
    session.flush()
    return group


def update_endpoint_group(session: Session, group: models.EndpointGroup, body: EndpointGroupUpdate) -> None:
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, group.id)
    reject_reserved(extras, RESERVED)
    if "filters" in given:
        given["filters"] = _check_filters(dict(given["filters"]))
    for key, value in given.items():
        setattr(group, key, value)
    session.flush()


def endpoints_in_group(session: Session, group: models.EndpointGroup) -> list[models.Endpoint]:
    stmt = sa.select(models.Endpoint).order_by(models.Endpoint.id)
    for key, value in group.filters.items():
        stmt = stmt.where(getattr(models.Endpoint, key) == value)
    return list(session.scalars(stmt))


# -- OAuth1 consumers -------------------------------------------------------------------------


def consumer_dict(consumer: models.OAuthConsumer) -> dict[str, Any]:
    """A consumer as listed and shown: its secret is only returned once, at creation."""
    return {**(consumer.extra or {}), "id": consumer.id, "description": consumer.description}


def create_consumer(session: Session, body: ConsumerCreate) -> models.OAuthConsumer:
    extras = body.extras()
    reject_reserved(extras, (*RESERVED, "secret"))
    consumer = models.OAuthConsumer(description=body.description, secret=secrets.token_hex(16), extra=extras)
    session.add(consumer)
    session.flush()
    return consumer


def update_consumer(session: Session, consumer: models.OAuthConsumer, body: ConsumerUpdate) -> None:
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, consumer.id)
    reject_reserved(extras, (*RESERVED, "secret"))
    for key, value in given.items():
        setattr(consumer, key, value)
    if extras:
        consumer.extra = merge_extra(consumer.extra, extras)
    session.flush()
