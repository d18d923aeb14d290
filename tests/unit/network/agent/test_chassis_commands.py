from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from stratus.core.config import Config
from stratus.network import conf
from stratus.network.agent import chassis
from stratus.network.agent.central import OvnCentral
from stratus.network.agent.ovs import Ovs, OvsError, ovsdb_map


def make_config(tmp_path: Path, **agent: Any) -> Config:
    return Config({"core": {"state_dir": str(tmp_path), "host": "h1"}, "network_agent": agent}, env={})


def test_datapath_type_auto_follows_the_kernel_module(tmp_path: Path) -> None:
    assert chassis.datapath_type("auto", kernel_module=tmp_path / "missing") == "netdev"
    assert chassis.datapath_type("auto", kernel_module=tmp_path) == "system"
    assert chassis.datapath_type("netdev") == "netdev"
    with pytest.raises(ValueError, match="datapath_type"):
        chassis.datapath_type("dpdk")


def test_open_vswitch_ids_register_this_host(tmp_path: Path) -> None:
    config = make_config(tmp_path, bridge_mappings={"public": "br-ex", "phys2": "br-p2"}, encap_ip="10.0.0.5")
    ids = chassis.open_vswitch_ids(config, conf.agent_config(config), "netdev")
    assert ids["system-id"] == "h1"
    assert ids["ovn-remote"] == f"unix:{tmp_path}/ovn/sb.sock"
    assert (ids["ovn-encap-type"], ids["ovn-encap-ip"]) == ("geneve", "10.0.0.5")
    assert (ids["ovn-bridge"], ids["ovn-bridge-datapath-type"]) == ("br-int", "netdev")
    assert ids["ovn-bridge-mappings"] == "public:br-ex,phys2:br-p2"
    assert ids["ovn-cms-options"] == "enable-chassis-as-gw"


def test_remote_southbound_and_no_gateway(tmp_path: Path) -> None:
    config = make_config(tmp_path, ovn_sb_connection="tcp:10.0.0.1:6642", gateway_chassis=False)
    agent = conf.agent_config(config)
    assert "ovn-cms-options" not in chassis.open_vswitch_ids(config, agent, "system")
    assert chassis.open_vswitch_ids(config, agent, "system")["ovn-remote"] == "tcp:10.0.0.1:6642"
    cmds = chassis.setup_commands(config, agent, "system")
    assert ["--no-wait", "remove", "Open_vSwitch", ".", "external_ids", "ovn-cms-options"] in cmds


def test_setup_commands_make_bridges_with_the_datapath_type(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    cmds = chassis.setup_commands(config, conf.agent_config(config), "netdev")
    assert cmds[0] == ["--no-wait", "init"]
    assert 'external_ids:ovn-bridge-mappings="public:br-ex"' in cmds[1]
    br_int = next(c for c in cmds if "add-br" in c and "br-int" in c)
    assert {"--may-exist", "datapath_type=netdev", "fail-mode=secure"} <= set(br_int)
    br_ex = next(c for c in cmds if "add-br" in c and "br-ex" in c)
    assert "datapath_type=netdev" in br_ex and "fail-mode=secure" not in br_ex


def test_daemon_command_lines(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ch = chassis.Chassis(config, netns="ns1")
    by_name = {p.spec.name: p.spec for p in ch.supervisor.processes}
    assert list(by_name) == ["ovsdb-server", "ovs-vswitchd", "ovn-controller"]
    assert by_name["ovsdb-server"].argv[:3] == [
        "ovsdb-server",
        f"{tmp_path}/ovs/conf.db",
        f"--remote=punix:{tmp_path}/ovs/db.sock",
    ]
    for name in ("ovs-vswitchd", "ovn-controller"):
        spec = by_name[name]
        assert spec.argv[:6] == ["ip", "netns", "exec", "ns1", name, f"unix:{tmp_path}/ovs/db.sock"]
        assert "--detach" not in spec.argv and "-d" not in spec.argv
        assert spec.env["OVS_RUNDIR"] == spec.env["OVN_RUNDIR"] == f"{tmp_path}/ovs"
        assert spec.program == name
    assert "--unixctl" not in " ".join(by_name["ovn-controller"].argv)  # 23.03 rejects it
    central = OvnCentral(conf.ovn_dir(config))
    specs = {p.spec.name: p.spec for p in central.supervisor.processes}
    assert list(specs) == ["ovsdb-nb", "ovsdb-sb", "ovn-northd"]
    assert f"--remote=punix:{tmp_path}/ovn/nb.sock" in specs["ovsdb-nb"].argv
    assert specs["ovn-northd"].argv[1:3] == [f"--ovnnb-db=unix:{tmp_path}/ovn/nb.sock",
                                             f"--ovnsb-db=unix:{tmp_path}/ovn/sb.sock"]  # fmt: skip


class Recorded:
    def __init__(self, stdout: str = "", returncode: int = 0, stderr: str = "") -> None:
        self.out = subprocess.CompletedProcess([], returncode, stdout, stderr)
        self.commands: list[list[str]] = []

    def __call__(self, cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(cmd)
        return self.out


def test_ovs_add_port_sets_ids_in_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorded()
    monkeypatch.setattr(subprocess, "run", rec)
    Ovs("/s/db.sock", timeout=7).add_port("br-int", "tap1", iface_id="p1", external_ids={"attached-mac": "aa:bb"})
    assert rec.commands == [[
        "ovs-vsctl", "--db=unix:/s/db.sock", "--timeout=7", "--may-exist", "add-port", "br-int", "tap1",
        "--", "set", "Interface", "tap1", 'external_ids:"attached-mac"="aa:bb"', 'external_ids:"iface-id"="p1"',
    ]]  # fmt: skip
    Ovs("/s/db.sock").del_port("tap1")
    assert rec.commands[-1][-3:] == ["--if-exists", "del-port", "tap1"]


def test_ovs_errors_quote_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", Recorded(returncode=1, stderr="ovs-vsctl: no bridge named br-x\n"))
    with pytest.raises(OvsError, match="no bridge named br-x") as err:
        Ovs("/s/db.sock").list_ports("br-x")
    assert err.value.returncode == 1


def test_ovs_reads_interfaces_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"headings": ["name", "external_ids"], "data": [
        ["tap1", ["map", [["iface-id", "p1"], ["stratus-network", "n1"]]]], ["br-int", ["map", []]],
    ]}  # fmt: skip
    monkeypatch.setattr(subprocess, "run", Recorded(stdout=json.dumps(data)))
    ovs = Ovs("/s/db.sock")
    assert ovs.interfaces() == {"tap1": {"iface-id": "p1", "stratus-network": "n1"}, "br-int": {}}
    assert ovs.interface_external_ids("tap1") == {"iface-id": "p1", "stratus-network": "n1"}
    monkeypatch.setattr(subprocess, "run", Recorded(stdout=json.dumps({"headings": [], "data": []})))
    assert ovs.interface_external_ids("nope") == {}
    assert ovsdb_map(["set", []]) == {}
