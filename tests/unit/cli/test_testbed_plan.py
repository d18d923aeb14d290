"""The test bed's plan: ids, subnets, names, per-host configuration, the state file and the teardown order."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from stratus.cli.testbed import Step, teardown_steps
from stratus.cli.testbed_plan import (
    DEFAULT_PORTS,
    Plan,
    check_id,
    load_plan,
    make_plan,
    new_id,
    pick_subnet_index,
    taken_indexes,
    to_toml,
)
from stratus.core.config import Config
from stratus.network import conf as network_conf


def plan(tmp_path: Path, hosts: int = 2, k: int = 100) -> Plan:
    return make_plan(tmp_path, hosts, k, DEFAULT_PORTS, "/usr/bin/python3", "stb1a2b")


def test_ids_are_short_hex_and_checked() -> None:
    assert check_id(new_id()).startswith("stb")
    assert len({new_id() for _ in range(50)}) > 40
    for bad in ("stb1a2", "stb1A2B", "xyz1a2b", "stb1a2b3", "stb../x"):
        with pytest.raises(ValueError):
            check_id(bad)


def test_subnet_index_avoids_used_networks_and_other_testbeds() -> None:
    assert pick_subnet_index(["192.0.2.2/24", "127.0.0.1/8"]) == 100
    assert pick_subnet_index(["10.250.100.0/24"]) == 101
    assert pick_subnet_index(["172.24.100.7/32"]) == 101
    assert pick_subnet_index(["10.250.96.0/20"]) == 112  # 96..111 overlap
    assert pick_subnet_index([], taken={100, 101}) == 102
    assert pick_subnet_index(["0.0.0.0/0", "not-a-cidr"]) == 100  # a default route blocks nothing


def test_every_name_fits_an_interface_and_is_unique(tmp_path: Path) -> None:
    p = plan(tmp_path, hosts=12)
    names = [*p.root_links, *p.namespaces]
    assert all(len(n) <= 15 for n in names), names
    assert len(set(names)) == len(names)
    assert all(n.startswith("stb1a2b-") for n in names)
    assert [h.address for h in p.hosts[:2]] == ["10.250.100.11/24", "10.250.100.12/24"]
    assert [h.gateway for h in p.hosts[:3]] == [True, False, False]
    assert p.databases == ["stb1a2b_identity", "stb1a2b_image", "stb1a2b_compute", "stb1a2b_network"]


def test_hosts_count_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_plan(tmp_path, 0, 100, DEFAULT_PORTS, "python")


def test_controller_config_is_valid_and_reachable_from_the_hosts(tmp_path: Path) -> None:
    p = plan(tmp_path)
    config = Config(tomllib.loads(to_toml(p.controller_config())), env={})
    assert config.core.bind_host == config.core.public_host == "10.250.100.1"
    assert config.database_url("network") == "postgresql+psycopg://postgres@127.0.0.1:5432/stb1a2b_network"
    network = network_conf.load(config)
    assert network.ovn_central_listen == "10.250.100.1"
    assert network.gateway_chassis == ["stb1a2b-h1"]
    assert network.public_cidr == "172.24.100.1/24"
    assert not network_conf.agent_config(config).enabled


def test_host_config_names_the_controller_by_url_only(tmp_path: Path) -> None:
    p = plan(tmp_path)
    h1, h2 = (Config(tomllib.loads(to_toml(p.host_config(h))), env={}) for h in p.hosts)
    assert h1.core.host == "stb1a2b-h1" and h2.core.host == "stb1a2b-h2"
    assert h1.core.bus_url == "amqp://guest:guest@10.250.100.1:5672/stb1a2b"
    assert h1.core.metadata_secret == p.metadata_secret == h2.core.metadata_secret
    a1, a2 = network_conf.agent_config(h1), network_conf.agent_config(h2)
    assert a1.ovn_sb_connection == "tcp:10.250.100.1:6642"
    assert network_conf.encap_address(a1) == "10.250.100.11" and network_conf.encap_address(a2) == "10.250.100.12"
    assert a1.underlay_interface == "ul0" and a1.underlay_cidr == "10.250.100.11/24"
    assert a1.metadata_url == "http://10.250.100.1:8775"
    assert a1.bridge_mappings == {"public": "br-ex"} and a1.bridge_ports == {"br-ex": "ex0"} and a1.gateway_chassis
    assert a2.bridge_mappings == {} and a2.bridge_ports == {} and not a2.gateway_chassis
    assert not a1.external_cidr  # the root namespace, not the host, holds public's gateway
    assert "database_url" not in p.host_config(p.hosts[0])["core"]


def test_state_file_round_trips_and_is_found(tmp_path: Path) -> None:
    p = plan(tmp_path)
    p.pids = {"controller": 10, "stb1a2b-h1": 11}
    p.save()
    assert (p.state_file.stat().st_mode & 0o777) == 0o600  # it holds the metadata secret
    loaded = load_plan(tmp_path, None)
    assert loaded == p
    assert load_plan(tmp_path, "stb1a2b") == p
    assert taken_indexes(tmp_path) == {100}
    with pytest.raises(LookupError):
        load_plan(tmp_path, "stb9999")
    make_plan(tmp_path, 1, 101, DEFAULT_PORTS, "python", "stb0000").save()
    with pytest.raises(LookupError, match="several"):
        load_plan(tmp_path, None)


def test_teardown_stops_processes_before_removing_what_they_use(tmp_path: Path) -> None:
    p = plan(tmp_path)
    p.pids = {"relay": 5, "controller": 6, "stb1a2b-h1": 7}  # h2 never started
    steps = teardown_steps(p)
    kinds = [s.kind for s in steps]
    assert steps[:2] == [Step("stop-host", "stb1a2b-h1", 7), Step("stop-host", "stb1a2b-h2", 0)]
    assert kinds.index("stop-controller") < kinds.index("kill-leftovers") < kinds.index("delete-namespace")
    assert kinds.index("delete-namespace") < kinds.index("delete-link") < kinds.index("drop-databases")
    assert kinds[-1] == "remove-directory" and steps[-1].target == str(p.directory)
    removed = {s.target for s in steps if s.kind in ("delete-namespace", "delete-link", "delete-metadata-netns")}
    assert removed == {"stb1a2b-h1", "stb1a2b-h2", "stb1a2b-h1u", "stb1a2b-h2u", "stb1a2b-ex", "stb1a2b-ul"}
    assert Step("drop-databases", ",".join(p.databases)) in steps and Step("delete-vhost", "stb1a2b") in steps


def test_toml_writer_round_trips() -> None:
    data = {"s": {"a": 'x "quoted" \\ é', "b": 3, "c": True, "d": ["p", "q"], "e": {"k-1": "v"}, "f": 1.5}}
    assert tomllib.loads(to_toml(data)) == data


def test_a_joined_host_is_host_n_plus_1_and_down_removes_it(tmp_path: Path) -> None:
    p = plan(tmp_path, hosts=2)
    host = p.next_host()
    assert (host.index, host.name, host.address, host.gateway, host.joined) == (
        3, "stb1a2b-h3", "10.250.100.13/24", False, True)  # fmt: skip
    p.hosts.append(host)
    p.save()
    again = load_plan(tmp_path, "stb1a2b")
    assert again.hosts[-1] == host
    steps = teardown_steps(again)
    assert Step("delete-namespace", "stb1a2b-h3") in steps and Step("delete-link", "stb1a2b-h3u") in steps


def test_the_controller_serves_the_join_api_with_the_hosts_bus_url(tmp_path: Path) -> None:
    p = plan(tmp_path)
    join = p.controller_config()["join"]
    assert join == {"port": DEFAULT_PORTS["join"], "bus_url": p.bus_url_hosts}


def test_plans_saved_before_the_join_api_still_load(tmp_path: Path) -> None:
    import json

    p = plan(tmp_path)
    data = json.loads(p.to_json())
    del data["ports"]["join"]
    for h in data["hosts"]:
        del h["joined"]
    old = Plan.from_json(json.dumps(data))
    assert old.join_port == DEFAULT_PORTS["join"] and not old.hosts[0].joined
