"""The catalog's admin API: ``/v3/regions``, ``/v3/services``, ``/v3/endpoints``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest
from stratus.identity import models
from stratus.identity.api.common import collection, entity_links
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.resources import catalog
from stratus.identity.resources.common import get_or_404
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])


class RegionCreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    region: catalog.RegionCreate


class RegionUpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    region: catalog.RegionUpdate


class ServiceCreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    service: catalog.ServiceCreate


class ServiceUpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    service: catalog.ServiceUpdate


class EndpointCreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    endpoint: catalog.EndpointCreate


class EndpointUpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    endpoint: catalog.EndpointUpdate


def _region(request: Request, region: models.Region) -> dict[str, Any]:
    return {**catalog.region_dict(region), "links": entity_links(request, f"regions/{region.id}")}


def _service(request: Request, service: models.Service) -> dict[str, Any]:
    return {**catalog.service_dict(service), "links": entity_links(request, f"services/{service.id}")}


def render_endpoint(request: Request, endpoint: models.Endpoint) -> dict[str, Any]:
    return {**catalog.endpoint_dict(endpoint), "links": entity_links(request, f"endpoints/{endpoint.id}")}


# -- regions ----------------------------------------------------------------------------------


@router.get("/v3/regions")
def list_regions(request: Request, ctx: RequestContext = Context, parent_region_id: str | None = None) -> dict:
    enforce(request, ctx, "identity:list_regions")
    stmt = sa.select(models.Region).order_by(models.Region.id)
    if parent_region_id is not None:
        stmt = stmt.where(models.Region.parent_region_id == parent_region_id)
    with get_service(request).db.reader() as session:
        return collection(request, "regions", [_region(request, r) for r in session.scalars(stmt)])


@router.post("/v3/regions", status_code=201)
def create_region(request: Request, body: RegionCreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_region")
    with get_service(request).db.session() as session:
        return {"region": _region(request, catalog.create_region(session, body.region))}


@router.put("/v3/regions/{region_id}", status_code=201)
def create_region_with_id(
    request: Request, region_id: str, body: RegionCreateBody, ctx: RequestContext = Context
) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_region")
    with get_service(request).db.session() as session:
        return {"region": _region(request, catalog.create_region(session, body.region, region_id))}


@router.get("/v3/regions/{region_id}")
def get_region(request: Request, region_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_region")
    with get_service(request).db.reader() as session:
        return {"region": _region(request, get_or_404(session, models.Region, region_id))}


@router.patch("/v3/regions/{region_id}")
def update_region(request: Request, region_id: str, body: RegionUpdateBody, ctx: RequestContext = Context) -> dict:
    enforce(request, ctx, "identity:update_region")
    with get_service(request).db.session() as session:
        region = get_or_404(session, models.Region, region_id)
        catalog.update_region(session, region, body.region)
        return {"region": _region(request, region)}


@router.delete("/v3/regions/{region_id}", status_code=204)
def delete_region(request: Request, region_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_region")
    with get_service(request).db.session() as session:
        catalog.delete_region(session, get_or_404(session, models.Region, region_id))
    return Response(status_code=204)


# -- services ---------------------------------------------------------------------------------


@router.get("/v3/services")
def list_services(
    request: Request, ctx: RequestContext = Context, type: str | None = None, name: str | None = None
) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_services")
    stmt = sa.select(models.Service).order_by(models.Service.type, models.Service.id)
    if type is not None:
        stmt = stmt.where(models.Service.type == type)
    if name is not None:
        stmt = stmt.where(models.Service.name == name)
    with get_service(request).db.reader() as session:
        return collection(request, "services", [_service(request, s) for s in session.scalars(stmt)])


@router.post("/v3/services", status_code=201)
def create_service(request: Request, body: ServiceCreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_service")
    with get_service(request).db.session() as session:
        return {"service": _service(request, catalog.create_service(session, body.service))}


@router.get("/v3/services/{service_id}")
def get_service_(request: Request, service_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_service")
    with get_service(request).db.reader() as session:
        return {"service": _service(request, get_or_404(session, models.Service, service_id))}


@router.patch("/v3/services/{service_id}")
def update_service(request: Request, service_id: str, body: ServiceUpdateBody, ctx: RequestContext = Context) -> dict:
    enforce(request, ctx, "identity:update_service")
    with get_service(request).db.session() as session:
        service = get_or_404(session, models.Service, service_id)
        catalog.update_service(session, service, body.service)
        return {"service": _service(request, service)}


@router.delete("/v3/services/{service_id}", status_code=204)
def delete_service(request: Request, service_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_service")
    with get_service(request).db.session() as session:
        catalog.delete_service(session, get_or_404(session, models.Service, service_id))
    return Response(status_code=204)


# -- endpoints --------------------------------------------------------------------------------


@router.get("/v3/endpoints")
def list_endpoints(
    request: Request,
    ctx: RequestContext = Context,
    interface: str | None = None,
    service_id: str | None = None,
    region_id: str | None = None,
) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_endpoints")
    if interface is not None and interface not in ("public", "internal", "admin"):
        raise BadRequest(f"Invalid interface {interface!r}: expected public, internal or admin.")
    stmt = sa.select(models.Endpoint).order_by(models.Endpoint.service_id, models.Endpoint.interface)
    if interface is not None:
        stmt = stmt.where(models.Endpoint.interface == interface)
    if service_id is not None:
        stmt = stmt.where(models.Endpoint.service_id == service_id)
    if region_id is not None:
        stmt = stmt.where(models.Endpoint.region_id == region_id)
    with get_service(request).db.reader() as session:
        return collection(request, "endpoints", [render_endpoint(request, e) for e in session.scalars(stmt)])


@router.post("/v3/endpoints", status_code=201)
def create_endpoint(request: Request, body: EndpointCreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_endpoint")
    with get_service(request).db.session() as session:
        return {"endpoint": render_endpoint(request, catalog.create_endpoint(session, body.endpoint))}


@router.get("/v3/endpoints/{endpoint_id}")
def get_endpoint(request: Request, endpoint_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_endpoint")
    with get_service(request).db.reader() as session:
        return {"endpoint": render_endpoint(request, get_or_404(session, models.Endpoint, endpoint_id))}


@router.patch("/v3/endpoints/{endpoint_id}")
def update_endpoint(
    request: Request, endpoint_id: str, body: EndpointUpdateBody, ctx: RequestContext = Context
) -> dict[str, Any]:
    enforce(request, ctx, "identity:update_endpoint")
    with get_service(request).db.session() as session:
        endpoint = get_or_404(session, models.Endpoint, endpoint_id)
        catalog.update_endpoint(session, endpoint, body.endpoint)
        return {"endpoint": render_endpoint(request, endpoint)}


@router.delete("/v3/endpoints/{endpoint_id}", status_code=204)
def delete_endpoint(request: Request, endpoint_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_endpoint")
    with get_service(request).db.session() as session:
        session.delete(get_or_404(session, models.Endpoint, endpoint_id))
    return Response(status_code=204)
