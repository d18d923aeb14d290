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
from stratus.network.core.agents import AgentManager
from stratus.network.core.base import Deps, WriteSerializer
from stratus.network.core.compute_notifier import ComputeNotifier
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

    def metadata_port(self, network_id: str) -> dict[str, Any] | None:
        """The network's metadata port for the proxies: ``{"port_id", "mac_address", "cidrs", "mtu"}``."""
        from stratus.network.core import metadata_lookup

        with self._service.db.reader() as session:
            return metadata_lookup.metadata_port(session, network_id)

    def lookup_instance(self, network_id: str, address: str) -> dict[str, str] | None:
        """``{"device_id", "project_id"}`` of the instance holding ``address`` on ``network_id``."""
        from stratus.network.core import metadata_lookup

        with self._service.db.reader() as session:
            return metadata_lookup.lookup_instance(session, network_id, address)


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
        remote_nb_only = self.conf.ovn_nb_connection and not self.conf.ovn_sb_connection  # no SB guessed then
        self.backend = backend or load_backend(
            self.conf.backend,
            nb_connection=conf.nb_connection(config, self.conf),
            sb_connection=None if remote_nb_only else conf.sb_connection(config, self.conf),
            timeout=self.conf.ovsdb_timeout,
            gateway_chassis=tuple(self.conf.gateway_chassis),
            distributed_floating_ips=self.conf.distributed_floating_ips,
            host=config.core.host,  # the fake back end registers this host as its one chassis
        )
        self.dataplane = DataPlane(self.db, self.conf, self.backend, bus)
        # network-vif-plugged / -unplugged to compute (None when compute_url or [service_auth] is unset)
        self.compute_notifier = ComputeNotifier.from_config(config, self.conf.compute_url)
        if self.compute_notifier is not None:
            self.dataplane.status_listeners.append(self.compute_notifier)
        self.deps = Deps(db=self.db, conf=self.conf, enforcer=self.enforcer, dataplane=self.dataplane)
        self.networks = NetworkManager(self.deps)
        self.subnets = SubnetManager(self.deps)
        self.ports = PortManager(self.deps)
        self.security_groups = SecurityGroupManager(self.deps)
        self.routers = RouterManager(self.deps)
        self.floating_ips = FloatingIpManager(self.deps)
        self.quotas = QuotaManager(self.deps)
        self.agents = AgentManager(self.deps, self.backend)
        self._rpc: Any = None
        self._started = False
        self.central: Any = None  # agent.central.OvnCentral when this process runs OVN central
        self.agent: Any = None  # agent.service.NetworkAgent in the all-in-one process
        self.app: FastAPI = create_app(self)

    @property
    def port(self) -> int:
        return self.conf.port

    def start(self) -> None:
        """Connect the back end, start the NB port-status watcher and the resync loop (first pass at once)."""
        if self._started:
            return
        self._started = True
        self._start_central()
        self.dataplane.start()
        if self.bus is not None:
            try:
                self._rpc = self.bus.serve(STATUS_TOPIC, StatusEndpoint(self), workers=2)
            except Exception:  # the API works without the bus path
                LOG.exception("could not serve %s on the bus", STATUS_TOPIC)
        self._start_agent()

    def _start_central(self) -> None:
        """OVN central (NB, SB, northd) under <state_dir>/ovn, unless the NB is elsewhere or run_ovn_central is off."""
        if self.conf.backend == "ovn" and self.conf.run_ovn_central and not self.conf.ovn_nb_connection:
            from stratus.network.agent.central import OvnCentral

            self.central = OvnCentral(conf.ovn_dir(self.config), listen=self.conf.ovn_central_listen)
            self.central.start()

    def _start_agent(self) -> None:
        """This host's network agent, in this process (all-in-one), when [network_agent] enabled and there is a bus."""
        if self.conf.backend == "ovn" and conf.agent_config(self.config).enabled and self.bus is not None:
            from stratus.network.agent.service import NetworkAgent

            agent = NetworkAgent(self.config, self.bus)
            agent.start()  # closes what it started if it fails
            self.agent = agent

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
        if self.agent is not None:
            try:
                self.agent.close()
            except Exception:
                LOG.exception("stopping the network agent failed")
        if self.compute_notifier is not None:
            self.compute_notifier.close()
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
        if self.central is not None:
            self.central.stop()
