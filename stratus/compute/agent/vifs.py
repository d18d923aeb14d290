"""Plugging a guest's VIFs through this host's network agent, and waiting until the network says they are up.

As Nova's libvirt driver does with ``vif_plugging_timeout``: expect ``network-vif-plugged`` for every
port not yet ACTIVE, plug the taps (``network-agent.<host>`` ``plug_vif``), then wait. A port the
network never reports up fails the build for good (``VifPlugTimeout``, not rescheduled).
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from stratus.compute.agent.vif_events import EventTimeout, VifEventRegistry
from stratus.compute.messages import VifSpec, tap_devname

LOG = logging.getLogger(__name__)
PLUGGED = "network-vif-plugged"


class NetworkAgent(Protocol):
    """What the compute agent asks of the network agent of its host (``NetworkAgentClient``)."""

    def plug_vif(self, *, port_id: str, network_id: str, mac_address: str, devname: str, mtu: int) -> None: ...

    def unplug_vif(self, *, port_id: str, devname: str) -> None: ...


class VifPlugTimeout(Exception):
    """The network service did not report every port up in time (Nova's VirtualInterfaceCreateException)."""


class VifPlugger:
    def __init__(self, network_agent: NetworkAgent, events: VifEventRegistry, timeout: float):
        self._agent = network_agent
        self._events = events
        self.timeout = timeout

    def plug_and_wait(self, instance_uuid: str, vifs: list[VifSpec]) -> None:
        """Plug every VIF, then wait until each one not already active is reported plugged.

        Raises VifPlugTimeout (ports not up in time, or reported failed) or whatever plug_vif raised.
        The caller unplugs on failure.
        """
        waiter = self._events.expect(instance_uuid, [(PLUGGED, v.port_id) for v in vifs if not v.active])
        try:
            for vif in vifs:
                self._agent.plug_vif(
                    port_id=vif.port_id,
                    network_id=vif.network_id,
                    mac_address=vif.mac_address,
                    devname=vif.devname or tap_devname(vif.port_id),
                    mtu=vif.mtu,
                )
            received = waiter.wait(time.monotonic() + self.timeout)
        except EventTimeout as exc:
            ports = ", ".join(tag for _, tag in exc.missing)
            raise VifPlugTimeout(
                f"Virtual Interface creation failed: port(s) {ports} not reported up by the network service "
                f"within {self.timeout:g} s"
            ) from None
        finally:
            waiter.cancel()
        failed = sorted(tag for (_, tag), status in received.items() if status == "failed")
        if failed:
            raise VifPlugTimeout(
                f"Virtual Interface creation failed: the network service failed to plug port(s) {', '.join(failed)}"
            )

    def unplug(self, instance_uuid: str, vifs: list[VifSpec]) -> None:
        """Unplug every VIF; failures are logged, never raised (the network agent's resync cleans up)."""
        for vif in vifs:
            try:
                self._agent.unplug_vif(port_id=vif.port_id, devname=vif.devname or tap_devname(vif.port_id))
            except Exception as exc:
                LOG.warning("could not unplug port %s of %s: %s", vif.port_id, instance_uuid, exc)
