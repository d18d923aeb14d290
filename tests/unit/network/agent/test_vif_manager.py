from __future__ import annotations

import pytest

from stratus.network.agent import vif
from stratus.network.agent.iplink import IpLink
from stratus.network.agent.manager import VifManager
from tests.unit.network.agent.fakes import FakeIpRunner, FakeOvs

MAC = "FA:16:3E:00:00:01"


class Recorder:
    def __init__(self, fail_ensure: bool = False) -> None:
        self.calls: list[tuple[str, object]] = []
        self.fail_ensure = fail_ensure

    def ensure(self, network_id: str) -> None:
        self.calls.append(("ensure", network_id))
        if self.fail_ensure:
            raise RuntimeError("no namespace for you")

    def release(self, network_id: str) -> None:
        self.calls.append(("release", network_id))

    def sync(self, network_ids: set[str]) -> None:
        self.calls.append(("sync", set(network_ids)))

    def close(self) -> None:
        self.calls.append(("close", None))


@pytest.fixture
def parts() -> tuple[FakeOvs, FakeIpRunner, Recorder, VifManager]:
    ovs, runner, md = FakeOvs(), FakeIpRunner(), Recorder()
    return ovs, runner, md, VifManager(ovs, IpLink(None, runner=runner), "br-int", md)


def test_plug_creates_tap_outside_ovs_and_marks_the_interface(parts) -> None:  # type: ignore[no-untyped-def]
    ovs, runner, md, mgr = parts
    mgr.plug_vif("p1", "n1", MAC, "tapp1", 1442)
    assert runner.devices["tapp1"] == {"kind": "tap", "up": True, "mtu": 1442}
    assert ovs.ports == {"tapp1": "br-int"}
    assert ovs.ids["tapp1"] == {
        "iface-id": "p1", "attached-mac": MAC.lower(), "iface-status": "active", vif.MARKER: "n1",
        vif.MTU_KEY: "1442",
    }  # fmt: skip
    assert ["ip", "tuntap", "add", "dev", "tapp1", "mode", "tap"] in runner.commands
    assert md.calls == [("ensure", "n1")]
    assert mgr.networks() == {"n1": {"p1"}}


def test_plug_is_idempotent(parts) -> None:  # type: ignore[no-untyped-def]
    ovs, runner, md, mgr = parts
    mgr.plug_vif("p1", "n1", MAC, "tapp1", 1442)
    mgr.plug_vif("p1", "n1", MAC, "tapp1", 1442)
    assert sum(1 for c in runner.commands if c[1] == "tuntap") == 1
    assert ovs.ports == {"tapp1": "br-int"}
    assert mgr.networks() == {"n1": {"p1"}}
    assert md.calls == [("ensure", "n1"), ("ensure", "n1")]


def test_last_vif_of_a_network_releases_it(parts) -> None:  # type: ignore[no-untyped-def]
    ovs, runner, md, mgr = parts
    mgr.plug_vif("p1", "n1", MAC, "tapp1", 1442)
    mgr.plug_vif("p2", "n1", "fa:16:3e:00:00:02", "tapp2", 1442)
    mgr.unplug_vif("p1", "tapp1")
    assert ("release", "n1") not in md.calls
    mgr.unplug_vif("p2", "tapp2")
    assert md.calls[-1] == ("release", "n1")
    assert runner.devices == {} and ovs.ports == {}
    assert mgr.networks() == {}
    mgr.unplug_vif("p2", "tapp2")  # idempotent, no second release
    assert md.calls.count(("release", "n1")) == 1


def test_unplug_of_an_unknown_port_reads_the_network_from_the_bridge() -> None:
    ovs, runner = FakeOvs(), FakeIpRunner()
    first = VifManager(ovs, IpLink(None, runner=runner), "br-int", Recorder())
    first.plug_vif("p1", "n1", MAC, "tapp1", 1500)
    md = Recorder()
    second = VifManager(ovs, IpLink(None, runner=runner), "br-int", md)  # a restarted agent, not rebuilt
    second.unplug_vif("p1", "tapp1")
    assert md.calls == [("release", "n1")]


