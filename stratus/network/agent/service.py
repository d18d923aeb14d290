"""The network agent of one host: supervises its OVS/OVN chassis daemons and serves VIF plugging on the bus.

Topic ``network-agent.<[core] host>`` (``stratus.network.client.AGENT_TOPIC``), methods
``plug_vif(port_id, network_id, mac_address, devname, mtu)`` and ``unplug_vif(port_id, devname)``.
The metadata proxies (``metadata.MetadataProxies``) follow the networks that have VIFs on this host.
"""

from __future__ import annotations

import logging
from typing import Any

from stratus.core.config import Config
from stratus.network import conf
from stratus.network.agent.chassis import Chassis
from stratus.network.agent.iplink import IpLink
from stratus.network.agent.manager import Metadata, VifManager
from stratus.network.agent.ovs import Ovs
from stratus.network.client import AGENT_TOPIC

LOG = logging.getLogger(__name__)


class AgentEndpoint:
    """What the bus exposes: exactly the two VIF methods."""

    def __init__(self, manager: VifManager):
        self._manager = manager

    def plug_vif(self, port_id: str, network_id: str, mac_address: str, devname: str, mtu: int) -> None:
        self._manager.plug_vif(port_id, network_id, mac_address, devname, int(mtu))

    def unplug_vif(self, port_id: str, devname: str) -> None:
        self._manager.unplug_vif(port_id, devname)


class NetworkAgent:
    """``start()`` the chassis (if ``[network_agent] run_daemons``), rebuild state, serve the bus; ``close()``.

    ``netns`` runs the chassis daemons and the VIF taps inside that network namespace (tests);
    ``metadata`` replaces the metadata proxies (None: ``MetadataProxies`` if it is importable).
    """

    def __init__(self, config: Config, bus: Any, *, netns: str | None = None, metadata: Metadata | None = None) -> None:
        self.config = config
        self.bus = bus
        self.conf = conf.agent_config(config)
        self.netns = netns
        self.chassis = Chassis(config, netns=netns) if self.conf.run_daemons else None
        self.ovs = self.chassis.ovs if self.chassis else Ovs(conf.ovs_dir(config).absolute() / "db.sock")
        self.metadata = metadata
        self.manager = VifManager(self.ovs, IpLink(netns), self.conf.integration_bridge, metadata)
        self.topic = AGENT_TOPIC.format(host=config.core.host)
        self._rpc: Any = None

    def start(self) -> None:
        try:
            if self.chassis is not None:
                self.chassis.start()
            if self.metadata is None:
                self.metadata = self._load_metadata()
                self.manager.metadata = self.metadata
            self.manager.rebuild()
            if self.bus is not None:
                self._rpc = self.bus.serve(self.topic, AgentEndpoint(self.manager), workers=4)
        except BaseException:
            self.close()
            raise
        LOG.info("network agent serving %s", self.topic)

    def _load_metadata(self) -> Metadata | None:
        try:
            from stratus.network.agent.metadata import MetadataProxies
        except ImportError as exc:
            LOG.warning("no metadata proxies on this host (%s): guests will get no metadata", exc)
            return None
        extra = {"netns": self.netns} if self.netns else {}
        proxies: Metadata = MetadataProxies(self.config, self.bus, self.ovs, **extra)
        return proxies

    def close(self) -> None:
        if self._rpc is not None:
            try:
                self._rpc.stop()
            except Exception:
                LOG.exception("stopping %s failed", self.topic)
            self._rpc = None
        if self.metadata is not None:
            try:
                self.metadata.close()
            except Exception:
                LOG.exception("closing the metadata proxies failed")
        if self.chassis is not None:
            self.chassis.stop()
