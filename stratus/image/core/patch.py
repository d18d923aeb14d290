"""JSON patch (``application/openstack-images-v2.1-json-patch``) on an image's editable state.

Glance's rules: ``add`` sets (replacing an existing value), ``replace`` needs the property to
exist (409 otherwise), ``remove`` of a custom property that does not exist is 409 and of a base
attribute 403; read-only attributes are 403, reserved ones 403. Paths are one level deep
(``/name``); ``/tags/-`` and ``/tags/<index>`` are also accepted for clients that diff lists.
Operations come as ``{"op": "add", "path": "/x", "value": ...}`` or in Glance's compact form
``{"add": "/x", "value": ...}`` (which Tempest uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stratus.core.exceptions import BadRequest, Conflict, Forbidden
from stratus.image import schema

OPS = ("add", "replace", "remove")


@dataclass
class EditableImage:
    """What a PATCH may change: base attributes, tags and custom properties."""

    base: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise BadRequest(f"Invalid JSON pointer {path!r}: it must start with '/' and name an attribute.")
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    if len(parts) > 2 or (len(parts) == 2 and parts[0] != "tags"):
        raise BadRequest(f"Nested paths are not allowed: {path!r}.")
    return parts


def parse(body: Any) -> list[tuple[str, list[str], Any]]:
    """Validate the patch document's shape: a list of ``{op, path[, value]}`` objects."""
    if not isinstance(body, list):
        raise BadRequest("The request body must be a JSON array of patch operations.")
    ops = []
    for item in body:
        op, path = _op_and_path(item)
        if op != "remove" and "value" not in item:
            raise BadRequest(f"Operation '{op}' on {path!r} needs a 'value'.")
        ops.append((op, _pointer(path), item.get("value")))
    return ops


def _op_and_path(item: Any) -> tuple[str, Any]:
    """``{"op": "replace", "path": "/x"}`` or Glance's compact form ``{"replace": "/x"}``."""
    if isinstance(item, dict):
        if item.get("op") in OPS:
            return item["op"], item.get("path")
        named = [op for op in OPS if op in item]
        if "op" not in item and len(named) == 1:
            return named[0], item[named[0]]
    raise BadRequest(f"Invalid patch operation {item!r}: 'op' must be one of {', '.join(OPS)}.")


def _tag_index(tags: list[str], index: str, *, allow_end: bool) -> int:
    if index == "-" and allow_end:
        return len(tags)
    if not index.isdigit() or int(index) > len(tags) - (0 if allow_end else 1):
        raise BadRequest(f"Invalid tag index {index!r}.")
    return int(index)


def _apply_tags(state: EditableImage, op: str, index: str, value: Any) -> None:
    tags = state.tags
    if op == "add":
        tags.insert(_tag_index(tags, index, allow_end=True), schema.validate_tag(value))
    elif op == "replace":
        tags[_tag_index(tags, index, allow_end=False)] = schema.validate_tag(value)
    else:
        del tags[_tag_index(tags, index, allow_end=False)]
    state.tags = list(dict.fromkeys(tags))


def apply(state: EditableImage, ops: list[tuple[str, list[str], Any]]) -> None:
    """Apply ``ops`` in order to ``state`` (raising on the first bad one; the caller discards state)."""
    for op, path, value in ops:
        name = path[0]
        schema.check_writable(name, creating=False)
        if len(path) == 2:
            _apply_tags(state, op, path[1], value)
        elif name == "tags":
            if op == "remove":
                raise Forbidden("Property tags may not be removed.")
            state.tags = schema.validate_tags(value)
        elif name in state.base:
            if op == "remove":
                raise Forbidden(f"Property {name} may not be removed.")
            state.base[name] = schema.validate_attr(name, value)
        elif op == "remove":
            if name not in state.properties:
                raise Conflict(f"Property {name} does not exist.")
            del state.properties[name]
        elif op == "replace" and name not in state.properties:
            raise Conflict(f"Property {name} does not exist.")
        else:
            state.properties[name] = schema.validate_attr(name, value)
