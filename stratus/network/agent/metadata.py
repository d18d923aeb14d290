"""The metadata proxies of this host: one namespace per network, all served from this process.

What neutron-ovn-metadata-agent + haproxy do upstream. For each network with VIFs here, the agent
calls ``ensure(network_id)``: the network server (bus topic ``network-server``) names the network's
metadata ``localport``, a namespace is plumbed onto the integration bridge bound to it (see
``metadata_netns``), and a socket listening on 169.254.169.254:80 inside it is served by one
``ProxyServer`` (no process per network). Guests reach it through the DHCP classless route
169.254.169.254/32 via the metadata port's address.

Use (the network agent of a host)::

    proxies = MetadataProxies(config, bus, Ovs(ovs_dir(config) / "db.sock"))
    proxies.sync({network ids with VIFs on this host})   # at start and on changes
    proxies.ensure(network_id) / proxies.release(network_id)
    proxies.close()                                      # on shutdown: everything removed
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from stratus.core.bus import BusUnavailable, MessagingTimeout, RemoteError
from stratus.core.config import Config
from stratus.network import conf
from stratus.network.agent import metadata_netns as ns
from stratus.network.agent.iplink import IpError, IpLink
from stratus.network.agent.metadata_server import Forwarder, LookupUnavailable, ProxyServer

LOG = logging.getLogger(__name__)
SERVER_TOPIC = "network-server"
BUS_TIMEOUT = 10.0
LOOKUP_TTL = 5.0


class OvsPorts(Protocol):
    """The part of ``stratus.network.agent.ovs.Ovs`` the proxies use."""

    def add_port(
        self, bridge: str, name: str, *, iface_id: str | None = None, external_ids: dict[str, str] | None = None
    ) -> None: ...

    def del_port(self, name: str) -> None: ...

    def list_ports(self, bridge: str) -> list[str]: ...


class InstanceLookup:
    """(network, address) -> owning instance over the bus, cached for ``ttl`` seconds (hits and misses)."""

    def __init__(self, bus: Any, *, ttl: float = LOOKUP_TTL, clock: Callable[[], float] = time.monotonic):
        self._bus = bus
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, dict[str, str] | None]] = {}

    def __call__(self, network_id: str, address: str) -> dict[str, str] | None:
        key = (network_id, address)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        try:
            found = self._bus.call(
                SERVER_TOPIC, "lookup_instance", timeout=BUS_TIMEOUT, network_id=network_id, address=address
            )
        except (MessagingTimeout, BusUnavailable, RemoteError) as err:
            raise LookupUnavailable(str(err)) from None
        owner = None
        if isinstance(found, dict) and isinstance(found.get("device_id"), str) and found.get("device_id"):
            owner = {"device_id": found["device_id"], "project_id": str(found.get("project_id") or "")}
        with self._lock:
            if len(self._cache) > 4096:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[key] = (now + self._ttl, owner)
        return owner


class MetadataProxies:
    """Metadata namespaces and their proxy on this host (``[core] host``).

    ``netns`` is the namespace holding the integration bridge's ovs-vswitchd (None: this process' own,
    as in production; the test bed and e2e tests run OVS in a namespace). ``transport`` replaces the
    HTTP transport to the compute metadata API (tests).
    """

    def __init__(
        self,
        config: Config,
        bus: Any,
        ovs: OvsPorts,
        *,
        netns: str | None = None,
        transport: httpx.BaseTransport | None = None,
        workers: int = 8,
    ):
        agent = conf.agent_config(config)
        self.host = config.core.host
        self.bridge = agent.integration_bridge
        self._bus = bus
        self._ovs = ovs
        self._host_ip = IpLink(netns)
        self._lock = threading.RLock()
        secret = config.core.metadata_secret
        if not secret:
            LOG.warning("[core] metadata_secret is empty: the compute metadata API will refuse the proxies' requests")
        forwarder = Forwarder(agent.metadata_url, secret, InstanceLookup(bus), transport=transport)
        self._server = ProxyServer(forwarder, workers=workers)

    def names(self, network_id: str) -> ns.Names:
        return ns.names(self.host, network_id)

    def networks(self) -> set[str]:
        """Networks served now."""
        return self._server.networks()

    def ensure(self, network_id: str) -> bool:
        """Plumb and serve ``network_id``; idempotent (repairs what is missing or changed).

        Returns False, after removing anything left, when the network has no metadata port. Raises
        LookupUnavailable when the network server cannot be asked, IpError/OvsError when plumbing fails.
        """
        names = self.names(network_id)
        try:
            port = self._bus.call(SERVER_TOPIC, "metadata_port", timeout=BUS_TIMEOUT, network_id=network_id)
        except (MessagingTimeout, BusUnavailable, RemoteError) as err:
            raise LookupUnavailable(f"metadata_port of network {network_id}: {err}") from None
        with self._lock:
            if not port:
                LOG.info("network %s has no metadata port: no metadata proxy for it", network_id)
                self._release(network_id, names)
                return False
            plumbed = ns.plumb(
                names,
                mac=str(port["mac_address"]),
                cidrs=[str(c) for c in port["cidrs"]],
                mtu=int(port.get("mtu") or 1500),
                host_ip=self._host_ip,
            )
            if plumbed.veth_created:
                self._ovs.del_port(names.host_dev)  # a port row left from the old device would stay dead
            self._ovs.add_port(
                self.bridge,
                names.host_dev,
                iface_id=str(port["port_id"]),
                external_ids={"stratus-metadata-network": network_id},
            )
            if plumbed.namespace_created or network_id not in self._server.networks():
                self._server.add(network_id, ns.open_listener(names.namespace))
                LOG.info("metadata proxy for network %s serving in namespace %s", network_id, names.namespace)
            return True

    def release(self, network_id: str) -> None:
        """Stop serving ``network_id`` and remove its namespace, veth and OVS port; idempotent."""
        with self._lock:
            self._release(network_id, self.names(network_id))

    def _release(self, network_id: str, names: ns.Names) -> None:
        self._server.remove(network_id)
        self._ovs.del_port(names.host_dev)
        ns.unplumb(names, host_ip=self._host_ip)

    def sync(self, network_ids: set[str]) -> set[str]:
        """Serve exactly ``network_ids``: ensure each, release every other one this host made.

        Leftovers of an earlier run (namespaces tagged with this host, ``md…`` ports on the bridge) are
        removed too. A network that fails is logged and left for the next sync; returns those served.
        """
        served = set()
        for network_id in sorted(network_ids):
            try:
                if self.ensure(network_id):
                    served.add(network_id)
            except LookupUnavailable as err:  # the server is unreachable: the others would wait in vain
                LOG.warning("metadata proxies not synced, the network server is unreachable: %s", err)
                break
            except (IpError, OSError, RuntimeError, ValueError) as err:
                LOG.warning("metadata proxy for network %s not ready: %s", network_id, err)
        with self._lock:
            stale = (self._server.networks() | set(ns.own_namespaces(self.host))) - set(network_ids)
            for network_id in sorted(stale):
                try:
                    self._release(network_id, self.names(network_id))
                except (IpError, OSError, RuntimeError) as err:
                    LOG.warning("could not remove the metadata proxy of network %s: %s", network_id, err)
            self._remove_stray_ports({self.names(n).host_dev for n in network_ids if ns.NETWORK_ID.match(n)})
        return served

    def _remove_stray_ports(self, keep: set[str]) -> None:
        """``md…`` ports on the bridge that no wanted network owns (their namespace is gone)."""
        for name in self._ovs.list_ports(self.bridge):
            if ns.HOST_DEV.match(name) and name not in keep:
                LOG.info("removing stray metadata port %s from %s", name, self.bridge)
                self._ovs.del_port(name)
                self._host_ip.delete(name)

    def close(self) -> None:
        """Stop serving and remove every namespace, veth and port this host's proxies made."""
        with self._lock:
            networks = self._server.networks() | set(ns.own_namespaces(self.host))
            self._server.close()
            for network_id in sorted(networks):
                names = self.names(network_id)
                try:
                    self._ovs.del_port(names.host_dev)
                    ns.unplumb(names, host_ip=self._host_ip)
                except (IpError, OSError, RuntimeError) as err:
                    LOG.warning("could not remove the metadata proxy of network %s: %s", network_id, err)
