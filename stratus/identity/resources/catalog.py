"""The service catalog: regions, services and endpoints."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest, Conflict, Forbidden
from stratus.identity import models
from stratus.identity.resources.common import (
    Body,
    flush_unique,
    merge_extra,
    pop_matching_id,
    reject_reserved,
    require_ref,
)

Interface = Literal["public", "internal", "admin"]
RESERVED = ("links",)


class RegionCreate(Body):
    id: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = None
    parent_region_id: str | None = None


class RegionUpdate(Body):
    description: str | None = None
    parent_region_id: str | None = None


class ServiceCreate(Body):
    type: str = Field(min_length=1, max_length=255)
    name: str | None = Field(default=None, max_length=255)
    description: str | None = None
    enabled: bool = True


class ServiceUpdate(Body):
    type: str = Field(default="", min_length=1, max_length=255)
    name: str | None = Field(default=None, max_length=255)
    description: str | None = None
    enabled: bool = True


class EndpointCreate(Body):
    service_id: str
    interface: Interface
    url: str = Field(min_length=1)
    region_id: str | None = None
    region: str | None = None
    enabled: bool = True


class EndpointUpdate(Body):
    service_id: str = ""
    interface: Interface = "public"
    url: str = Field(default="", min_length=1)
    region_id: str | None = None
    region: str | None = None
    enabled: bool = True


def region_dict(region: models.Region) -> dict[str, Any]:
    return {
        **(region.extra or {}),
        "id": region.id,
        "description": region.description or "",
        "parent_region_id": region.parent_region_id,
    }


def service_dict(service: models.Service) -> dict[str, Any]:
    data = {**(service.extra or {}), "id": service.id, "type": service.type, "enabled": service.enabled}
    if service.name is not None:
        data["name"] = service.name
    if service.description is not None:
        data["description"] = service.description
    return data


def endpoint_dict(endpoint: models.Endpoint) -> dict[str, Any]:
    return {
        **(endpoint.extra or {}),
        "id": endpoint.id,
        "service_id": endpoint.service_id,
        "interface": endpoint.interface,
        "url": endpoint.url,
        "region_id": endpoint.region_id,
        "region": endpoint.region_id,
        "enabled": endpoint.enabled,
    }


def _check_parent(session: Session, region_id: str, parent_id: str | None) -> None:
    if parent_id is None:
        return
    require_ref(session, models.Region, parent_id, "parent_region_id")
    seen = {region_id}
    current: str | None = parent_id
    while current is not None:
        if current in seen:
            raise BadRequest(f"Setting {parent_id} as the parent of region {region_id} would create a cycle.")
        seen.add(current)
        row = session.get(models.Region, current)
        current = row.parent_region_id if row else None


def create_region(session: Session, body: RegionCreate, region_id: str | None = None) -> models.Region:
    extras = body.extras()
    reject_reserved(extras, RESERVED)
    if region_id is not None and body.id is not None and body.id != region_id:
        raise BadRequest("The region id in the body does not match the one in the URL.")
    new_id = region_id or body.id or models.new_id()
    if session.get(models.Region, new_id) is not None:
        raise Conflict(f"Conflict occurred attempting to store region - Duplicate ID, {new_id}.")
    _check_parent(session, new_id, body.parent_region_id)
    region = models.Region(
        id=new_id, description=body.description, parent_region_id=body.parent_region_id, extra=extras
    )
    session.add(region)
    flush_unique(session, "region")
    return region


def update_region(session: Session, region: models.Region, body: RegionUpdate) -> None:
    given, extras = body.given(), body.extras()
    if "id" in extras and extras.pop("id") != region.id:
        raise BadRequest("Update of id is not allowed.")
    reject_reserved(extras, RESERVED)
    if "parent_region_id" in given:
        _check_parent(session, region.id, given["parent_region_id"])
    for key, value in given.items():
        setattr(region, key, value)
    if extras:
        region.extra = merge_extra(region.extra, extras)
    session.flush()


def delete_region(session: Session, region: models.Region) -> None:
    child = session.scalar(sa.select(models.Region.id).where(models.Region.parent_region_id == region.id))
    if child is not None:
        raise Forbidden(f"Unable to delete region {region.id} because it or its child regions have endpoints.")
    used = session.scalar(sa.select(models.Endpoint.id).where(models.Endpoint.region_id == region.id))
    if used is not None:
        raise Forbidden(f"Unable to delete region {region.id} because it or its child regions have endpoints.")
    session.delete(region)
    session.flush()


def create_service(session: Session, body: ServiceCreate) -> models.Service:
    extras = body.extras()
    reject_reserved(extras, ("id", *RESERVED))
    service = models.Service(
        type=body.type, name=body.name, description=body.description, enabled=body.enabled, extra=extras
    )
    session.add(service)
    session.flush()
    return service


def update_service(session: Session, service: models.Service, body: ServiceUpdate) -> None:
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, service.id)
    reject_reserved(extras, ("id", *RESERVED))
    for key, value in given.items():
        setattr(service, key, value)
    if extras:
        service.extra = merge_extra(service.extra, extras)
    session.flush()


def delete_service(session: Session, service: models.Service) -> None:
    session.execute(sa.delete(models.Endpoint).where(models.Endpoint.service_id == service.id))
    session.delete(service)
    session.flush()


def _region_of(session: Session, region_id: str | None, region: str | None) -> str | None:
    if region_id is not None and region is not None and region_id != region:
        raise BadRequest("region and region_id differ; give only region_id.")
    chosen = region_id if region_id is not None else region
    if chosen is not None and session.get(models.Region, chosen) is None:
        # As Keystone: an endpoint in a region that does not exist yet creates the region.
        session.add(models.Region(id=chosen, extra={}))
        flush_unique(session, "region")
    return chosen


def create_endpoint(session: Session, body: EndpointCreate) -> models.Endpoint:
    extras = body.extras()
    reject_reserved(extras, ("id", *RESERVED))
    require_ref(session, models.Service, body.service_id, "service_id")
    endpoint = models.Endpoint(
        service_id=body.service_id,
        interface=body.interface,
        url=body.url,
        region_id=_region_of(session, body.region_id, body.region),
        enabled=body.enabled,
        extra=extras,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def update_endpoint(session: Session, endpoint: models.Endpoint, body: EndpointUpdate) -> None:
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, endpoint.id)
    reject_reserved(extras, ("id", *RESERVED))
    if "service_id" in given:
        require_ref(session, models.Service, given["service_id"], "service_id")
    if "region_id" in given or "region" in given:
        given["region_id"] = _region_of(session, given.get("region_id"), given.get("region"))
    given.pop("region", None)
    for key, value in given.items():
        setattr(endpoint, key, value)
    if extras:
        endpoint.extra = merge_extra(endpoint.extra, extras)
    session.flush()
