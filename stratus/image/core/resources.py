"""What the image rules work with: the database, the data store, the config and the policy."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.db import Database
from stratus.core.policy import Enforcer
from stratus.image.conf import ImageConfig
from stratus.image.models import Image
from stratus.image.stores.base import Store

COUNTED_STATUSES = ("saving", "active", "deactivated")
"""Images whose data counts against the project's storage quota."""


@dataclass
class Resources:
    db: Database
    store: Store
    conf: ImageConfig
    enforcer: Enforcer

    def storage_quota(self, project_id: str | None) -> int:
        """Bytes the project may store; 0 means unlimited."""
        if project_id is not None and project_id in self.conf.project_storage_quotas:
            return self.conf.project_storage_quotas[project_id]
        return self.conf.user_storage_quota

    def storage_used(self, session: Session, project_id: str | None, *, excluding: str) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(Image.size), 0)).where(
            Image.owner == project_id, Image.status.in_(COUNTED_STATUSES), Image.id != excluding
        )
        return int(session.execute(query).scalar_one())
