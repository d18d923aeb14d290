"""The agent's wait for network-vif-plugged: registry, early events, timeouts, and the plugger around it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from stratus.compute.agent.vif_events import EventTimeout, VifEventRegistry
from stratus.compute.agent.vifs import VifPlugger, VifPlugTimeout
from stratus.compute.messages import VifSpec

UUID = "6f1c9a52-0d7e-4a8e-9b1e-2d3c4b5a6f70"
PLUGGED = "network-vif-plugged"


def test_event_arriving_before_wait_is_kept() -> None:
    reg = VifEventRegistry()
    waiter = reg.expect(UUID, [(PLUGGED, "p1"), (PLUGGED, "p2")])
    assert reg.deliver(UUID, PLUGGED, "p1")
    assert reg.deliver_all([{"server_uuid": UUID, "name": PLUGGED, "tag": "p2", "status": "completed"}]) == 1
    assert waiter.wait(time.monotonic() + 0.01) == {(PLUGGED, "p1"): "completed", (PLUGGED, "p2"): "completed"}
    assert not reg.waiting(UUID)


def test_event_from_another_thread_wakes_the_waiter() -> None:
    reg = VifEventRegistry()
    waiter = reg.expect(UUID, [(PLUGGED, "p1")])
    thread = threading.Thread(target=reg.deliver, args=(UUID, PLUGGED, "p1"))
    thread.start()
    assert waiter.wait(time.monotonic() + 5) == {(PLUGGED, "p1"): "completed"}
    thread.join()


def test_timeout_names_the_missing_events_and_unregisters() -> None:
    reg = VifEventRegistry()
    waiter = reg.expect(UUID, [(PLUGGED, "p1"), (PLUGGED, "p2")])
    reg.deliver(UUID, PLUGGED, "p2")
    with pytest.raises(EventTimeout) as info:
        waiter.wait(time.monotonic() + 0.05)
    assert info.value.missing == [(PLUGGED, "p1")]
    assert not reg.waiting(UUID)
    assert not reg.deliver(UUID, PLUGGED, "p1")  # too late: nobody waits any more


def test_unexpected_events_are_dropped() -> None:
    reg = VifEventRegistry()
    assert not reg.deliver(UUID, PLUGGED, "p1")  # nobody waits
    waiter = reg.expect(UUID, [(PLUGGED, "p1")])
    assert not reg.deliver(UUID, "network-vif-unplugged", "p1")
    assert not reg.deliver("other", PLUGGED, "p1")
    assert not reg.deliver(UUID, PLUGGED, "p9")
    waiter.cancel()
    assert not reg.waiting(UUID)


class Agent:
    """A network agent double: records calls; ``report`` delivers the plugged event during plug_vif."""

    def __init__(self, registry: VifEventRegistry, report: bool = True, status: str = "completed"):
        self.registry, self.report, self.status = registry, report, status
        self.plugged: list[dict[str, Any]] = []
        self.unplugged: list[tuple[str, str]] = []

    def plug_vif(self, *, port_id: str, network_id: str, mac_address: str, devname: str, mtu: int) -> None:
        self.plugged.append({"port_id": port_id, "devname": devname, "mtu": mtu})
        if self.report:  # the event comes back before plug_vif even returns: it must not be lost
            self.registry.deliver(UUID, PLUGGED, port_id, self.status)

    def unplug_vif(self, *, port_id: str, devname: str) -> None:
        self.unplugged.append((port_id, devname))
        raise RuntimeError("agent away")  # unplug never raises to the caller


def vif(port_id: str, **kw: Any) -> VifSpec:
    return VifSpec(port_id=port_id, network_id="n", mac_address="fa:16:3e:00:00:01", **kw)


def test_plugger_plugs_every_vif_and_waits_for_the_inactive_ones() -> None:
    reg = VifEventRegistry()
    agent = Agent(reg)
    plugger = VifPlugger(agent, reg, timeout=5)
    plugger.plug_and_wait(UUID, [vif("0123456789abcdef"), vif("p2", devname="tapX", mtu=1500)])
    assert agent.plugged == [
        {"port_id": "0123456789abcdef", "devname": "tap0123456789a", "mtu": 1442},
        {"port_id": "p2", "devname": "tapX", "mtu": 1500},
    ]
    agent.report = False  # an already ACTIVE port sends no event: not waited for
    plugger.plug_and_wait(UUID, [vif("p3", active=True)])
    plugger.unplug(UUID, [vif("p3")])
    assert agent.unplugged == [("p3", "tapp3")]


def test_plugger_times_out_with_novas_wording() -> None:
    reg = VifEventRegistry()
    plugger = VifPlugger(Agent(reg, report=False), reg, timeout=0.05)
    with pytest.raises(VifPlugTimeout) as info:
        plugger.plug_and_wait(UUID, [vif("p1")])
    assert str(info.value) == (
        "Virtual Interface creation failed: port(s) p1 not reported up by the network service within 0.05 s"
    )
    assert not reg.waiting(UUID)


def test_plugger_fails_on_a_failed_event() -> None:
    reg = VifEventRegistry()
    plugger = VifPlugger(Agent(reg, status="failed"), reg, timeout=5)
    with pytest.raises(VifPlugTimeout, match="failed to plug port"):
        plugger.plug_and_wait(UUID, [vif("p1")])
