"""The compute service: database, policy, managers and the Compute v2.1 API, wired together."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

import httpx

from stratus.compute import conf, policies
from stratus.compute.core.actions import ActionManager
from stratus.compute.core.aggregates import AggregateManager
from stratus.compute.core.base import Deps
from stratus.compute.core.flavors import FlavorManager
from stratus.compute.core.hosts import HostManager
from stratus.compute.core.images import ImageLookup
from stratus.compute.core.instance_actions import InstanceActionManager
from stratus.compute.core.keypairs import KeyPairManager
from stratus.compute.core.metadata import MetadataManager
from stratus.compute.core.migrations import MigrationManager
from stratus.compute.core.network import NetworkBinder, NoNetwork
from stratus.compute.core.network_binder import NetworkApiBinder
from stratus.compute.core.quotas import QuotaManager
from stratus.compute.core.server_groups import ServerGroupManager
from stratus.compute.core.server_tags import ServerTagsManager
from stratus.compute.core.servers import ServerManager
from stratus.compute.metadata import create_metadata_app
from stratus.compute.ports import InstancePorts
from stratus.core.api.auth import Authenticator, build_authenticator
from stratus.core.config import Config
from stratus.core.db import Database, upgrade
from stratus.core.policy import Enforcer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from stratus.core.bus import Bus

LOG = logging.getLogger(__name__)


class ComputeService:
    name = "compute"
    service_type = "compute"
    endpoint_path = "/v2.1"

    def __init__(
        self,
        config: Config,
        bus: Bus | None = None,
        *,
        authenticator: Authenticator | None = None,
        image_transport: httpx.BaseTransport | None = None,
        network: NetworkBinder | None = None,
    ):
        from stratus.compute.api import create_app

        self.config = config
        self.conf = conf.load(config)
        self.bus = bus
        self.authenticator = authenticator or build_authenticator(
            config.core.identity_url, bus=bus, cache_ttl=config.core.token_cache_ttl
        )
        self.db = Database(config.database_url("compute"))
        upgrade(self.db, "stratus.compute:migrations")
        self.enforcer = Enforcer(policies.RULES)
        deps = Deps(
            db=self.db,
            conf=self.conf,
            enforcer=self.enforcer,
            bus=bus,
            images=ImageLookup(self.conf.image_url, image_transport),
            network=network or self._network_binder(config),
        )
        self.deps = deps
        self.servers = ServerManager(deps)
        self.actions = ActionManager(deps)
        self.metadata = MetadataManager(deps)
        self.tags = ServerTagsManager(deps)
        self.aggregates = AggregateManager(deps)
        self.instance_actions = InstanceActionManager(deps)
        self.flavors = FlavorManager(deps)
        self.keypairs = KeyPairManager(deps)
        self.quotas = QuotaManager(deps)
        self.server_groups = ServerGroupManager(deps)
        self.hosts = HostManager(deps)
        self.migrations = MigrationManager(deps)
        self.workers: Any = None
        self.app: FastAPI = create_app(self)
        # Served beside the catalog endpoint: what the metadata proxies forward guests' requests to.
        self.extra_apps: list[tuple[str, Any, int]] = [
            (
                "metadata",
                create_metadata_app(
                    self.db, config.core.metadata_secret, default_availability_zone=self.conf.default_availability_zone
                ),
                self.conf.metadata_port,
            )
        ]

    def _network_binder(self, config: Config) -> NetworkBinder:
        """The network API as the user sees it when ``[compute] network_url`` is set, else no networking."""
        url = self.conf.network_url
        if not url:
            return NoNetwork()
        ports = InstancePorts.from_config(config, url, self.conf.default_availability_zone)
        return NetworkApiBinder(url, ports=ports)

    @property
    def port(self) -> int:
        return self.conf.port

    def start(self) -> None:
        """Start the conductor and (all-in-one) fake agents, when that part of compute is installed."""
        if self.bus is None or self.workers is not None:
            return
        try:
            module = importlib.import_module("stratus.compute.workers")
        except ImportError:
            LOG.warning("stratus.compute.workers is not available: servers will stay in BUILD")
            return
        self.workers = module.ComputeWorkers(self)
        self.workers.start()

    def close(self) -> None:
        if self.workers is not None:
            self.workers.stop()
            self.workers = None
        self.db.dispose()
