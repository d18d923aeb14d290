"""Version discovery: ``GET /`` (all versions) and ``GET /v2.1`` (this one), no token needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.microversion import MAX, MIN

router = APIRouter()


def _v21(request: Request) -> dict[str, Any]:
    href = str(request.base_url).rstrip("/") + "/v2.1/"
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(MAX),
        "min_version": str(MIN),
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": href}],
    }


@router.get("/")
def root(request: Request) -> dict[str, Any]:
    return {"versions": [_v21(request)]}


@router.get("/v2.1")
@router.get("/v2.1/")
def v21(request: Request) -> dict[str, Any]:
    version = _v21(request)
    version["links"].append({"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"})
    version["media-types"] = [
        {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
    ]
    return {"version": version}
