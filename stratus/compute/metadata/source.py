"""What the metadata API knows of one instance, read from compute's tables in one read transaction."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from stratus.compute import models
from stratus.core.db import Database


@dataclass(frozen=True)
class InstanceData:
    uuid: str
    name: str
    hostname: str
    project_id: str
    image_ref: str
    flavor_name: str
    availability_zone: str
    launch_index: int
    reservation_id: str
    key_name: str | None
    key_data: str | None
    key_type: str
    user_data: bytes | None
    metadata: dict[str, str] = field(default_factory=dict)
    security_groups: list[str] = field(default_factory=list)
    network_info: list[dict[str, Any]] = field(default_factory=list)


def decode_user_data(raw: str | None) -> bytes | None:
    """The API stores user data base64-encoded (as Nova does); guests get the decoded bytes."""
    if raw is None:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw.encode()


def load_instance(db: Database, instance_id: str, *, default_zone: str) -> InstanceData | None:
    """The live (not deleted) instance ``instance_id``, or None."""
    with db.reader() as session:
        inst = session.get(models.Instance, instance_id)
        if inst is None or inst.deleted:
            return None
        rows = session.scalars(
            sa.select(models.InstanceMetadata).where(models.InstanceMetadata.instance_uuid == inst.uuid)
        )
        metadata = {row.key: row.value for row in rows}
        key_type = "ssh"
        if inst.key_name:
            keypair = session.scalars(
                sa.select(models.KeyPair).where(
                    models.KeyPair.user_id == inst.user_id, models.KeyPair.name == inst.key_name
                )
            ).first()
            if keypair is not None:
                key_type = keypair.type
        return InstanceData(
            uuid=inst.uuid,
            name=inst.display_name,
            hostname=inst.hostname,
            project_id=inst.project_id,
            image_ref=inst.image_ref or "",
            flavor_name=str((inst.flavor or {}).get("name", "")),
            availability_zone=inst.availability_zone or default_zone,
            launch_index=inst.launch_index,
            reservation_id=inst.reservation_id,
            key_name=inst.key_name,
            key_data=inst.key_data,
            key_type=key_type,
            user_data=decode_user_data(inst.user_data),
            metadata=metadata,
            security_groups=[str(g.get("name", "")) for g in inst.security_groups or [] if isinstance(g, dict)],
            network_info=[p for p in inst.network_info or [] if isinstance(p, dict)],
        )
