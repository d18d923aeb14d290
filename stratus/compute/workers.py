"""Compute's workers in one process: the conductor (controller side) and N in-process agents.

``ComputeWorkers(service_or_config, bus, db)``: the conductor serves ``compute-conductor`` when a
database is given (controller role); ``[compute_agent] fake_hosts`` agents run beside it, each
with its own driver instance (``driver = "fake"`` for now).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from stratus.compute.agent.images import ImageSourceFactory, image_api_factory
from stratus.compute.agent.manager import ComputeAgent
from stratus.compute.conductor import ConductorManager
from stratus.compute.conf import AgentConfig, SchedulerConfig, agent_config, resolve_driver, scheduler_config
from stratus.compute.conf import load as compute_config
from stratus.compute.ports import InstancePorts
from stratus.compute.rpcapi import CONDUCTOR_TOPIC
from stratus.compute.virt import load_driver
from stratus.compute.virt.base import ComputeDriver
from stratus.core.bus import Bus, RpcServer
from stratus.core.config import Config
from stratus.core.db import Database

LOG = logging.getLogger(__name__)


class ComputeWorkers:
    """Start/stop the conductor and this process's agents."""

    def __init__(
        self,
        service_or_config: Any,
        bus: Bus | None = None,
        db: Database | None = None,
        *,
        image_source_factory: ImageSourceFactory | None = None,
        driver_factory: Callable[[str], ComputeDriver] | None = None,
        ports: InstancePorts | None = None,
    ):
        config: Config = service_or_config if isinstance(service_or_config, Config) else service_or_config.config
        self.config = config
        self.bus: Bus = bus if bus is not None else service_or_config.bus
        self.db: Database | None = db if db is not None else getattr(service_or_config, "db", None)
        self.scheduler_conf: SchedulerConfig = scheduler_config(config)
        self.agent_conf: AgentConfig = agent_config(config)
        self._driver_factory = driver_factory
        self._images = image_source_factory or image_api_factory(self.agent_conf.image_url or "")
        self.conductor: ConductorManager | None = None
        # the conductor binds ports only with [compute] network_url and a [service_auth] password
        compute = compute_config(config)
        self.ports = ports or InstancePorts.from_config(config, compute.network_url, compute.default_availability_zone)
        if self.ports is None and compute.network_url:
            LOG.warning("[compute] network_url is set but [service_auth] password is not: servers get no ports")
        self.agents: dict[str, ComputeAgent] = {}
        self._server: RpcServer | None = None

    def host_names(self) -> list[str]:
        n, prefix = self.agent_conf.fake_hosts, self.agent_conf.host_prefix
        if prefix:
            return [f"{prefix}{i}" for i in range(n)]
        return [self.config.core.host] if n == 1 else [f"fake-host-{i}" for i in range(n)]

    def make_driver(self, host: str) -> ComputeDriver:
        """A driver for agent ``host``: from ``driver_factory`` if given, else ``[compute_agent] driver``."""
        if self._driver_factory is not None:
            return self._driver_factory(host)
        conf = self.agent_conf
        driver = resolve_driver(conf.driver)
        if driver == "fake":
            return load_driver("fake", vcpus=conf.fake_vcpus, memory_mb=conf.fake_memory_mb, disk_gb=conf.fake_disk_gb)
        if driver == "libvirt":
            return load_driver(
                "libvirt",
                state_dir=self.config.core.state_dir,
                connection_uri=conf.libvirt_uri,
                virt_type=conf.libvirt_virt_type,
                start_guests_on_host_boot=conf.start_guests_on_host_boot,
                listen_address=conf.libvirt_listen_address,
                live_migration_uri=conf.live_migration_uri,
                live_migration_timeout=conf.live_migration_timeout,
                **({"boot_id_file": conf.boot_id_file} if conf.boot_id_file else {}),
            )
        return load_driver(driver)

    def start(self) -> None:
        if self.db is not None:
            self.conductor = ConductorManager(self.db, self.bus, self.scheduler_conf, ports=self.ports)
            self._server = self.bus.serve(
                CONDUCTOR_TOPIC, self.conductor, workers=self.scheduler_conf.conductor_workers
            )
        for host in self.host_names():
            self.add_agent(host, self.make_driver(host))
        LOG.info("compute workers started: conductor=%s, %d agents", self.conductor is not None, len(self.agents))

    def add_agent(self, host: str, driver: ComputeDriver) -> ComputeAgent:
        """Start one more agent named ``host`` with ``driver`` (tests add hosts of other sizes this way)."""
        agent = ComputeAgent(host, driver, self.bus, self.agent_conf, self._images)
        agent.start()
        self.agents[host] = agent
        return agent

    def stop_agent(self, host: str) -> None:
        agent = self.agents.pop(host, None)
        if agent is not None:
            agent.stop()

    def stop(self) -> None:
        for host in list(self.agents):
            self.stop_agent(host)
        if self._server is not None:
            self._server.stop()
            self._server = None
