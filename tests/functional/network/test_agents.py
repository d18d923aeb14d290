"""``/v2.0/agents`` on the fake back end: its chassis shown as ML2/OVN shows ovn-controllers."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.network.backends.fake import FakeBackend
from tests.functional.network.conftest import Api
from tests.functional.network.ovn_server import needs_ovn, wait_for


@pytest.fixture
def fake(api: Api) -> FakeBackend:
    """The service's fake back end with two more chassis: a gateway in an AZ, and a plain compute host."""
    backend = api.service.backend
    assert isinstance(backend, FakeBackend)
    backend.add_chassis("gw-1", "gateway-host", gateway=True, availability_zones=("az1", "az2"))
    backend.add_chassis("cmp-1", "compute-host")
    return backend


def agents(api: Api, query: str = "", as_: str = "admin") -> list[dict[str, Any]]:
    return api.ok("GET", f"/v2.0/agents{query}", as_)["agents"]  # type: ignore[no-any-return]


def test_extension_is_advertised(api: Api) -> None:
    assert api.ok("GET", "/v2.0/extensions/agent")["extension"]["alias"] == "agent"


def test_admin_lists_every_chassis_as_an_ovn_controller_agent(api: Api, fake: FakeBackend) -> None:
    host = api.service.config.core.host
    by_id = {a["id"]: a for a in agents(api)}
    assert set(by_id) == {host, "gw-1", "cmp-1"}
    gw = by_id["gw-1"]
    assert gw["agent_type"] == "OVN Controller Gateway agent"
    assert gw["binary"] == "ovn-controller"
    assert gw["host"] == "gateway-host"
    assert gw["alive"] is True and gw["admin_state_up"] is True
    assert gw["availability_zone"] == "az1, az2"
    assert gw["topic"] == "n/a" and gw["description"] == ""
    assert gw["configurations"] == {"chassis_name": "gw-1", "bridge-mappings": "public:br-ex"}
    assert set(gw) >= {"created_at", "started_at", "heartbeat_timestamp"}
    assert by_id["cmp-1"]["agent_type"] == "OVN Controller agent"
    assert by_id[host]["host"] == host  # the service's own host, registered by the fake


def test_show_and_fields(api: Api, fake: FakeBackend) -> None:
    agent = api.ok("GET", "/v2.0/agents/cmp-1", "admin")["agent"]
    assert agent["id"] == "cmp-1" and agent["host"] == "compute-host"
    assert agents(api) and agent in agents(api)  # Tempest's test_list_agent compares list and show
    shown = api.ok("GET", "/v2.0/agents/cmp-1?fields=id&fields=alive", "admin")["agent"]
    assert shown == {"id": "cmp-1", "alive": True}
    listed = agents(api, "?fields=host&fields=agent_type")
    assert {"host": "compute-host", "agent_type": "OVN Controller agent"} in listed
    assert all(set(a) == {"host", "agent_type"} for a in listed)


def test_filters(api: Api, fake: FakeBackend) -> None:
    fake.stop_chassis("cmp-1")
    assert [a["id"] for a in agents(api, "?agent_type=OVN Controller Gateway agent&host=gateway-host")] == ["gw-1"]
    assert [a["id"] for a in agents(api, "?alive=false")] == ["cmp-1"]
    assert "cmp-1" not in {a["id"] for a in agents(api, "?alive=True")}
    assert agents(api, "?binary=neutron-ovn-metadata-agent") == []
    assert {a["id"] for a in agents(api, "?host=compute-host&host=gateway-host")} == {"cmp-1", "gw-1"}
    api.error(api("GET", "/v2.0/agents?colour=blue", "admin"), 400)


def test_liveness_follows_the_pings(api: Api, fake: FakeBackend) -> None:
    fake.stop_chassis("cmp-1")
    shown = api.ok("GET", "/v2.0/agents/cmp-1", "admin")["agent"]
    assert shown["alive"] is False and shown["heartbeat_timestamp"] is None
    fake.ping_chassis()  # a live chassis answers each ping; a stopped one stays down
    by_id = {a["id"]: a for a in agents(api)}
    assert by_id["cmp-1"]["alive"] is False and by_id["gw-1"]["alive"] is True
    assert len(by_id["gw-1"]["heartbeat_timestamp"]) == len("2017-09-12 19:39:56")
    fake.add_chassis("cmp-1", "compute-host")  # ovn-controller came back
    assert api.ok("GET", "/v2.0/agents/cmp-1", "admin")["agent"]["alive"] is True


def test_update_description_and_admin_state(api: Api, fake: FakeBackend) -> None:
    body = {"agent": {"description": "rack 4"}}
    assert api.ok("PUT", "/v2.0/agents/gw-1", "admin", json=body)["agent"]["description"] == "rack 4"
    assert api.ok("GET", "/v2.0/agents/gw-1", "admin")["agent"]["description"] == "rack 4"
    # Tempest test_update_agent_status: setting admin_state_up to what it is works
    agent = api.ok("PUT", "/v2.0/agents/gw-1", "admin", json={"agent": {"admin_state_up": True}})["agent"]
    assert agent["admin_state_up"] is True and agent["description"] == "rack 4"
    # An OVN chassis cannot be disabled (as ML2/OVN answers)
    err = api.error(api("PUT", "/v2.0/agents/gw-1", "admin", json={"agent": {"admin_state_up": False}}), 400)
    assert "cannot be updated" in err["message"]
    api.error(api("PUT", "/v2.0/agents/gw-1", "admin", json={"agent": {"host": "elsewhere"}}), 400)
    api.error(api("PUT", "/v2.0/agents/gw-1", "admin", json={"agent": {"colour": "blue"}}), 400)
    api.error(api("PUT", "/v2.0/agents/gw-1", "admin", json={"agent": {"description": "x" * 256}}), 400)
    api.error(api("PUT", "/v2.0/agents/gw-1", "admin", json={"description": "no wrapper"}), 400)
    assert api.ok("GET", "/v2.0/agents/gw-1", "admin")["agent"]["description"] == "rack 4"


