"""``stratus serve --role all|controller|compute``: what one process of a cloud spread over hosts runs.

- ``all`` (default): every service and this host's agents in one process (``lifecycle.serve``, unchanged).
- ``controller``: every API, the conductor/scheduler, the network server and OVN central, whose NB/SB
  also listen on TCP (``[network] ovn_central_listen``, default ``[core] bind_host``) so chassis on other
  hosts reach them; no compute agent, no network agent.
- ``compute``: this host's compute agent (its own private libvirtd by default) and network agent (OVS,
  ovn-controller, VIF plugging, metadata proxies), configured by URLs only: ``[core] bus_url``,
  ``[network_agent] ovn_sb_connection`` / ``encap_ip`` / ``metadata_url``, ``[compute] image_url``.
  It never opens a database: its configuration carries a database URL that fails loudly if anything tries.

The controller also serves the join API (``join_api``, ``[join] port``) through which ``stratus join``
turns a new machine into a compute host (docs/join.md).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from stratus.cli import daemon
from stratus.cli.paths import StatePaths
from stratus.core.config import Config

LOG = logging.getLogger(__name__)

ROLES = ("all", "controller", "compute")
NO_DATABASE_URL = "computerole_has_no_database://"
"""The compute role's ``[core] database_url``: SQLAlchemy cannot load it, so a database opened by mistake fails."""

Step = Callable[[str], None]


class RoleError(ValueError):
    """A role name or a role's configuration is unusable; the message says which option."""


def check_role(role: str) -> str:
    if role not in ROLES:
        raise RoleError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    return role


def controller_config(config: Config) -> Config:
    """The all-in-one configuration minus this host's agents, with OVN central reachable over TCP."""
    from stratus.network import conf as network_conf

    network: dict[str, Any] = {}
    if not network_conf.load(config).ovn_central_listen:
        network["ovn_central_listen"] = config.core.bind_host
    return config.with_overrides(compute_agent={"fake_hosts": 0}, network_agent={"enabled": False}, network=network)


def compute_config(config: Config) -> Config:
    """The compute role's configuration: one agent named ``[core] host``, and no database."""
    from stratus.compute import conf as compute_conf

    agent = compute_conf.agent_config(config)
    overrides: dict[str, Any] = {"core": {"database_url": NO_DATABASE_URL}}
    if agent.fake_hosts != 1 or agent.host_prefix:
        overrides["compute_agent"] = {"fake_hosts": 1, "host_prefix": ""}
    return config.with_overrides(**overrides)


def prepare_hypervisor(config: Config, report: Step) -> tuple[Config, bool]:
    """Start this host's libvirtd when the agent uses the libvirt driver; (config with its URI, private?)."""
    from stratus.compute import conf as compute_conf

    agent = compute_conf.agent_config(config)
    if agent.libvirt_uri or compute_conf.resolve_driver(agent.driver) != "libvirt":
        return config, False
    from stratus.cli.hostdaemons import ensure_libvirt

    private = agent.libvirt_daemon == "private"
    report(f"starting libvirtd ({'private, under the state directory' if private else 'the system one'})")
    uri = ensure_libvirt(config.core.state_dir, private=private, listen_address=agent.libvirt_listen_address or None)
    options: dict[str, Any] = {"libvirt_uri": uri}
    if private:  # as the all-in-one does (cloud.py): the private libvirtd's start is this host's "boot"
        from stratus.cli.hostdaemons import private_boot_id_file

        options["boot_id_file"] = str(private_boot_id_file(config.core.state_dir))
    return config.with_overrides(compute_agent=options), private


