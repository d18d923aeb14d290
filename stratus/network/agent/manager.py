"""The agent's state: which VIFs are plugged on this host, per network, and the metadata hooks that follow it.

The first VIF of a network on this host makes the network *used* (its metadata proxy is ensured; the
ensure is repeated on every plug, as it is idempotent and retries a proxy that failed before), the last
one leaving makes it *unused* (the proxy is released). The state is rebuilt from the integration
bridge's ports after a restart (``rebuild()``), then handed to ``metadata.sync``.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from stratus.network.agent import vif
from stratus.network.agent.iplink import IpLink
from stratus.network.agent.ovs import Ovs

LOG = logging.getLogger(__name__)
DEFAULT_MTU = 1442
"""MTU of a re-made tap whose port did not record one (VIFs plugged before the MTU was recorded)."""


class Metadata(Protocol):
    """What the agent needs of the metadata proxies (``metadata.MetadataProxies``)."""

    def ensure(self, network_id: str) -> None: ...

    def release(self, network_id: str) -> None: ...

    def sync(self, network_ids: set[str]) -> None: ...

    def close(self) -> None: ...


class VifManager:
    """Plugs and unplugs VIFs on ``bridge``; thread-safe (the bus serves calls from several threads)."""

    def __init__(self, ovs: Ovs, ip: IpLink, bridge: str, metadata: Metadata | None = None):
        self.ovs = ovs
        self.ip = ip
        self.bridge = bridge
        self.metadata = metadata
        self._lock = threading.Lock()
        self._vifs: dict[str, vif.PluggedVif] = {}  # port id -> vif

    def networks(self) -> dict[str, set[str]]:
        """Network id -> ids of the ports plugged on this host."""
        with self._lock:
            return self._by_network()

    def _by_network(self) -> dict[str, set[str]]:
        nets: dict[str, set[str]] = {}
        for v in self._vifs.values():
            nets.setdefault(v.network_id, set()).add(v.port_id)
        return nets

    def rebuild(self) -> dict[str, set[str]]:
        """Read the plugged VIFs back from the bridge and sync the metadata proxies to their networks."""
        found = vif.plugged_vifs(self.ovs, self.bridge)
        restored = vif.restore_missing_taps(self.ip, found, DEFAULT_MTU)
        if restored:
            LOG.info("network agent: made again the taps lost since the last start: %s", ", ".join(restored))
        with self._lock:
            self._vifs = {v.port_id: v for v in found}
            nets = self._by_network()
        LOG.info("network agent: %d VIF(s) on %s in %d network(s)", len(found), self.bridge, len(nets))
        if self.metadata is not None:
            self.metadata.sync(set(nets))
        return nets

    def plug_vif(self, port_id: str, network_id: str, mac_address: str, devname: str, mtu: int) -> None:
        """Create the tap and put it on the bridge for ``port_id``. Idempotent; ValueError on bad arguments."""
        with self._lock:
            old = self._vifs.get(port_id)
            plugged = vif.plug(
                self.ovs, self.ip, self.bridge,
                port_id=port_id, network_id=network_id, mac_address=mac_address, devname=devname, mtu=mtu,
            )  # fmt: skip
            if old is not None and old.devname != devname:  # the port moved to another tap
                vif.unplug(self.ovs, self.ip, old.devname)
            self._vifs[port_id] = plugged
            left = old.network_id if old is not None and old.network_id != network_id else None
            gone = left is not None and left not in self._by_network()
        LOG.info("plugged %s (port %s, network %s)", devname, port_id, network_id)
        self._network_used(network_id)
        if gone and left is not None:
            self._network_unused(left)

    def unplug_vif(self, port_id: str, devname: str) -> None:
        """Take ``devname`` off the bridge and delete it; forget ``port_id``. Idempotent."""
        with self._lock:
            old = self._vifs.get(port_id)
            network_id = old.network_id if old else self.ovs.interface_external_ids(devname).get(vif.MARKER)
            vif.unplug(self.ovs, self.ip, devname)
            if old is not None and old.devname != devname:
                vif.unplug(self.ovs, self.ip, old.devname)
            self._vifs.pop(port_id, None)
            gone = network_id is not None and network_id not in self._by_network()
        LOG.info("unplugged %s (port %s)", devname, port_id)
        if gone and network_id is not None:
            self._network_unused(network_id)

    def _network_used(self, network_id: str) -> None:
        if self.metadata is None:
            return
        try:
            self.metadata.ensure(network_id)
        except Exception:  # the VIF works without metadata; the next plug retries
            LOG.exception("metadata proxy for network %s could not be set up", network_id)

    def _network_unused(self, network_id: str) -> None:
        if self.metadata is None:
            return
        try:
            self.metadata.release(network_id)
        except Exception:
            LOG.exception("metadata proxy for network %s could not be released", network_id)
