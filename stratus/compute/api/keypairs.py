"""``/v2.1/os-keypairs``: per-user key pairs, imported or (before 2.92) generated."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.api.views import base_url, iso_us
from stratus.compute.core.base import require_dict
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest

router = APIRouter(prefix="/v2.1/os-keypairs")


def _key(k: Any, version: Version, *, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"name": k.name, "public_key": k.public_key, "fingerprint": k.fingerprint}
    if version >= "2.2":
        body["type"] = k.type
    if full:
        body.update(
            {
                "user_id": k.user_id,
                "created_at": iso_us(k.created_at),
                "deleted": False,
                "deleted_at": None,
                "updated_at": None,
                "id": k.id,
            }
        )
    return body


def _user(params: dict[str, str], version: Version) -> str | None:
    user_id = params.get("user_id")
    if user_id is not None and version < "2.10":
        return None
    return user_id


@router.get("")
def list_keypairs(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    paging = version >= "2.35"
    limit, marker = (params.get("limit"), params.get("marker")) if paging else (None, None)
    keys = get_service(request).keypairs.list(ctx, _user(params, version), limit, marker)
    doc: dict[str, Any] = {"keypairs": [{"keypair": _key(k, version)} for k in keys]}
    if paging and limit is not None and keys and len(keys) >= int(limit):
        doc["keypairs_links"] = [
            {"rel": "next", "href": f"{base_url(request)}/v2.1/os-keypairs?limit={limit}&marker={keys[-1].name}"}
        ]
    return doc


@router.post("")
def create_keypair(
    request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> JSONResponse:
    data = dict(require_dict(body, "keypair"))
    if "type" in data and version < "2.2":
        raise BadRequest("Additional properties are not allowed ('type' was unexpected)")
    if "user_id" in data and version < "2.10":
        raise BadRequest("Additional properties are not allowed ('user_id' was unexpected)")
    key, private = get_service(request).keypairs.create(ctx, data)
    out = _key(key, version)
    out["user_id"] = key.user_id
    if private is not None:
        out["private_key"] = private
    return JSONResponse({"keypair": out}, status_code=201 if version >= "2.2" else 200)


@router.get("/{name}")
def show_keypair(
    name: str,
    request: Request,
    ctx: RequestContext = Context,
    params: dict[str, str] = Query,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    key = get_service(request).keypairs.show(ctx, name, _user(params, version))
    return {"keypair": _key(key, version, full=True)}


@router.delete("/{name}")
def delete_keypair(
    name: str,
    request: Request,
    ctx: RequestContext = Context,
    params: dict[str, str] = Query,
    version: Version = ApiVersion,
) -> Response:
    get_service(request).keypairs.delete(ctx, name, _user(params, version))
    return Response(status_code=204 if version >= "2.2" else 202)
