"""Version discovery: ``GET /`` (300, every version) and ``GET /v3`` (this version)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from stratus.identity.api.common import base_url

router = APIRouter()

VERSION_ID = "v3.14"
UPDATED = "2026-11-28T00:00:00Z"


def version_document(request: Request) -> dict[str, Any]:
    return {
        "id": VERSION_ID,
        "status": "stable",
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{base_url(request)}/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


@router.get("/")
def all_versions(request: Request) -> JSONResponse:
    return JSONResponse({"versions": {"values": [version_document(request)]}}, status_code=300)


@router.get("/v3")
@router.get("/v3/")
def this_version(request: Request) -> dict[str, Any]:
    return {"version": version_document(request)}
