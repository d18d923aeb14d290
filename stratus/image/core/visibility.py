"""Who can see which image, as Glance decides it (in SQL for lists, in Python for one image).

An admin sees everything. Others see their project's images, public and community images, and
shared images their project is a member of (any member status for show; lists filter on
``member_status``, default ``accepted``). Community images appear in lists only when asked for
with ``visibility=community`` (or ``all``), unless the caller owns them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound
from stratus.image.models import Image, ImageMember


def member_clause(project_id: str | None, member_status: str) -> sa.ColumnElement[bool]:
    """The image is shared and ``project_id`` is a member (with ``member_status`` unless ``all``)."""
    cond = sa.and_(ImageMember.image_id == Image.id, ImageMember.member == project_id)
    if member_status != "all":
        cond = sa.and_(cond, ImageMember.status == member_status)
    return sa.and_(Image.visibility == "shared", sa.exists().where(cond))


def list_clause(ctx: RequestContext, visibility: str | None, member_status: str) -> sa.ColumnElement[bool]:
    """The images a list call shows before the other filters."""
    if ctx.is_admin:
        return sa.true() if visibility in (None, "all") else Image.visibility == visibility
    own = Image.owner == ctx.project_id if ctx.project_id else sa.false()
    shared = member_clause(ctx.project_id, member_status) if ctx.project_id else sa.false()
    public = Image.visibility == "public"
    community = Image.visibility == "community"
    if visibility is None:
        return sa.or_(own, public, shared)
    if visibility == "all":
        return sa.or_(own, public, community, shared)
    if visibility == "public":
        return public
    if visibility == "community":
        return community
    if visibility == "shared":
        return sa.and_(Image.visibility == "shared", sa.or_(own, shared))
    return sa.and_(Image.visibility == "private", own)


def can_see(session: Session, ctx: RequestContext, image: Image) -> bool:
    if ctx.is_admin or image.visibility in ("public", "community"):
        return True
    if ctx.project_id is not None and image.owner == ctx.project_id:
        return True
    if image.visibility == "shared" and ctx.project_id is not None:
        return session.get(ImageMember, (image.id, ctx.project_id)) is not None
    return False


def get_visible(session: Session, ctx: RequestContext, image_id: str, *, for_update: bool = False) -> Image:
    """The image, or NotFound when it does not exist or the caller may not see it."""
    usable = len(image_id) <= 36 and "\x00" not in image_id  # never send a malformed key to the database
    image = session.get(Image, image_id, with_for_update=for_update or None) if usable else None
    if image is None or not can_see(session, ctx, image):
        raise NotFound(f"No image found with ID {image_id}")
    return image


def target(image: Image) -> dict[str, str | None]:
    """The policy target of an image."""
    return {"project_id": image.owner, "visibility": image.visibility}
