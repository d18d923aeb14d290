"""The network service: database, data plane back end, managers and the Networking v2.0 API, wired together."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from stratus.core.api.auth import Authenticator, build_authenticator
from stratus.core.config import Config
from stratus.core.db import Database, upgrade
from stratus.core.policy import Enforcer
from stratus.network import conf, policies
from stratus.network.backends.base import NetworkBackend, load_backend
from stratus.network.core.base import Deps, WriteSerializer
from stratus.network.core.dataplane import PORT_DOWN_EVENT, PORT_UP_EVENT, DataPlane
from stratus.network.core.floatingips import FloatingIpManager
from stratus.network.core.networks import NetworkManager
from stratus.network.core.ports import PortManager
from stratus.network.core.quotas import QuotaManager
from stratus.network.core.routers import RouterManager
from stratus.network.core.secgroups import SecurityGroupManager
from stratus.network.core.subnets import SubnetManager

if TYPE_CHECKING:
    from fastapi import FastAPI

    from stratus.core.bus import Bus

LOG = logging.getLogger(__name__)
STATUS_TOPIC = "network-server"
"""Bus topic where the host side may call ``set_port_status(port_id, status)``."""

__all__ = ["NetworkService", "PORT_DOWN_EVENT", "PORT_UP_EVENT", "STATUS_TOPIC"]


class StatusEndpoint:
    """What the bus exposes on STATUS_TOPIC."""

    def __init__(self, service: NetworkService):
        self._service = service

    def set_port_status(self, port_id: str, status: str) -> bool:
        return self._service.set_port_status(port_id, status) is not None


class NetworkService:
    name = "network"
    service_type = "network"
    endpoint_path = ""

    def __init__(
        self,
        config: Config,
        bus: Bus | None = None,
        *,
        authenticator: Authenticator | None = None,
        backend: NetworkBackend | None = None,
    ):
        from stratus.network.api import create_app

        self.config = config
        self.conf = conf.load(config)
        self.bus = bus
        self.authenticator = authenticator or build_authenticator(
            config.core.identity_url, bus=bus, cache_ttl=config.core.token_cache_ttl
        )
        database = Database(config.database_url("network"))
        upgrade(database, "stratus.network:migrations")
        self.db = WriteSerializer(database)
        self.enforcer = Enforcer(policies.RULES)
        self.backend = backend or load_backend(
            self.conf.backend,
            nb_connection=conf.nb_connection(config, self.conf),
            sb_connection=self.conf.ovn_sb_connection,
            timeout=self.conf.ovsdb_timeout,
            gateway_chassis=tuple(self.conf.gateway_chassis),
            distributed_floating_ips=self.conf.distributed_floating_ips,
        )
        self.dataplane = DataPlane(self.db, self.conf, self.backend, bus)
        self.deps = Deps(db=self.db, conf=self.conf, enforcer=self.enforcer, dataplane=self.dataplane)
        self.networks = NetworkManager(self.deps)
        self.subnets = SubnetManager(self.deps)
        self.ports = PortManager(self.deps)
        self.security_groups = SecurityGroupManager(self.deps)
        self.routers = RouterManager(self.deps)
        self.floating_ips = FloatingIpManager(self.deps)
        self.quotas = QuotaManager(self.deps)
        self._rpc: Any = None
        self._started = False
        self.app: FastAPI = create_app(self)

    @property
    def port(self) -> int:
        return self.conf.port

    def start(self) -> None:
        """Connect the back end, start the NB port-status watcher and the resync loop (first pass at once)."""
        if self._started:
            return
        self._started = True
        self.dataplane.start()
        if self.bus is not None:
            try:
                self._rpc = self.bus.serve(STATUS_TOPIC, StatusEndpoint(self), workers=2)
            except Exception:  # the API works without the bus path
                LOG.exception("could not serve %s on the bus", STATUS_TOPIC)

    def set_port_status(self, port_id: str, status: str) -> bool | None:
        """Set a port ACTIVE/DOWN/BUILD/ERROR; publishes network.port.up/down on a change. None: no such port."""
        from stratus.network import models

        with self.db.reader() as session:
            if session.get(models.Port, port_id) is None:
                return None
        return self.dataplane.set_port_status(port_id, status)

    def resync(self) -> bool:
        """Run one DB -> data plane repair pass now (the loop does it on its own too)."""
        return self.dataplane.resync()

    def close(self) -> None:
        if self._rpc is not None:
            try:
                self._rpc.stop()
            except Exception:
                LOG.exception("stopping the status endpoint failed")
        if self._started:
            self.dataplane.close()
        else:
            self.backend.close()
        self.db.dispose()
