"""``GET /v2/info/import``: the interoperable import API is not offered (no import methods)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from stratus.core.context import RequestContext
from stratus.image.api.deps import Context

router = APIRouter(prefix="/v2/info")


@router.get("/import")
def import_info(ctx: RequestContext = Context) -> dict[str, Any]:
    return {"import-methods": {"description": "Import methods available.", "type": "array", "value": []}}