def test_rebuild_reads_marked_ports_of_the_bridge_only() -> None:
    ovs, runner, md = FakeOvs(), FakeIpRunner(), Recorder()
    ovs.add_port("br-int", "tapa", external_ids=vif.vif_external_ids("pa", "n1", MAC))
    ovs.add_port("br-int", "tapb", external_ids=vif.vif_external_ids("pb", "n2", MAC))
    ovs.add_port("br-int", "meta", iface_id="lsp-meta")  # not a Stratus VIF: no marker
    ovs.add_port("br-other", "tapc", external_ids=vif.vif_external_ids("pc", "n3", MAC))
    mgr = VifManager(ovs, IpLink(None, runner=runner), "br-int", md)
    assert mgr.rebuild() == {"n1": {"pa"}, "n2": {"pb"}}
    assert md.calls == [("sync", {"n1", "n2"})]


def test_rebuild_makes_again_the_taps_a_host_reboot_removed() -> None:
    ovs, runner, md = FakeOvs(), FakeIpRunner(), Recorder()
    ovs.add_port("br-int", "tapa", external_ids=vif.vif_external_ids("pa", "n1", MAC, 1400))
    ovs.add_port("br-int", "tapb", external_ids=vif.vif_external_ids("pb", "n1", MAC))
    runner.devices["tapb"] = {"kind": "tap", "up": True, "mtu": 1442}  # survived
    mgr = VifManager(ovs, IpLink(None, runner=runner), "br-int", md)
    mgr.rebuild()
    assert runner.devices["tapa"] == {"kind": "tap", "up": True, "mtu": 1400}
    assert sum(1 for c in runner.commands if c[1] == "tuntap") == 1  # tapb was left alone


def test_moving_a_port_to_another_network_releases_the_old_one(parts) -> None:  # type: ignore[no-untyped-def]
    ovs, runner, md, mgr = parts
    mgr.plug_vif("p1", "n1", MAC, "tapp1", 1442)
    mgr.plug_vif("p1", "n2", MAC, "tapp9", 1442)
    assert md.calls[-2:] == [("ensure", "n2"), ("release", "n1")]
    assert set(runner.devices) == {"tapp9"} and ovs.ids["tapp9"][vif.MARKER] == "n2"


def test_metadata_failure_does_not_fail_the_plug() -> None:
    ovs, runner, md = FakeOvs(), FakeIpRunner(), Recorder(fail_ensure=True)
    mgr = VifManager(ovs, IpLink(None, runner=runner), "br-int", md)
    mgr.plug_vif("p1", "n1", MAC, "tapp1", 1442)
    assert ovs.ports == {"tapp1": "br-int"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"devname": "tap-with-a-much-too-long-name"}, "interface name"),
        ({"devname": "tap/1"}, "interface name"),
        ({"mac_address": "zz:16:3e:00:00:01"}, "MAC"),
        ({"mtu": 10}, "MTU"),
        ({"port_id": ""}, "port_id"),
        ({"network_id": 'n"1'}, "network_id"),
    ],
)
def test_bad_arguments_are_refused_before_touching_anything(parts, kwargs, message) -> None:  # type: ignore[no-untyped-def]
    ovs, runner, md, mgr = parts
    args = {"port_id": "p1", "network_id": "n1", "mac_address": MAC, "devname": "tapp1", "mtu": 1442, **kwargs}
    with pytest.raises(ValueError, match=message):
        mgr.plug_vif(**args)
    assert runner.commands == [] and ovs.calls == [] and md.calls == []


def test_ip_commands_run_in_the_namespace() -> None:
    runner = FakeIpRunner()
    ip = IpLink("ns1", runner=runner)
    ip.add_tap("tap1")
    ip.set_up("tap1", mtu=1442)
    assert runner.commands[-2:] == [
        ["ip", "-n", "ns1", "tuntap", "add", "dev", "tap1", "mode", "tap"],
        ["ip", "-n", "ns1", "link", "set", "dev", "tap1", "mtu", "1442", "up"],
    ]
    assert IpLink("ns1")._cmd("ethtool", "-K", "x", "tx", "off") == [
        "ip", "netns", "exec", "ns1", "ethtool", "-K", "x", "tx", "off",
    ]  # fmt: skip
