"""The join API and the ``stratus host admit`` / ``stratus join`` commands, against a real HTTP server on loopback."""

from __future__ import annotations

import socket
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from stratus.cli import join as joining
from stratus.cli.join_api import create_join_app, node_settings, start_server
from stratus.cli.join_tokens import AdmissionStore
from stratus.cli.main import app
from stratus.cli.testbed_plan import to_toml
from stratus.core.config import Config, load_config

SECRET = "s3cr3t-metadata"


def controller_raw(state_dir: Path, port: int = 8779) -> dict[str, Any]:
    return {
        "core": {
            "state_dir": str(state_dir),
            "bind_host": "127.0.0.1",
            "public_host": "10.9.0.1",
            "bus_url": "amqp://guest:guest@127.0.0.1:5672/vh",
            "identity_url": "http://10.9.0.1:5000",
            "metadata_secret": SECRET,
        },
        "network": {"ovn_central_listen": "10.9.0.1", "ovs_datapath_type": "netdev"},
        "join": {"port": port},
    }


@pytest.fixture
def controller(tmp_path: Path) -> Config:
    return Config(controller_raw(tmp_path / "controller"), env={})


@pytest.fixture
def client(controller: Config) -> TestClient:
    return TestClient(create_join_app(controller, AdmissionStore(controller.core.state_dir)))


def test_the_settings_name_the_controller_as_hosts_reach_it(controller: Config) -> None:
    settings = node_settings(controller)
    assert settings["core"] == {
        "bus_url": "amqp://guest:guest@10.9.0.1:5672/vh",  # loopback replaced by the public address
        "identity_url": "http://10.9.0.1:5000",
        "metadata_secret": SECRET,
    }
    assert settings["compute"] == {"image_url": "http://10.9.0.1:9292"}
    assert settings["network_agent"] == {
        "ovn_sb_connection": "tcp:10.9.0.1:6642",
        "metadata_url": "http://10.9.0.1:8775",
        "datapath_type": "netdev",
    }
    assert settings["compute_agent"] == {"availability_zone": "nova"}
    assert "database_url" not in settings["core"] and "service_auth" not in settings
    explicit = controller.with_overrides(join={"bus_url": "amqp://g:g@10.9.0.1:5673/vh"})
    assert node_settings(explicit)["core"]["bus_url"] == "amqp://g:g@10.9.0.1:5673/vh"


def test_join_rules_over_http(client: TestClient, controller: Config) -> None:
    store = AdmissionStore(controller.core.state_dir)
    token = store.admit("node-3")

    never = client.post("/v1/join", json={"hostname": "node-9", "token": token})
    assert never.status_code == 403 and "not admitted" in never.json()["error"]["message"]
    wrong = client.post("/v1/join", json={"hostname": "node-3", "token": "nope"})
    assert wrong.status_code == 403 and "not the one issued" in wrong.json()["error"]["message"]

    ok = client.post("/v1/join", json={"hostname": "node-3", "token": token})
    assert ok.status_code == 200, ok.text
    assert ok.json()["join"]["hostname"] == "node-3"
    assert ok.json()["join"]["config"]["core"]["metadata_secret"] == SECRET

    again = client.post("/v1/join", json={"hostname": "node-3", "token": token})
    assert again.status_code == 403 and "already used" in again.json()["error"]["message"]