def test_delete(api: Api, fake: FakeBackend) -> None:
    assert api.ok("DELETE", "/v2.0/agents/cmp-1", "admin", status=204) is None
    assert "cmp-1" not in {a["id"] for a in agents(api)}
    api.error(api("GET", "/v2.0/agents/cmp-1", "admin"), 404, "AgentNotFound")
    api.error(api("DELETE", "/v2.0/agents/cmp-1", "admin"), 404, "AgentNotFound")


def test_unknown_agent_is_404(api: Api, fake: FakeBackend) -> None:
    for method, kwargs in (("GET", {}), ("PUT", {"json": {"agent": {"description": "d"}}}), ("DELETE", {})):
        err = api.error(api(method, "/v2.0/agents/nope", "admin", **kwargs), 404, "AgentNotFound")
        assert err["message"] == "Agent nope could not be found."


def test_agents_are_never_created(api: Api) -> None:
    assert api("POST", "/v2.0/agents", "admin", json={"agent": {"host": "h"}}).status_code == 405


@pytest.mark.parametrize("persona", ["member-a", "reader-a"])
def test_non_admins_see_no_agents(api: Api, fake: FakeBackend, persona: str) -> None:
    """As Neutron (policy admin-only, enforced by hiding): Tempest's test_list_agents_non_admin wants an
    empty list; a show, update or delete of an agent the caller may not see is a 404, and nothing changes."""
    assert agents(api, as_=persona) == []
    assert agents(api, "?host=compute-host", as_=persona) == []
    for method, kwargs in (("GET", {}), ("PUT", {"json": {"agent": {"description": "mine"}}}), ("DELETE", {})):
        err = api.error(api(method, "/v2.0/agents/cmp-1", persona, **kwargs), 404, "HTTPNotFound")
        assert err == {"type": "HTTPNotFound", "message": "The resource could not be found.", "detail": ""}
    agent = api.ok("GET", "/v2.0/agents/cmp-1", "admin")["agent"]
    assert agent["description"] == ""


def test_unauthenticated_is_401(api: Api) -> None:
    api.error(api("GET", "/v2.0/agents", "no-such-token"), 401)


def test_data_plane_down_is_503(api: Api, fake: FakeBackend) -> None:
    fake.down = True
    resp = api("GET", "/v2.0/agents", "admin")
    api.error(resp, 503)
    assert resp.headers["Retry-After"]
    api.error(api("PUT", "/v2.0/agents/gw-1", "admin", json={"agent": {"description": "d"}}), 503)


@needs_ovn
def test_ovn_chassis_are_agents(make_api: Any, nb_server: Any) -> None:
    """On OVN: a chassis registered in the SB (as ovn-controller registers it) is listed, pinged and updated."""
    from tests.contract.network.test_chassis_contract import Controller, SbServer

    sb = SbServer()
    try:
        sb.start()
        api = make_api(backend="ovn", ovn_nb_connection=nb_server.remote, ovn_sb_connection=sb.remote, ovsdb_timeout=5)
        wait_for(api.service.backend.is_connected, 10, "the NB connection")
        controller = Controller(api.service.backend, sb)
        controller.register("ch-1", "host-1", gateway=True, zones="az1")
        wait_for(lambda: [a["id"] for a in agents(api)] == ["ch-1"], 10, "the chassis to be listed")
        agent = api.ok("GET", "/v2.0/agents/ch-1", "admin")["agent"]
        assert agent["agent_type"] == "OVN Controller Gateway agent" and agent["host"] == "host-1"
        assert agent["availability_zone"] == "az1"
        # the service pinged at start (NB_Global.nb_cfg 1): a chassis that never answered is down ...
        wait_for(lambda: nb_server.nbctl("get", "NB_Global", ".", "nb_cfg") == "1", 10, "the first ping")
        wait_for(lambda: agents(api, "?alive=false") != [], 10, "the silent chassis to show down")
        # ... until it acknowledges, as ovn-controller does within moments
        controller.acknowledge("ch-1", 1)
        wait_for(lambda: agents(api, "?alive=true") != [], 10, "the chassis to show alive")
        assert agents(api)[0]["heartbeat_timestamp"] is not None
        body = {"agent": {"description": "rack 4"}}
        assert api.ok("PUT", "/v2.0/agents/ch-1", "admin", json=body)["agent"]["description"] == "rack 4"
        assert sb.sbctl("get", "Chassis_Private", "ch-1", "external_ids:neutron\\:description") == '"rack 4"'
        api.ok("DELETE", "/v2.0/agents/ch-1", "admin", status=204)
        assert sb.sbctl("--bare", "--columns=name", "list", "Chassis") == ""
        api.error(api("GET", "/v2.0/agents/ch-1", "admin"), 404, "AgentNotFound")
    finally:
        sb.cleanup()
