"""Image records: create, show, list, JSON-patch update, delete, tags, deactivate/reactivate."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from stratus.image import schema
from stratus.image.core import listing, patch
from stratus.image.core.resources import Resources
from stratus.image.core.views import image_view
from stratus.image.core.visibility import get_visible, list_clause, target
from stratus.image.models import Image, ImageProperty, ImageTag

LOG = logging.getLogger(__name__)


class ImageManager:
    def __init__(self, res: Resources):
        self.res = res

    def _enforce(self, ctx: RequestContext, rule: str, image: Image | dict[str, Any]) -> None:
        self.res.enforcer.enforce(ctx, f"image:{rule}", target(image) if isinstance(image, Image) else image)

    def _check_quotas(self, state: patch.EditableImage) -> None:
        if len(state.properties) > self.res.conf.image_property_quota:
            raise PayloadTooLarge(f"Maximum number of properties ({self.res.conf.image_property_quota}) exceeded.")
        if len(state.tags) > self.res.conf.image_tag_quota:
            raise PayloadTooLarge(f"Maximum number of tags ({self.res.conf.image_tag_quota}) exceeded.")

    def _check_visibility_change(self, ctx: RequestContext, image_target: dict[str, Any], visibility: str) -> None:
        if visibility == "public":
            self._enforce(ctx, "publicize_image", image_target)
        elif visibility == "community":
            self._enforce(ctx, "communitize_image", image_target)

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object describing the image.")
        base: dict[str, Any] = {"name": None, "visibility": "shared", "protected": False, "os_hidden": False}
        base |= {"disk_format": None, "container_format": None, "min_disk": 0, "min_ram": 0, "owner": ctx.project_id}
        state = patch.EditableImage(base=base)
        image_id = str(uuid.uuid4())
        for name, value in body.items():
            schema.check_writable(name, creating=True)
            if name == "id":
                image_id = schema.validate_id(value)
            elif name == "tags":
                state.tags = schema.validate_tags(value)
            elif name in base:
                base[name] = schema.validate_attr(name, value)
            else:
                state.properties[name] = schema.validate_attr(name, value)
        self._check_quotas(state)
        image_target = {"project_id": base["owner"], "visibility": base["visibility"]}
        if base["owner"] != ctx.project_id:
            self._enforce(ctx, "set_image_owner", image_target)
        self._enforce(ctx, "add_image", image_target)
        self._check_visibility_change(ctx, image_target, base["visibility"])
        image = Image(id=image_id, status="queued", **base)
        image.properties = [ImageProperty(name=k, value=v) for k, v in state.properties.items()]
        image.tags = [ImageTag(value=t) for t in state.tags]
        try:
            with self.res.db.session() as session:
                if session.get(Image, image_id) is not None:
                    raise Conflict(f"An image with identifier {image_id} already exists.")
                session.add(image)
        except IntegrityError:
            raise Conflict(f"An image with identifier {image_id} already exists.") from None
        return self.show(ctx, image_id)

    def show(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        with self.res.db.reader() as session:
            image = get_visible(session, ctx, image_id)
            self._enforce(ctx, "get_image", image)
            return image_view(image)

    def list(self, ctx: RequestContext, params: list[tuple[str, str]]) -> tuple[list[dict[str, Any]], bool]:
        """A page of images and whether there are more after it."""
        self.res.enforcer.enforce(ctx, "image:get_images", {"project_id": ctx.project_id})
        conf = self.res.conf
        query = listing.parse(params, default_limit=conf.limit_param_default, max_limit=conf.api_limit_max)
        scope = list_clause(ctx, query.visibility, query.member_status)
        stmt = sa.select(Image).where(scope, Image.os_hidden == query.os_hidden, *query.conditions)
        with self.res.db.reader() as session:
            if query.marker is not None:
                marker_visible = sa.select(Image.id).where(Image.id == query.marker, scope)
                if session.execute(marker_visible).first() is None:
                    raise BadRequest(f"Invalid marker: no image with ID {query.marker} was found.")
                stmt = stmt.where(listing.after_marker(query.sort, query.marker))
            stmt = stmt.order_by(*listing.order_by(query.sort)).limit(query.limit + 1)
            images = list(session.execute(stmt).scalars())
            more = len(images) > query.limit
            return [image_view(i) for i in images[: query.limit]], more

    def update(self, ctx: RequestContext, image_id: str, body: Any) -> dict[str, Any]:
        ops = patch.parse(body)
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id, for_update=True)
            self._enforce(ctx, "modify_image", image)
            base = {name: getattr(image, name) for name in schema.WRITABLE_BASE}
            state = patch.EditableImage(
                base=dict(base),
                tags=[t.value for t in image.tags],
                properties={p.name: p.value for p in image.properties},
            )
            patch.apply(state, ops)
            self._check_quotas(state)
            new = state.base
            for name in ("disk_format", "container_format"):
                if new[name] != base[name] and image.status != "queued":
                    raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
            if new["owner"] != base["owner"]:
                self._enforce(ctx, "set_image_owner", image)
            if new["visibility"] != base["visibility"]:
                self._check_visibility_change(ctx, target(image), new["visibility"])
            for name, value in new.items():
                if value != base[name]:
                    setattr(image, name, value)
            self._sync_children(image, state)
            image.updated_at = utcnow()
            session.flush()
        return self.show(ctx, image_id)

    @staticmethod
    def _sync_children(image: Image, state: patch.EditableImage) -> None:
        current = {p.name: p for p in image.properties}
        for name in set(current) - set(state.properties):
            image.properties.remove(current[name])
        for name, value in state.properties.items():
            if name in current:
                current[name].value = value
            else:
                image.properties.append(ImageProperty(name=name, value=value))
        tags = {t.value: t for t in image.tags}
        for value in set(tags) - set(state.tags):
            image.tags.remove(tags[value])
        for value in state.tags:
            if value not in tags:
                image.tags.append(ImageTag(value=value))

    def delete(self, ctx: RequestContext, image_id: str) -> None:
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id, for_update=True)
            self._enforce(ctx, "delete_image", image)
            if image.protected:
                raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")
            session.delete(image)
        self.res.store.delete(image_id)

    def add_tag(self, ctx: RequestContext, image_id: str, tag: str) -> None:
        schema.validate_tag(tag)
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id, for_update=True)
            self._enforce(ctx, "modify_image", image)
            if tag in [t.value for t in image.tags]:
                return
            if len(image.tags) >= self.res.conf.image_tag_quota:
                raise PayloadTooLarge(f"Maximum number of tags ({self.res.conf.image_tag_quota}) exceeded.")
            image.tags.append(ImageTag(value=tag))
            image.updated_at = utcnow()

    def delete_tag(self, ctx: RequestContext, image_id: str, tag: str) -> None:
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id, for_update=True)
            self._enforce(ctx, "modify_image", image)
            found = [t for t in image.tags if t.value == tag]
            if not found:
                raise NotFound(f"Tag {tag} not found on image {image_id}.")
            image.tags.remove(found[0])
            image.updated_at = utcnow()

    def deactivate(self, ctx: RequestContext, image_id: str) -> None:
        self._set_active(ctx, image_id, "deactivate", frm="active", to="deactivated")

    def reactivate(self, ctx: RequestContext, image_id: str) -> None:
        self._set_active(ctx, image_id, "reactivate", frm="deactivated", to="active")

    def _set_active(self, ctx: RequestContext, image_id: str, action: str, *, frm: str, to: str) -> None:
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id, for_update=True)
            self._enforce(ctx, action, image)
            if image.status == to:
                return
            if image.status != frm:
                raise Forbidden(f"Not allowed to {action} image in status '{image.status}'.")
            image.status = to