class ComputeNode:
    """The compute role in this process: bus, network agent (chassis first), libvirtd, compute agent.

    ``stop()`` undoes ``start()`` in reverse; the factories are for tests.
    """

    def __init__(
        self,
        config: Config,
        *,
        bus_factory: Callable[[str], Any] | None = None,
        network_agent_factory: Callable[[Config, Any], Any] | None = None,
        workers_factory: Callable[[Config, Any], Any] | None = None,
        hypervisor: Callable[[Config, Step], tuple[Config, bool]] = prepare_hypervisor,
    ):
        self.config = compute_config(config)
        self._bus_factory = bus_factory or _bus
        self._network_agent_factory = network_agent_factory or _network_agent
        self._workers_factory = workers_factory or _workers
        self._hypervisor = hypervisor
        self.bus: Any = None
        self.network_agent: Any = None
        self.workers: Any = None
        self._private_libvirt = False

    @property
    def host(self) -> str:
        return self.config.core.host

    def start(self, step: Step | None = None) -> None:
        report = step or (lambda _msg: None)
        try:
            report(f"connecting to the message bus ({self.config.core.bus_url.split('@')[-1]})")
            self.bus = self._bus_factory(self.config.core.bus_url)
            report(f"starting the network agent of {self.host} (OVS, ovn-controller, metadata proxies)")
            self.network_agent = self._network_agent_factory(self.config, self.bus)
            config, self._private_libvirt = self._hypervisor(self.config, report)
            report(f"starting the compute agent {self.host}")
            self.workers = self._workers_factory(config, self.bus)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.workers is not None:
            _quietly("stopping the compute agent", self.workers.stop)
            self.workers = None
        if self._private_libvirt:
            from stratus.cli.hostdaemons import stop_libvirt

            _quietly("stopping the private libvirtd", lambda: stop_libvirt(self.config.core.state_dir))
            self._private_libvirt = False
        if self.network_agent is not None:
            _quietly("stopping the network agent", self.network_agent.close)
            self.network_agent = None
        if self.bus is not None:
            _quietly("closing the message bus", self.bus.close)
            self.bus = None


def _bus(url: str) -> Any:
    from stratus.core.bus import Bus

    return Bus(url)


def _network_agent(config: Config, bus: Any) -> Any:
    from stratus.network.agent.service import NetworkAgent

    agent = NetworkAgent(config, bus)
    agent.start()  # closes what it started if it fails
    return agent


def _workers(config: Config, bus: Any) -> Any:
    """Compute's workers without a database: agents only, no conductor (that runs on the controller)."""
    from stratus.compute.workers import ComputeWorkers

    workers = ComputeWorkers(config, bus, db=None)
    workers.start()
    return workers


def serve(config: Config, role: str = "all") -> None:
    """Run ``role`` in this process until SIGTERM or SIGINT."""
    from stratus.cli import lifecycle

    check_role(role)
    if role == "all":
        lifecycle.serve(config)
    elif role == "controller":
        serve_controller(config)
    else:
        serve_compute(config)


def serve_controller(config: Config) -> None:
    """The controller: every API (``lifecycle.serve``), plus the join API once they all answer."""
    from stratus.cli import join_api, lifecycle

    servers: list[Any] = []

    def start_join(cloud: Any) -> None:
        secret = config.core.metadata_secret or cloud.credentials.metadata_secret  # as Cloud._wire fills it in
        server = join_api.start_server(config.with_overrides(core={"metadata_secret": secret}))
        if server is not None:
            servers.append(server)

    try:
        lifecycle.serve(controller_config(config), on_ready=start_join)
    finally:
        for server in servers:
            _quietly("stopping the join API", server.stop)


def serve_compute(config: Config, node: ComputeNode | None = None) -> None:
    """The compute role's foreground loop: pid file, start, runtime file, wait for a signal, stop."""
    paths = StatePaths(config.core.state_dir)
    daemon.claim_pid_file(paths)
    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        LOG.info("received %s, stopping", signal.Signals(signum).name)
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    node = node or ComputeNode(config)
    try:
        node.start(step=LOG.info)
        daemon.write_runtime(
            paths, {"pid": os.getpid(), "started_at": time.time(), "role": "compute", "host": node.host, "services": []}
        )
        LOG.info("compute host %s ready", node.host)
        while not stop_requested.wait(1.0):
            pass
    finally:
        node.stop()
        daemon.release_pid_file(paths)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        LOG.info("stopped")


def _quietly(what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception:
        LOG.exception("error while %s", what)
