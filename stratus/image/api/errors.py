"""The error body of the image API.

Upstream Glance answers errors with webob's plain text / HTML pages, which clients can only
show as text. We answer JSON instead: ``{"code": 404, "title": "Not Found", "message": "..."}``
(flat, as the webob JSON error format of the other OpenStack APIs). openstacksdk (and so the
``openstack`` CLI) looks for a ``message`` key at the top level of a JSON error body and shows
it as the error's details, so users see the sentence, not a dump of the body.
"""

from __future__ import annotations

from typing import Any


def glance_error(status: int, title: str, message: str) -> dict[str, Any]:
    return {"code": status, "title": title, "message": message}
