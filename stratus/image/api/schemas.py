"""``/v2/schemas/...``: the JSON schemas of images and members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from stratus.core.context import RequestContext
from stratus.image import schema
from stratus.image.api.deps import Context

router = APIRouter(prefix="/v2/schemas")


@router.get("/image")
def image_schema(ctx: RequestContext = Context) -> dict[str, Any]:
    return schema.IMAGE_SCHEMA


@router.get("/images")
def images_schema(ctx: RequestContext = Context) -> dict[str, Any]:
    return schema.IMAGES_SCHEMA


@router.get("/member")
def member_schema(ctx: RequestContext = Context) -> dict[str, Any]:
    return schema.MEMBER_SCHEMA


@router.get("/members")
def members_schema(ctx: RequestContext = Context) -> dict[str, Any]:
    return schema.MEMBERS_SCHEMA
