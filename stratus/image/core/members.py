"""Image members: the owner shares a ``shared`` image with a project, which accepts or rejects it.

The owner sees every member; a member project sees only its own membership. Only the member
project changes its status (``pending`` -> ``accepted`` / ``rejected``), only the owner adds
and removes members.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from stratus.image.core.resources import Resources
from stratus.image.core.views import member_view
from stratus.image.core.visibility import get_visible
from stratus.image.models import Image, ImageMember
from stratus.image.schema import MEMBER_STATUSES


def _is_owner(ctx: RequestContext, image: Image) -> bool:
    return ctx.is_admin or (ctx.project_id is not None and ctx.project_id == image.owner)


def _require_shared(image: Image) -> None:
    if image.visibility != "shared":
        raise Forbidden("Only shared images have members.")


class MemberManager:
    def __init__(self, res: Resources):
        self.res = res

    def _enforce(self, ctx: RequestContext, rule: str, image: Image, member_id: str | None = None) -> None:
        self.res.enforcer.enforce(ctx, f"image:{rule}", {"project_id": image.owner, "member_id": member_id})

    def _get_member(self, session: Session, ctx: RequestContext, image: Image, member_id: str) -> ImageMember:
        member = session.get(ImageMember, (image.id, member_id)) if "\x00" not in member_id else None
        if member is None or not (_is_owner(ctx, image) or member_id == ctx.project_id):
            raise NotFound(f"Member {member_id} not found for image {image.id}.")
        return member

    def add(self, ctx: RequestContext, image_id: str, body: Any) -> dict[str, Any]:
        member_id = body.get("member") if isinstance(body, dict) else None
        if not isinstance(member_id, str) or not member_id or len(member_id) > 255 or "\x00" in member_id:
            raise BadRequest('The request body must be {"member": "<project id>"}.')
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id, for_update=True)
            self._enforce(ctx, "add_member", image, member_id)
            _require_shared(image)
            if session.get(ImageMember, (image_id, member_id)) is not None:
                raise Conflict(f"Member {member_id} already exists for image {image_id}.")
            count = session.execute(sa.select(sa.func.count()).where(ImageMember.image_id == image_id)).scalar_one()
            if count >= self.res.conf.image_member_quota:
                raise PayloadTooLarge(f"Maximum number of members ({self.res.conf.image_member_quota}) exceeded.")
            member = ImageMember(image_id=image_id, member=member_id, status="pending")
            session.add(member)
            session.flush()
            return member_view(member)

    def list(self, ctx: RequestContext, image_id: str) -> list[dict[str, Any]]:
        with self.res.db.reader() as session:
            image = get_visible(session, ctx, image_id)
            self._enforce(ctx, "get_members", image)
            _require_shared(image)
            query = sa.select(ImageMember).where(ImageMember.image_id == image_id).order_by(ImageMember.created_at)
            if not _is_owner(ctx, image):
                query = query.where(ImageMember.member == ctx.project_id)
            return [member_view(m) for m in session.execute(query).scalars()]

    def show(self, ctx: RequestContext, image_id: str, member_id: str) -> dict[str, Any]:
        with self.res.db.reader() as session:
            image = get_visible(session, ctx, image_id)
            self._enforce(ctx, "get_member", image, member_id)
            return member_view(self._get_member(session, ctx, image, member_id))

    def update(self, ctx: RequestContext, image_id: str, member_id: str, body: Any) -> dict[str, Any]:
        status = body.get("status") if isinstance(body, dict) else None
        if status not in MEMBER_STATUSES:
            raise BadRequest(f"Invalid member status {status!r}: expected one of {', '.join(MEMBER_STATUSES)}.")
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id)
            member = self._get_member(session, ctx, image, member_id)
            self._enforce(ctx, "modify_member", image, member_id)
            member.status = status
            member.updated_at = utcnow()
            session.flush()
            return member_view(member)

    def delete(self, ctx: RequestContext, image_id: str, member_id: str) -> None:
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id)
            member = self._get_member(session, ctx, image, member_id)
            self._enforce(ctx, "delete_member", image, member_id)
            session.delete(member)
