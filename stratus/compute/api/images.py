"""``/v2.1/images``: Nova's image proxy (to 2.35) and image metadata proxy (to 2.38), over the image API.

Lists are filtered like Nova's (name, status, server, type, changes-since, minRam, minDisk) and paged
with limit/marker; metadata is the image's own properties, changed with JSON patches.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api import views
from stratus.compute.api.deps import ApiVersion, Context, JsonBody, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core import quotas
from stratus.compute.core.base import paginate, parse_int
from stratus.compute.core.images import properties
from stratus.compute.core.servers import check_metadata
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, NotFound

router = APIRouter(prefix="/v2.1/images")
STATUS = {
    "active": "ACTIVE",
    "queued": "SAVING",
    "saving": "SAVING",
    "importing": "SAVING",
    "uploading": "SAVING",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
    "killed": "ERROR",
}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}


def _check_version(version: Version, maximum: str = "2.35") -> None:
    if not version < _next(maximum):
        raise NotFound("The resource could not be found.")


def _next(version: str) -> str:
    major, minor = version.split(".")
    return f"{major}.{int(minor) + 1}"


def _links(request: Request, image_id: str) -> list[dict[str, str]]:
    image_url = get_service(request).deps.images.image_url.rstrip("/")
    return [
        *views.links(request, "images", image_id),
        {"rel": "alternate", "type": "application/vnd.openstack.image", "href": f"{image_url}/images/{image_id}"},
    ]


def _date(value: str | None) -> str | None:
    if not value:
        return None
    return _parse(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _detail(request: Request, image: dict[str, Any]) -> dict[str, Any]:
    meta = properties(image)
    body: dict[str, Any] = {
        "id": image["id"],
        "name": image.get("name"),
        "minRam": int(image.get("min_ram") or 0),
        "minDisk": int(image.get("min_disk") or 0),
        "metadata": meta,
        "created": _date(image.get("created_at")),
        "updated": _date(image.get("updated_at")),
        "status": STATUS.get(image.get("status") or "", "UNKNOWN"),
        "progress": PROGRESS.get(image.get("status") or "", 0),
        "OS-EXT-IMG-SIZE:size": image.get("size"),
        "links": _links(request, image["id"]),
    }
    server = meta.get("instance_uuid")
    if server is not None:
        body["server"] = {"id": server, "links": views.links(request, "servers", server)}
    auto = meta.get("auto_disk_config")
    if auto is not None:
        body["OS-DCF:diskConfig"] = "AUTO" if str(auto).lower() in ("true", "1", "yes", "on") else "MANUAL"
    return body


def _matches(image: dict[str, Any], params: dict[str, str]) -> bool:
    meta = properties(image)
    if "name" in params and image.get("name") != params["name"]:
        return False
    if "status" in params:
        wanted = params["status"].lower()
        if wanted not in ((image.get("status") or "").lower(), STATUS.get(image.get("status") or "", "").lower()):
            return False
    if "server" in params and meta.get("instance_uuid") != params["server"].rstrip("/").rsplit("/", 1)[-1]:
        return False
    if "type" in params and meta.get("image_type") != params["type"]:
        return False
    if "minRam" in params and int(image.get("min_ram") or 0) < parse_int(params["minRam"], "minRam", 0):
        return False
    if "minDisk" in params and int(image.get("min_disk") or 0) < parse_int(params["minDisk"], "minDisk", 0):
        return False
    if "changes-since" in params:
        try:
            since = _parse(params["changes-since"])
        except ValueError:
            raise BadRequest(f"Invalid changes-since value: {params['changes-since']}") from None
        if not image.get("updated_at") or _parse(image["updated_at"]) < since.replace(microsecond=0):
            return False
    return True


def _list(request: Request, ctx: RequestContext, params: dict[str, str]) -> list[dict[str, Any]]:
    service = get_service(request)
    service.enforcer.enforce(ctx, "os_compute_api:images", {"project_id": ctx.project_id})
    images = [i for i in service.deps.images.proxy_list(ctx) if _matches(i, params)]
    return paginate(images, lambda i: i["id"], params.get("limit"), params.get("marker"), service.conf.max_limit)


@router.get("")
def list_images(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    images = [
        {"id": i["id"], "name": i.get("name"), "links": _links(request, i["id"])} for i in _list(request, ctx, params)
    ]
    doc: dict[str, Any] = {"images": images}
    next_links = views.collection_links(request, "images", images, params.get("limit"))
    if next_links:
        doc["images_links"] = next_links
    return doc


@router.get("/detail")
def list_images_detail(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    images = [_detail(request, i) for i in _list(request, ctx, params)]
    doc: dict[str, Any] = {"images": images}
    next_links = views.collection_links(request, "images/detail", images, params.get("limit"))
    if next_links:
        doc["images_links"] = next_links
    return doc


def _get(request: Request, ctx: RequestContext, image_id: str) -> dict[str, Any]:
    service = get_service(request)
    service.enforcer.enforce(ctx, "os_compute_api:images", {"project_id": ctx.project_id})
    return service.deps.images.proxy_get(ctx, image_id)


@router.get("/{image_id}")
def show_image(
    image_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    return {"image": _detail(request, _get(request, ctx, image_id))}


@router.delete("/")
def delete_image_without_id(request: Request, ctx: RequestContext = Context) -> Response:
    """``DELETE /images/`` names no image: 404 (not a redirect to the collection)."""
    raise NotFound("Image could not be found.")


@router.delete("/{image_id}", status_code=204)
def delete_image(
    image_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    _check_version(version)
    _get(request, ctx, image_id)
    get_service(request).deps.images.proxy_delete(ctx, image_id)
    return Response(status_code=204)


# metadata


def _check_quota(request: Request, ctx: RequestContext, count: int) -> None:
    service = get_service(request)
    with service.db.reader() as session:
        limit = quotas.limits(session, service.conf, ctx.project_id or "")["metadata_items"]
    quotas.check_delta({"metadata_items": limit}, {"metadata_items": 0}, {"metadata_items": count})


def _meta_body(body: Any, key: str) -> dict[str, str]:
    if not isinstance(body, dict) or key not in body:
        raise BadRequest(f"Malformed request body: '{key}' is a required property")
    return check_metadata(body[key], key)


@router.get("/{image_id}/metadata")
def list_metadata(
    image_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version, "2.38")
    return {"metadata": properties(_get(request, ctx, image_id))}


def _patch(request: Request, ctx: RequestContext, image: dict[str, Any], new: dict[str, str], drop: list[str]) -> Any:
    ops: list[dict[str, Any]] = [{"op": "remove", "path": f"/{k}"} for k in drop]
    ops += [{"op": "add", "path": f"/{k}", "value": v} for k, v in new.items()]
    if not ops:
        return image
    return get_service(request).deps.images.proxy_patch(ctx, image["id"], ops)


@router.post("/{image_id}/metadata")
def update_metadata(
    image_id: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    _check_version(version, "2.38")
    meta = _meta_body(body, "metadata")
    image = _get(request, ctx, image_id)
    _check_quota(request, ctx, len({**properties(image), **meta}))
    return {"metadata": properties(_patch(request, ctx, image, meta, []))}


@router.put("/{image_id}/metadata")
def replace_metadata(
    image_id: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    _check_version(version, "2.38")
    meta = _meta_body(body, "metadata")
    _check_quota(request, ctx, len(meta))
    image = _get(request, ctx, image_id)
    drop = [k for k in properties(image) if k not in meta]
    return {"metadata": properties(_patch(request, ctx, image, meta, drop))}


@router.get("/{image_id}/metadata/{key}")
def show_metadata_item(
    image_id: str, key: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version, "2.38")
    meta = properties(_get(request, ctx, image_id))
    if key not in meta:
        raise NotFound(f"Image {image_id} has no metadata with key {key}.")
    return {"meta": {key: meta[key]}}


@router.put("/{image_id}/metadata/{key}")
def set_metadata_item(
    image_id: str,
    key: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    _check_version(version, "2.38")
    meta = _meta_body(body, "meta")
    if len(meta) != 1 or key not in meta:
        raise BadRequest("Request body and URI mismatch")
    image = _get(request, ctx, image_id)
    _check_quota(request, ctx, len({**properties(image), **meta}))
    _patch(request, ctx, image, meta, [])
    return {"meta": meta}


@router.delete("/{image_id}/metadata/{key}", status_code=204)
def delete_metadata_item(
    image_id: str, key: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    _check_version(version, "2.38")
    image = _get(request, ctx, image_id)
    if key not in properties(image):
        raise NotFound(f"Image {image_id} has no metadata with key {key}.")
    _patch(request, ctx, image, {}, [key])
    return Response(status_code=204)
