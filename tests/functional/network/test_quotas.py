"""Quotas: show, update (admin), defaults, details, enforcement."""

from __future__ import annotations

from tests.functional.network.conftest import PROJECT_A, Api


def test_quota_show_update_enforce(api: Api) -> None:
    quota = api.ok("GET", f"/v2.0/quotas/{PROJECT_A}")["quota"]
    assert set(quota) == {"network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule"}
    api.error(api("PUT", f"/v2.0/quotas/{PROJECT_A}", json={"quota": {"network": 1}}), 403)
    api.error(api("GET", f"/v2.0/quotas/{'b' * 32}"), 403)
    updated = api.ok("PUT", f"/v2.0/quotas/{PROJECT_A}", "admin", json={"quota": {"network": 1, "router": 0}})
    assert updated["quota"]["network"] == 1
    api.create("network")
    api.error(api("POST", "/v2.0/networks", json={"network": {}}), 409, "OverQuota")
    api.error(api("POST", "/v2.0/routers", json={"router": {}}), 409, "OverQuota")
    details = api.ok("GET", f"/v2.0/quotas/{PROJECT_A}/details")["quota"]
    assert details["network"] == {"limit": 1, "used": 1, "reserved": 0}
    assert api.ok("GET", f"/v2.0/quotas/{PROJECT_A}/default")["quota"]["network"] == 100
    assert [q["project_id"] for q in api.ok("GET", "/v2.0/quotas", "admin")["quotas"]] == [PROJECT_A]
    assert api.ok("GET", f"/v2.0/quotas/{PROJECT_A}/details.json")["quota"]["network"]["used"] == 1
    api.error(api("PUT", f"/v2.0/quotas/{PROJECT_A}", "admin", json={"quota": {"bogus": 1}}), 400)
    api.error(api("PUT", f"/v2.0/quotas/{PROJECT_A}", "admin", json={"quota": {"network": -5}}), 400)
    api.ok("DELETE", f"/v2.0/quotas/{PROJECT_A}", "admin", status=204)
    api.create("network")


def test_port_quota(api: Api) -> None:
    net, _ = api.network_with_subnet()
    api.ok("PUT", f"/v2.0/quotas/{PROJECT_A}", "admin", json={"quota": {"port": 2}})  # one is the metadata port
    api.create("port", network_id=net["id"])
    api.error(api("POST", "/v2.0/ports", json={"port": {"network_id": net["id"]}}), 409, "OverQuota")
