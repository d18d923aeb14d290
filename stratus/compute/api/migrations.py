"""``/v2.1/os-migrations``: every move of every server (admin), fields by microversion."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import ApiVersion, Context, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.api.views import base_url, iso_us
from stratus.compute.models import Migration
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/os-migrations")


def _migration(m: Migration, version: Version) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": m.id,
        "instance_uuid": m.instance_uuid,
        "source_compute": m.source_compute,
        "source_node": m.source_node,
        "dest_compute": m.dest_compute,
        "dest_node": m.dest_node,
        "dest_host": m.dest_host,
        "status": m.status,
        "old_instance_type_id": m.old_instance_type_id,
        "new_instance_type_id": m.new_instance_type_id,
        "created_at": iso_us(m.created_at),
        "updated_at": iso_us(m.updated_at),
    }
    if version >= "2.23":
        body["migration_type"] = m.migration_type
    if version >= "2.59":
        body["uuid"] = m.uuid
    return body


@router.get("")
def list_migrations(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    found = get_service(request).migrations.list(ctx, params, version)
    doc: dict[str, Any] = {"migrations": [_migration(m, version) for m in found]}
    limit = params.get("limit")
    if version >= "2.59" and limit is not None and found and len(found) >= int(limit):
        query = "&".join(f"{k}={v}" for k, v in {**params, "marker": found[-1].uuid}.items())
        doc["migrations_links"] = [{"rel": "next", "href": f"{base_url(request)}/v2.1/os-migrations?{query}"}]
    return doc