def test_an_expired_token_is_refused_over_http(controller: Config) -> None:
    clock = {"now": 100.0}
    store = AdmissionStore(controller.core.state_dir, clock=lambda: clock["now"])
    client = TestClient(create_join_app(controller, store))
    token = store.admit("node-3", ttl=10)
    clock["now"] = 111.0
    resp = client.post("/v1/join", json={"hostname": "node-3", "token": token})
    assert resp.status_code == 403 and "expired" in resp.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"hostname": "node-3"},
        {"hostname": "bad name", "token": "t"},
        {"hostname": "node-3", "token": 5},
        {"hostname": "", "token": "t"},
        ["node-3"],
    ],
)
def test_bad_requests_get_400(client: TestClient, body: Any) -> None:
    resp = client.post("/v1/join", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == 400


def test_not_json_gets_400(client: TestClient) -> None:
    resp = client.post("/v1/join", content=b"{nope", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400


# --- the commands, end to end over a real server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A controller config file and its join API's URL (the join server alone, as the controller serves it)."""
    port = _free_port()
    config_file = tmp_path / "controller.toml"
    config_file.write_text(to_toml(controller_raw(tmp_path / "controller", port)))
    server = start_server(load_config(config_file, env={}))
    assert server is not None
    try:
        yield config_file, f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _admit(config_file: Path, host: str) -> str:
    done = CliRunner().invoke(app, ["host", "admit", "--quiet", "--config", str(config_file), host])
    assert done.exit_code == 0, done.output
    return done.output.strip()


def _join(url: str, token: str, host: str, out: Path, *extra: str) -> Any:
    """The result of ``stratus join``; ``.text`` is its output with rich's line wrapping undone."""
    result = CliRunner().invoke(
        app,
        ["join", url, "--token", token, "--hostname", host, "--underlay-cidr", "10.9.0.13/24",
         "--underlay-interface", "eth1", "--state-dir", str(out.parent / "state"), "--config-file", str(out),
         "--no-install", "--no-start", *extra],
    )  # fmt: skip
    result.text = " ".join(result.output.split())
    return result


def test_admit_then_join_writes_the_compute_config(served: tuple[Path, str], tmp_path: Path) -> None:
    config_file, url = served
    token = _admit(config_file, "node-3")
    out = tmp_path / "node" / "stratus.toml"

    done = _join(url, token, "node-3", out)
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    written = tomllib.loads(out.read_text())
    assert written["core"]["host"] == "node-3"
    assert written["core"]["metadata_secret"] == SECRET
    assert written["core"]["bus_url"] == "amqp://guest:guest@10.9.0.1:5672/vh"
    agent = written["network_agent"]
    assert (agent["encap_ip"], agent["underlay_cidr"], agent["underlay_interface"]) == ("10.9.0.13", "10.9.0.13/24",
                                                                                         "eth1")  # fmt: skip
    assert agent["ovn_sb_connection"] == "tcp:10.9.0.1:6642"
    # it is a valid compute-role configuration
    from stratus.cli import roles
    from stratus.network import conf as network_conf

    node = roles.compute_config(load_config(out, env={}))
    assert node.core.database_url == roles.NO_DATABASE_URL
    assert network_conf.agent_config(node).encap_ip == "10.9.0.13"

    again = _join(url, token, "node-3", tmp_path / "again.toml")
    assert again.exit_code == 1 and "already used" in again.text
    assert not (tmp_path / "again.toml").exists()


def test_join_refusals_exit_non_zero(served: tuple[Path, str], tmp_path: Path) -> None:
    config_file, url = served
    token = _admit(config_file, "node-3")
    never = _join(url, token, "node-4", tmp_path / "n4.toml")
    assert never.exit_code == 1 and "not admitted" in never.text
    wrong = _join(url, "forged-token", "node-3", tmp_path / "n3.toml")
    assert wrong.exit_code == 1 and "not the one issued" in wrong.text
    assert not list(tmp_path.glob("n*.toml"))
    unreachable = _join(f"http://127.0.0.1:{_free_port()}", token, "node-3", tmp_path / "n3.toml")
    assert unreachable.exit_code == 1 and "cannot reach" in unreachable.text


def test_join_needs_a_tunnel_address(tmp_path: Path) -> None:
    settings = {"core": {"bus_url": "amqp://x"}}
    with pytest.raises(joining.JoinError, match="--underlay-cidr"):
        joining.host_config(settings, "node-3", tmp_path)
    with pytest.raises(joining.JoinError, match="--underlay-interface"):
        joining.host_config(settings, "node-3", tmp_path, underlay_cidr="10.0.0.1/24")
    with pytest.raises(joining.JoinError, match="address/prefix"):
        joining.host_config(settings, "node-3", tmp_path, underlay_cidr="nope", underlay_interface="eth1")
    config = joining.host_config(settings, "node-3", tmp_path, encap_ip="10.0.0.7")
    assert config["network_agent"]["encap_ip"] == "10.0.0.7" and "underlay_cidr" not in config["network_agent"]


def test_admit_refuses_a_bad_host_name(served: tuple[Path, str]) -> None:
    config_file, _url = served
    done = CliRunner().invoke(app, ["host", "admit", "--config", str(config_file), "bad name"])
    assert done.exit_code == 2 and "invalid host name" in done.output
