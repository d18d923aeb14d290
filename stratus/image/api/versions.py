"""Version discovery: ``GET /`` (300 Multiple Choices) and ``GET /versions`` (200)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()
CURRENT = "v2.16"
SUPPORTED = [f"v2.{minor}" for minor in range(15, -1, -1)]


def versions_document(request: Request) -> dict[str, Any]:
    href = str(request.base_url).rstrip("/") + "/v2/"
    statuses = [(CURRENT, "CURRENT"), *((v, "SUPPORTED") for v in SUPPORTED)]
    return {"versions": [{"id": v, "status": s, "links": [{"rel": "self", "href": href}]} for v, s in statuses]}


@router.get("/")
def root(request: Request) -> JSONResponse:
    return JSONResponse(versions_document(request), status_code=300)


@router.get("/versions")
def versions(request: Request) -> dict[str, Any]:
    return versions_document(request)
