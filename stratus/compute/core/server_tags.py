"""Server tags (``/servers/{id}/tags``, microversion 2.26): simple strings kept on the instance row.

As in Nova: at most 50 tags of 1-60 characters without ``/`` or ``,``; changes only while the server is
in a stable state (409 otherwise); reads by a project reader, changes by a member.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core.base import Deps, get_instance
from stratus.compute.core.servers import check_lock
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Conflict, NotFound

MAX_TAGS = 50
MAX_TAG_LENGTH = 60
CHANGEABLE_VM_STATES = frozenset(
    {"active", "paused", "rescued", "shelved", "shelved_offloaded", "stopped", "suspended"}
)


def check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not 0 < len(tag) <= MAX_TAG_LENGTH or "/" in tag or "," in tag:
        raise BadRequest(
            f"Invalid tag {tag!r}: a tag is a string of 1 to {MAX_TAG_LENGTH} characters without '/' or ','."
        )
    return tag


def _check_count(tags: list[str]) -> None:
    if len(tags) > MAX_TAGS:
        raise BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")


class ServerTagsManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _instance(self, session: Session, ctx: RequestContext, server_id: str, rule: str) -> models.Instance:
        inst = get_instance(session, ctx, server_id)
        self.deps.enforcer.enforce(ctx, f"os_compute_api:os-server-tags:{rule}", {"project_id": inst.project_id})
        if rule not in ("index", "show"):
            check_lock(ctx, inst)
            if inst.vm_state not in CHANGEABLE_VM_STATES or inst.task_state is not None:
                raise Conflict(
                    f"Cannot change the tags of instance {inst.uuid} while it is in vm_state {inst.vm_state}"
                    + (f" and task_state {inst.task_state}" if inst.task_state else "")
                )
        return inst

    def list(self, ctx: RequestContext, server_id: str, *, rule: str = "index") -> list[str]:
        with self.deps.db.reader() as session:
            return list(self._instance(session, ctx, server_id, rule).tags or [])

    def check(self, ctx: RequestContext, server_id: str, tag: str) -> None:
        """Returns if the server has ``tag``; NotFound otherwise."""
        if tag not in self.list(ctx, server_id, rule="show"):
            raise NotFound(f"Tag {tag} could not be found for instance {server_id}.")

    def replace(self, ctx: RequestContext, server_id: str, body: Any) -> list[str]:
        if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
            raise BadRequest("Malformed request body: 'tags' is a required property and must be a list")
        tags = list(dict.fromkeys(check_tag(t) for t in body["tags"]))
        _check_count(tags)
        with self.deps.db.session() as session:
            inst = self._instance(session, ctx, server_id, "update_all")
            inst.tags, inst.updated_at = tags, utcnow()
        return tags

    def add(self, ctx: RequestContext, server_id: str, tag: str) -> bool:
        """Add one tag; False if the server had it already."""
        check_tag(tag)
        with self.deps.db.session() as session:
            inst = self._instance(session, ctx, server_id, "update")
            current = list(inst.tags or [])
            if tag in current:
                return False
            _check_count([*current, tag])
            inst.tags, inst.updated_at = [*current, tag], utcnow()
        return True

    def remove(self, ctx: RequestContext, server_id: str, tag: str) -> None:
        with self.deps.db.session() as session:
            inst = self._instance(session, ctx, server_id, "delete")
            current = list(inst.tags or [])
            if tag not in current:
                raise NotFound(f"Tag {tag} could not be found for instance {server_id}.")
            inst.tags, inst.updated_at = [t for t in current if t != tag], utcnow()

    def clear(self, ctx: RequestContext, server_id: str) -> None:
        with self.deps.db.session() as session:
            inst = self._instance(session, ctx, server_id, "delete_all")
            inst.tags, inst.updated_at = [], utcnow()
