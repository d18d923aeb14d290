"""The controller's join API: ``POST /v1/join {hostname, token}`` -> what a compute host needs to run.

Served by ``stratus serve --role controller`` on ``[core] bind_host`` at ``[join] port`` (beside the other
APIs). The token is the only authentication: it was printed once by ``stratus host admit`` on the
controller, is bound to the host name and is spent by the first successful join (``join_tokens``).

What a compute host is given (``node_settings``): the bus URL as hosts reach it, ``[core] identity_url``,
``[core] metadata_secret`` (its metadata proxies sign instance ids), ``[compute] image_url``, the OVN SB
address, the compute metadata API's URL, the datapath type and the availability zone. No database URL and
no ``[service_auth]`` password: a compute host's agents use neither (the conductor on the controller binds
ports; the compute agent fetches images with the user's token).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI, Request
from pydantic import BaseModel, Field

from stratus.cli.join_tokens import AdmissionStore, JoinRefused, check_hostname
from stratus.core.api.app import create_app
from stratus.core.api.errors import keystone_error
from stratus.core.api.server import ApiServer
from stratus.core.config import Config, Section
from stratus.core.exceptions import BadRequest, Forbidden

LOG = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class JoinConfig(Section):
    """[join]: the controller's join API and what it tells joining hosts (defaults derive from the rest)."""

    enabled: bool = Field(True, description="Serve the join API (controller role).")
    port: int = Field(8779, description="Port of the join API on [core] bind_host.")
    bus_url: str = Field(
        "", description="Bus URL as compute hosts reach it (default [core] bus_url, loopback -> [core] public_host)."
    )
    identity_url: str = Field("", description="Identity URL for hosts (default [core] identity_url, same rule).")
    image_url: str = Field("", description="Image API root for hosts (default http://<public_host>:<image port>).")
    metadata_url: str = Field("", description="Compute metadata API for hosts (default http://<public_host>:8775).")
    ovn_sb_connection: str = Field(
        "", description="OVN SB address for hosts (default tcp:<[network] ovn_central_listen or bind_host>:6642)."
    )


def load(config: Config) -> JoinConfig:
    return config.section("join", JoinConfig)


def _public(url: str, public_host: str) -> str:
    """``url`` with a loopback host replaced by ``public_host`` (what another machine must dial)."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    host_port = public_host + (f":{parts.port}" if parts.port else "")
    netloc[-1] = host_port
    return urlunsplit(parts._replace(netloc="@".join(netloc)))


def node_settings(config: Config) -> dict[str, dict[str, Any]]:
    """The configuration sections a compute host gets from this controller (the host adds its own name,
    state directory and underlay)."""
    from stratus.compute import conf as compute_conf
    from stratus.image import conf as image_conf
    from stratus.network import conf as network_conf

    join = load(config)
    core = config.core
    public = core.public_host
    network = network_conf.load(config)
    sb_host = network.ovn_central_listen or core.bind_host
    compute = compute_conf.load(config)
    return {
        "core": {
            "bus_url": join.bus_url or _public(core.bus_url, public),
            "identity_url": join.identity_url or _public(core.identity_url, public),
            "metadata_secret": core.metadata_secret,
        },
        "compute": {"image_url": join.image_url or f"http://{public}:{image_conf.load(config).port}"},
        "compute_agent": {"availability_zone": compute.default_availability_zone},
        "network_agent": {
            "ovn_sb_connection": join.ovn_sb_connection or f"tcp:{sb_host}:6642",
            "metadata_url": join.metadata_url or f"http://{public}:{compute.metadata_port}",
            "datapath_type": network.ovs_datapath_type,
        },
    }


class JoinRequest(BaseModel):
    hostname: str = Field(min_length=1, max_length=63)
    token: str = Field(min_length=1, max_length=200)


def create_join_app(config: Config, store: AdmissionStore) -> FastAPI:
    app = create_app(title="Stratus join", render_error=keystone_error, max_body_bytes=4096)

    @app.get("/")
    def root() -> dict[str, Any]:
        return {"join": {"path": "/v1/join", "method": "POST", "body": {"hostname": "...", "token": "..."}}}

    @app.post("/v1/join")
    def join(body: JoinRequest, request: Request) -> dict[str, Any]:
        peer = request.client.host if request.client else "?"
        try:
            check_hostname(body.hostname)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        try:
            store.redeem(body.hostname, body.token)
        except JoinRefused as exc:
            LOG.warning("join of host %r from %s refused: %s", body.hostname, peer, exc)
            raise Forbidden(str(exc)) from None
        LOG.info("host %r joined from %s", body.hostname, peer)
        return {"join": {"hostname": body.hostname, "config": node_settings(config)}}

    return app


def start_server(config: Config) -> ApiServer | None:
    """The join API on ``[core] bind_host:[join] port`` (None when ``[join] enabled`` is false)."""
    join = load(config)
    if not join.enabled:
        return None
    node_settings(config)  # a configuration it cannot describe fails the controller's start, not a join
    server = ApiServer("join", create_join_app(config, AdmissionStore(config.core.state_dir)), config.core.bind_host,
                       join.port)  # fmt: skip
    server.start()
    LOG.info("join API on http://%s:%d/v1/join", config.core.bind_host, join.port)
    return server
