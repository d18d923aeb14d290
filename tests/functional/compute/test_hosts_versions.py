"""Version discovery and microversions; os-services, os-hypervisors, availability zones, limits."""

from __future__ import annotations

from tests.functional.compute.conftest import HOST, Api


def test_version_discovery_without_token(api: Api) -> None:
    root = api.client.get("/")
    assert root.status_code == 200
    v21 = root.json()["versions"][0]
    assert v21["id"] == "v2.1" and v21["version"] == "2.79" and v21["min_version"] == "2.1"
    assert api.client.get("/v2.1").json()["version"]["status"] == "CURRENT"
    assert api.client.get("/v2.1/").status_code == 200


def test_microversion_negotiation(api: Api) -> None:
    resp = api("GET", "/flavors")
    assert resp.headers["OpenStack-API-Version"] == "compute 2.1"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert api("GET", "/flavors", version="latest").headers["OpenStack-API-Version"] == "compute 2.79"
    legacy = api("GET", "/flavors", headers={"X-OpenStack-Nova-API-Version": "2.30"})
    assert legacy.headers["X-OpenStack-Nova-API-Version"] == "2.30"
    too_new = api("GET", "/flavors", version="2.200")
    assert too_new.status_code == 406 and "maximum is 2.79" in too_new.text
    assert api("GET", "/flavors", version="3.0").status_code == 406
    malformed = api("GET", "/flavors", version="two")
    assert malformed.status_code == 400 and malformed.json()["badRequest"]["code"] == 400
    assert api("GET", "/flavors", headers={"X-Auth-Token": "bogus"}).status_code == 401


def test_services_enable_disable_force_down(api: Api) -> None:
    services = api.ok("GET", "/os-services", "admin", version="2.53")["services"]
    svc = next(s for s in services if s["host"] == HOST)
    assert svc["state"] == "up" and svc["status"] == "enabled" and svc["binary"] == "nova-compute"
    assert api("GET", "/os-services", "member-a").status_code == 403
    disabled = api.ok("PUT", f"/os-services/{svc['id']}", "admin", version="2.53",
                      json={"status": "disabled", "disabled_reason": "maintenance"})["service"]  # fmt: skip
    assert disabled["status"] == "disabled" and disabled["disabled_reason"] == "maintenance"
    assert api("PUT", f"/os-services/{svc['id']}", "admin", version="2.53", json={"status": "odd"}).status_code == 400
    legacy = api.ok("PUT", "/os-services/enable", "admin", json={"host": HOST, "binary": "nova-compute"})
    assert legacy["service"]["status"] == "enabled"
    reason = api.ok("PUT", "/os-services/disable-log-reason", "admin",
                    json={"host": HOST, "binary": "nova-compute", "disabled_reason": "r"})  # fmt: skip
    assert reason["service"]["disabled_reason"] == "r"
    down = api.ok("PUT", f"/os-services/{svc['id']}", "admin", version="2.53", json={"forced_down": True})
    assert down["service"]["forced_down"] is True and down["service"]["state"] == "down"
    assert (
        api("PUT", "/os-services/enable", "admin", json={"host": "nowhere", "binary": "nova-compute"}).status_code
        == 404
    )
    assert api("DELETE", "/os-services/6b1f7b8e-4a4e-4a8c-9d65-000000000000", "admin").status_code == 404


def test_delete_service_hosting_servers_is_refused(api: Api) -> None:
    api.active()
    svc = api.ok("GET", "/os-services", "admin", version="2.53")["services"][0]
    assert api("DELETE", f"/os-services/{svc['id']}", "admin").status_code == 409


def test_hypervisors(api: Api) -> None:
    server = api.active()
    listed = api.ok("GET", "/os-hypervisors", "admin", version="2.53")["hypervisors"]
    assert len(listed) == 1 and listed[0]["state"] == "up"
    hid = listed[0]["id"]
    detail = api.ok("GET", "/os-hypervisors/detail", "admin", version="2.53")["hypervisors"][0]
    assert detail["vcpus"] > 0 and detail["vcpus_used"] == 1 and detail["memory_mb_used"] == 512
    assert detail["running_vms"] == 1 and detail["service"]["host"] == HOST
    shown = api.ok("GET", f"/os-hypervisors/{hid}?with_servers=true", "admin", version="2.53")["hypervisor"]
    assert shown["servers"] == [{"uuid": server["id"], "name": server["name"]}]
    stats = api.ok("GET", "/os-hypervisors/statistics", "admin")["hypervisor_statistics"]
    assert stats["count"] == 1 and stats["running_vms"] == 1
    old = api.ok("GET", f"/os-hypervisors/{listed[0]['hypervisor_hostname']}/servers", "admin")["hypervisors"]
    assert old[0]["servers"][0]["uuid"] == server["id"] and isinstance(old[0]["id"], int)
    assert api("GET", "/os-hypervisors", "member-a").status_code == 403
    assert api("GET", "/os-hypervisors/6b1f7b8e-4a4e-4a8c-9d65-000000000000", "admin").status_code == 404


def test_availability_zones(api: Api) -> None:
    zones = api.ok("GET", "/os-availability-zone")["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]
    detail = api.ok("GET", "/os-availability-zone/detail", "admin")["availabilityZoneInfo"]
    assert HOST in detail[0]["hosts"]
    assert api("GET", "/os-availability-zone/detail", "member-a").status_code == 403
    api.wait_status(api.boot(availability_zone="nova")["server"]["id"], "ACTIVE")
    assert api.boot(availability_zone=f"nova:{HOST}", status=403)
    forced = api.boot("admin", availability_zone=f"nova:{HOST}")["server"]["id"]
    assert api.wait_status(forced, "ACTIVE", "admin")["OS-EXT-AZ:availability_zone"] == "nova"
    assert api.boot("admin", availability_zone="nova:no-such-host", status=400)


def test_limits_show_usage(api: Api) -> None:
    api.active()
    absolute = api.ok("GET", "/limits")["limits"]["absolute"]
    assert absolute["totalInstancesUsed"] == 1 and absolute["totalCoresUsed"] == 1 and absolute["totalRAMUsed"] == 512
    assert "maxTotalFloatingIps" in absolute
    assert "maxTotalFloatingIps" not in api.ok("GET", "/limits", version="2.36")["limits"]["absolute"]
    assert api("GET", "/limits?tenant_id=other", "member-a").status_code == 403
