"""``/v3/policies``, ``/v3/OS-EP-FILTER/endpoint_groups`` and ``/v3/OS-OAUTH1/consumers``: stored documents."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound
from stratus.identity import models
from stratus.identity.api.catalog import render_endpoint
from stratus.identity.api.common import base_url, collection
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.resources import registry
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])
GROUPS = "/v3/OS-EP-FILTER/endpoint_groups"
CONSUMERS = "/v3/OS-OAUTH1/consumers"


class PolicyCreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    policy: registry.PolicyCreate


class PolicyUpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    policy: registry.PolicyUpdate


class GroupCreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    endpoint_group: registry.EndpointGroupCreate


class GroupUpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    endpoint_group: registry.EndpointGroupUpdate


class ConsumerCreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    consumer: registry.ConsumerCreate


class ConsumerUpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    consumer: registry.ConsumerUpdate


def _get(session: Any, model: type, entity_id: str, kind: str) -> Any:
    row = session.get(model, entity_id)
    if row is None:
        raise NotFound(f"Could not find {kind}: {entity_id}.")
    return row


def _links(request: Request, path: str) -> dict[str, str]:
    return {"self": f"{base_url(request)}{path}"}


# -- policies ---------------------------------------------------------------------------------


def _policy(request: Request, policy: models.Policy) -> dict[str, Any]:
    return {**registry.policy_dict(policy), "links": _links(request, f"/v3/policies/{policy.id}")}


@router.get("/v3/policies")
def list_policies(request: Request, ctx: RequestContext = Context, type: str | None = None) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_policies")
    stmt = sa.select(models.Policy).order_by(models.Policy.id)
    if type is not None:
        stmt = stmt.where(models.Policy.type == type)
    with get_service(request).db.reader() as session:
        return collection(request, "policies", [_policy(request, p) for p in session.scalars(stmt)])


@router.post("/v3/policies", status_code=201)
def create_policy(request: Request, body: PolicyCreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_policy")
    with get_service(request).db.session() as session:
        return {"policy": _policy(request, registry.create_policy(session, body.policy))}


@router.get("/v3/policies/{policy_id}")
def get_policy(request: Request, policy_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_policy")
    with get_service(request).db.reader() as session:
        return {"policy": _policy(request, _get(session, models.Policy, policy_id, "policy"))}


@router.patch("/v3/policies/{policy_id}")
def update_policy(request: Request, policy_id: str, body: PolicyUpdateBody, ctx: RequestContext = Context) -> dict:
    enforce(request, ctx, "identity:update_policy")
    with get_service(request).db.session() as session:
        policy = _get(session, models.Policy, policy_id, "policy")
        registry.update_policy(session, policy, body.policy)
        return {"policy": _policy(request, policy)}


@router.delete("/v3/policies/{policy_id}", status_code=204)
def delete_policy(request: Request, policy_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_policy")
    with get_service(request).db.session() as session:
        session.delete(_get(session, models.Policy, policy_id, "policy"))
    return Response(status_code=204)


# -- endpoint groups --------------------------------------------------------------------------


def _group(request: Request, group: models.EndpointGroup) -> dict[str, Any]:
    return {**registry.endpoint_group_dict(group), "links": _links(request, f"{GROUPS}/{group.id}")}


@router.get(GROUPS)
def list_endpoint_groups(request: Request, ctx: RequestContext = Context, name: str | None = None) -> dict:
    enforce(request, ctx, "identity:list_endpoint_groups")
    stmt = sa.select(models.EndpointGroup).order_by(models.EndpointGroup.id)
    if name is not None:
        stmt = stmt.where(models.EndpointGroup.name == name)
    with get_service(request).db.reader() as session:
        return collection(request, "endpoint_groups", [_group(request, g) for g in session.scalars(stmt)])


@router.post(GROUPS, status_code=201)
def create_endpoint_group(request: Request, body: GroupCreateBody, ctx: RequestContext = Context) -> dict:
    enforce(request, ctx, "identity:create_endpoint_group")
    with get_service(request).db.session() as session:
        return {"endpoint_group": _group(request, registry.create_endpoint_group(session, body.endpoint_group))}


@router.get(GROUPS + "/{group_id}")
def get_endpoint_group(request: Request, group_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_endpoint_group")
    with get_service(request).db.reader() as session:
        return {"endpoint_group": _group(request, _get(session, models.EndpointGroup, group_id, "endpoint group"))}


@router.head(GROUPS + "/{group_id}")
def check_endpoint_group(request: Request, group_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:get_endpoint_group")
    with get_service(request).db.reader() as session:
        _get(session, models.EndpointGroup, group_id, "endpoint group")
    return Response(status_code=200)


@router.get(GROUPS + "/{group_id}/endpoints")
def list_endpoints_in_group(request: Request, group_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_endpoints_associated_with_endpoint_group")
    with get_service(request).db.reader() as session:
        group = _get(session, models.EndpointGroup, group_id, "endpoint group")
        items = [render_endpoint(request, e) for e in registry.endpoints_in_group(session, group)]
        return collection(request, "endpoints", items)


@router.patch(GROUPS + "/{group_id}")
def update_endpoint_group(
    request: Request, group_id: str, body: GroupUpdateBody, ctx: RequestContext = Context
) -> dict:
    enforce(request, ctx, "identity:update_endpoint_group")
    with get_service(request).db.session() as session:
        group = _get(session, models.EndpointGroup, group_id, "endpoint group")
        registry.update_endpoint_group(session, group, body.endpoint_group)
        return {"endpoint_group": _group(request, group)}


@router.delete(GROUPS + "/{group_id}", status_code=204)
def delete_endpoint_group(request: Request, group_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_endpoint_group")
    with get_service(request).db.session() as session:
        session.delete(_get(session, models.EndpointGroup, group_id, "endpoint group"))
    return Response(status_code=204)


# -- OAuth1 consumers -------------------------------------------------------------------------


def _consumer(request: Request, consumer: models.OAuthConsumer) -> dict[str, Any]:
    return {**registry.consumer_dict(consumer), "links": _links(request, f"{CONSUMERS}/{consumer.id}")}


@router.get(CONSUMERS)
def list_consumers(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_consumers")
    stmt = sa.select(models.OAuthConsumer).order_by(models.OAuthConsumer.id)
    with get_service(request).db.reader() as session:
        return collection(request, "consumers", [_consumer(request, c) for c in session.scalars(stmt)])


@router.post(CONSUMERS, status_code=201)
def create_consumer(request: Request, body: ConsumerCreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_consumer")
    with get_service(request).db.session() as session:
        consumer = registry.create_consumer(session, body.consumer)
        return {"consumer": {**_consumer(request, consumer), "secret": consumer.secret}}


@router.get(CONSUMERS + "/{consumer_id}")
def get_consumer(request: Request, consumer_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_consumer")
    with get_service(request).db.reader() as session:
        return {"consumer": _consumer(request, _get(session, models.OAuthConsumer, consumer_id, "consumer"))}


@router.patch(CONSUMERS + "/{consumer_id}")
def update_consumer(
    request: Request, consumer_id: str, body: ConsumerUpdateBody, ctx: RequestContext = Context
) -> dict[str, Any]:
    enforce(request, ctx, "identity:update_consumer")
    with get_service(request).db.session() as session:
        consumer = _get(session, models.OAuthConsumer, consumer_id, "consumer")
        registry.update_consumer(session, consumer, body.consumer)
        return {"consumer": _consumer(request, consumer)}


@router.delete(CONSUMERS + "/{consumer_id}", status_code=204)
def delete_consumer(request: Request, consumer_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_consumer")
    with get_service(request).db.session() as session:
        session.delete(_get(session, models.OAuthConsumer, consumer_id, "consumer"))
    return Response(status_code=204)
