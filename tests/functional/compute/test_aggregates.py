"""Host aggregates (os-aggregates) and the availability zones they give their hosts."""

from __future__ import annotations

from typing import Any

from tests.functional.compute.conftest import HOST, Api


def _agg(api: Api, body: dict[str, Any], status: int = 200) -> Any:
    return api.ok("POST", "/os-aggregates", "admin", status=status, json={"aggregate": body})


def _action(api: Api, agg_id: int, body: dict[str, Any], status: int = 200) -> Any:
    return api.ok("POST", f"/os-aggregates/{agg_id}/action", "admin", status=status, json=body)


def _zones(api: Api) -> set[str]:
    return {z["zoneName"] for z in api.ok("GET", "/os-availability-zone")["availabilityZoneInfo"]}


def test_crud_and_members(api: Api) -> None:
    made = _agg(api, {"name": "fast", "availability_zone": None})["aggregate"]
    assert made["name"] == "fast" and made["availability_zone"] is None and "hosts" not in made
    agg_id = made["id"]
    shown = api.ok("GET", f"/os-aggregates/{agg_id}", "admin", version="2.41")["aggregate"]
    assert shown["hosts"] == [] and shown["metadata"] == {} and shown["uuid"]
    api.ok("POST", "/os-aggregates", "admin", status=409, json={"aggregate": {"name": "fast"}})
    added = _action(api, agg_id, {"add_host": {"host": HOST}})["aggregate"]
    assert added["hosts"] == [HOST]
    _action(api, agg_id, {"add_host": {"host": HOST}}, status=409)
    _action(api, agg_id, {"add_host": {"host": "no-such-host"}}, status=404)
    meta = _action(api, agg_id, {"set_metadata": {"metadata": {"ssd": "true", "gpu": "no"}}})["aggregate"]
    assert meta["metadata"] == {"ssd": "true", "gpu": "no"}
    meta = _action(api, agg_id, {"set_metadata": {"metadata": {"gpu": None}}})["aggregate"]
    assert meta["metadata"] == {"ssd": "true"}
    renamed = api.ok("PUT", f"/os-aggregates/{agg_id}", "admin", json={"aggregate": {"name": "faster"}})
    assert renamed["aggregate"]["name"] == "faster"
    assert [a["name"] for a in api.ok("GET", "/os-aggregates", "admin")["aggregates"]] == ["faster"]
    api.ok("DELETE", f"/os-aggregates/{agg_id}", "admin", status=400)  # it still has a host
    _action(api, agg_id, {"remove_host": {"host": HOST}})
    _action(api, agg_id, {"remove_host": {"host": HOST}}, status=404)
    assert api("DELETE", f"/os-aggregates/{agg_id}", "admin").status_code == 200
    api.ok("GET", f"/os-aggregates/{agg_id}", "admin", status=404)


def test_only_admins_and_bad_input(api: Api) -> None:
    assert api("GET", "/os-aggregates").status_code == 403
    assert api("POST", "/os-aggregates", json={"aggregate": {"name": "x"}}).status_code == 403
    for bad in ({"name": ""}, {"name": "  "}, {"name": 3}, {"name": "x", "availability_zone": "a:b"}, {"nome": "x"}):
        _agg(api, bad, status=400)
    agg_id = _agg(api, {"name": "x"})["aggregate"]["id"]
    _action(api, agg_id, {"add_host": {}}, status=400)
    _action(api, agg_id, {"explode": {}}, status=400)
    _action(api, agg_id, {"set_metadata": {"metadata": "x"}}, status=400)
    api.ok("GET", "/os-aggregates/nope", "admin", status=404)
    assert api.ok("GET", f"/os-aggregates/{agg_id}", "admin")["aggregate"]["metadata"] == {}


def test_an_aggregate_zone_places_its_hosts_and_servers(api: Api) -> None:
    agg_id = _agg(api, {"name": "zoned", "availability_zone": "az1"})["aggregate"]["id"]
    assert "az1" not in _zones(api)  # no host in it yet
    _action(api, agg_id, {"add_host": {"host": HOST}})
    assert "az1" in _zones(api)
    services = api.ok("GET", "/os-services?binary=nova-compute", "admin")["services"]
    assert {s["host"]: s["zone"] for s in services}[HOST] == "az1"
    server = api.active(availability_zone="az1")
    assert api.server(server["id"], "admin")["OS-EXT-AZ:availability_zone"] == "az1"
    # a host in az1 cannot join an aggregate of another zone
    other = _agg(api, {"name": "other", "availability_zone": "az2"})["aggregate"]["id"]
    _action(api, other, {"add_host": {"host": HOST}}, status=400)
    # the zone follows the aggregate's metadata, then leaves with the host
    _action(api, agg_id, {"set_metadata": {"metadata": {"availability_zone": "az3"}}})
    assert "az3" in _zones(api) and "az1" not in _zones(api)
    _action(api, agg_id, {"remove_host": {"host": HOST}})
    assert "az3" not in _zones(api) and "nova" in _zones(api)
