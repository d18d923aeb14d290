"""Image and member documents as the Image API v2 returns them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from stratus.image.models import Image, ImageMember


def timestamp(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def image_view(image: Image) -> dict[str, Any]:
    doc: dict[str, Any] = {prop.name: prop.value for prop in image.properties}
    doc.update(
        id=image.id,
        name=image.name,
        status=image.status,
        visibility=image.visibility,
        protected=image.protected,
        os_hidden=image.os_hidden,
        owner=image.owner,
        checksum=image.checksum,
        os_hash_algo=image.os_hash_algo,
        os_hash_value=image.os_hash_value,
        size=image.size,
        virtual_size=image.virtual_size,
        min_disk=image.min_disk,
        min_ram=image.min_ram,
        disk_format=image.disk_format,
        container_format=image.container_format,
        created_at=timestamp(image.created_at),
        updated_at=timestamp(image.updated_at),
        tags=[tag.value for tag in image.tags],
        self=f"/v2/images/{image.id}",
        file=f"/v2/images/{image.id}/file",
        schema="/v2/schemas/image",
    )
    return doc


def member_view(member: ImageMember) -> dict[str, Any]:
    return {
        "image_id": member.image_id,
        "member_id": member.member,
        "status": member.status,
        "created_at": timestamp(member.created_at),
        "updated_at": timestamp(member.updated_at),
        "schema": "/v2/schemas/member",
    }
