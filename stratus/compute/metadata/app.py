"""The metadata API app: signed proxy requests in, Nova-shaped EC2 and OpenStack metadata out.

Served by compute on ``[compute] metadata_port`` (8775); the per-network proxies on each host forward the
guests' requests here with ``X-Instance-ID``, ``X-Tenant-ID``, ``X-Forwarded-For`` and
``X-Instance-ID-Signature`` (see ``signing.py``). There is no token auth: the signature is the auth.
"""

from __future__ import annotations

import json
import logging
import posixpath
from typing import Any

from fastapi import FastAPI, Request, Response

from stratus.compute.api.errors import nova_error
from stratus.compute.metadata import ec2, openstack
from stratus.compute.metadata.signing import verify
from stratus.compute.metadata.source import InstanceData, load_instance
from stratus.core.api.app import create_app
from stratus.core.db import Database
from stratus.core.exceptions import Forbidden, NotFound

LOG = logging.getLogger(__name__)
NO_SECRET = "[core] metadata_secret is empty: the metadata API refuses every request until it is set"


def _tokens(path: str) -> list[str]:
    """Nova normalises the path (``//``, ``.``, a trailing ``/``) before looking it up."""
    return [t for t in posixpath.normpath("/" + path).split("/") if t]


def _text(data: Any) -> Response:
    return Response(content=ec2.render(data), media_type=openstack.TEXT)


def _openstack(inst: InstanceData, tokens: list[str], hostname: str) -> Response:
    if not tokens:
        return _text([*openstack.VERSIONS, "latest"])
    if len(tokens) > 2:
        raise KeyError("/".join(tokens))
    version = openstack.resolve(tokens[0])
    content, media_type = openstack.item(inst, version, tokens[1] if len(tokens) > 1 else "", hostname=hostname)
    if media_type == openstack.JSON:
        return Response(content=json.dumps(content).encode(), media_type=media_type)
    return _text(content)


def _ec2(inst: InstanceData, tokens: list[str], hostname: str, address: str | None) -> Response:
    if not tokens:
        return _text([*ec2.VERSIONS, "latest"])
    data = ec2.tree(inst, tokens[0], hostname=hostname, address=address)
    return _text(ec2.find(data, tokens[1:]))


def create_metadata_app(
    db: Database, secret: str, *, dhcp_domain: str = "", default_availability_zone: str = "nova"
) -> FastAPI:
    """The metadata API on compute's database ``db``, checking signatures with ``secret``.

    ``dhcp_domain`` is appended to the hostname as Nova's ``[api] dhcp_domain`` is; the default (empty)
    serves the bare hostname, so a guest that takes ``meta-data/hostname`` is named like its server.
    """
    app = create_app(title="Stratus metadata API", render_error=nova_error)
    if not secret:
        LOG.warning(NO_SECRET)

    @app.get("/{path:path}")
    def metadata(path: str, request: Request) -> Response:
        if not secret:
            LOG.warning(NO_SECRET)
            raise Forbidden("The metadata service has no shared secret configured.")
        requester = verify(request.headers, secret)
        inst = load_instance(db, requester.instance_id, default_zone=default_availability_zone)
        if inst is None or inst.project_id != requester.tenant_id:
            LOG.info(
                "metadata request for unknown instance %s (project %s)", requester.instance_id, requester.tenant_id
            )
            raise NotFound("The resource could not be found.")
        hostname = f"{inst.hostname}.{dhcp_domain}" if dhcp_domain else inst.hostname
        tokens = _tokens(path)
        tree, rest = (tokens[0], tokens[1:]) if tokens and tokens[0] in ("ec2", "openstack") else ("ec2", tokens)
        try:
            if tree == "openstack":
                response = _openstack(inst, rest, hostname)
            else:
                response = _ec2(inst, rest, hostname, requester.address)
        except KeyError:
            raise NotFound("The resource could not be found.") from None
        LOG.debug("metadata %s for instance %s", "/" + "/".join(tokens), inst.uuid)
        return response

    return app
