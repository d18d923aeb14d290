"""Behaviour matched to Nova's API where Tempest checks it: flavor booleans, quota classes and views,
the short PUT/rebuild answers before 2.75, admin state reset, x509 key pairs, console output tails."""

from __future__ import annotations

import datetime as dt
import time

from tests.functional.compute.conftest import HOST, PROJECT_A, Api

EXTENDED = ("OS-EXT-STS:vm_state", "OS-EXT-AZ:availability_zone", "key_name", "security_groups", "config_drive")


def test_flavor_is_public_accepts_nova_boolean_strings(api: Api) -> None:
    private = api.make_flavor("priv", **{"os-flavor-access:is_public": "False"})
    public = api.make_flavor("pub", **{"os-flavor-access:is_public": "true"})
    assert api.ok("GET", f"/flavors/{private}", "admin")["flavor"]["os-flavor-access:is_public"] is False
    assert api.ok("GET", f"/flavors/{public}", "admin")["flavor"]["os-flavor-access:is_public"] is True
    bad = {"flavor": {"name": "bad", "ram": 1, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": "maybe"}}
    assert api("POST", "/flavors", "admin", json=bad).status_code == 400
    # Like Nova, the creating project does not get access to its own private flavor.
    assert api.ok("GET", f"/flavors/{private}/os-flavor-access", "admin")["flavor_access"] == []


def test_quota_sets_show_no_networks_quota(api: Api) -> None:
    shown = api.ok("GET", f"/os-quota-sets/{PROJECT_A}")["quota_set"]
    assert "networks" not in shown and shown["floating_ips"] == 10
    assert "networks" not in api.ok("GET", f"/os-quota-sets/{PROJECT_A}/defaults")["quota_set"]
    # still accepted (and ignored) on update, as Nova's schema allows it
    api.ok("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"networks": 3, "cores": 7}})
    assert api.ok("GET", f"/os-quota-sets/{PROJECT_A}")["quota_set"]["cores"] == 7


def test_quota_class_default_sets_every_projects_defaults(api: Api) -> None:
    shown = api.ok("GET", "/os-quota-class-sets/default", "admin")["quota_class_set"]
    assert shown["id"] == "default" and shown["instances"] == 10 and "server_groups" not in shown
    assert "floating_ips" in shown
    v250 = api.ok("GET", "/os-quota-class-sets/default", "admin", version="2.50")["quota_class_set"]
    assert "server_groups" in v250 and "floating_ips" not in v250 and "injected_files" in v250
    v257 = api.ok("GET", "/os-quota-class-sets/default", "admin", version="2.57")["quota_class_set"]
    assert "injected_files" not in v257
    assert api("GET", "/os-quota-class-sets/default").status_code == 403
    assert api("PUT", "/os-quota-class-sets/default", json={"quota_class_set": {"cores": 1}}).status_code == 403
    updated = api.ok("PUT", "/os-quota-class-sets/default", "admin", json={"quota_class_set": {"instances": 3}})
    assert updated["quota_class_set"]["instances"] == 3 and "id" not in updated["quota_class_set"]
    assert api.ok("GET", f"/os-quota-sets/{PROJECT_A}/defaults")["quota_set"]["instances"] == 3
    assert api.ok("GET", f"/os-quota-sets/{PROJECT_A}")["quota_set"]["instances"] == 3
    assert api.ok("GET", "/limits")["limits"]["absolute"]["maxTotalInstances"] == 3
    bad = {"quota_class_set": {"bogus": 1}}
    assert api("PUT", "/os-quota-class-sets/default", "admin", json=bad).status_code == 400


def test_update_and_rebuild_answers_are_short_before_2_75(api: Api) -> None:
    server = api.active(accessIPv6="0000:0000:0000:0000:0000:babe:220.12.22.2")
    sid = server["id"]
    assert server["accessIPv6"] == "::babe:dc0c:1602"
    assert api("POST", "/servers", json={"server": {"name": "x", "imageRef": api.image_id,
                                                      "flavorRef": api.flavor_id,
                                                      "accessIPv4": "not-an-ip"}}).status_code == 400  # fmt: skip
    updated = api.ok("PUT", f"/servers/{sid}", json={"server": {"name": "renamed"}})["server"]
    assert updated["name"] == "renamed" and not any(k in updated for k in EXTENDED)
    full = api.ok("PUT", f"/servers/{sid}", version="2.75", json={"server": {"name": "again"}})["server"]
    assert all(k in full for k in EXTENDED)
    rebuilt = api.action(sid, {"rebuild": {"imageRef": api.image_id, "accessIPv4": "10.0.0.1"}}, version="2.63")
    assert rebuilt.status_code == 202, rebuilt.text
    body = rebuilt.json()["server"]
    assert "OS-EXT-STS:vm_state" not in body and "key_name" in body and body["adminPass"]
    assert body["trusted_image_certificates"] is None and "user_data" in body
    assert body["accessIPv4"] == "10.0.0.1"
    api.wait_status(sid, "ACTIVE")
    assert (
        "OS-EXT-STS:vm_state"
        in api.action(sid, {"rebuild": {"imageRef": api.image_id}}, version="2.75").json()["server"]
    )


def test_reset_state_is_admin_only(api: Api) -> None:
    sid = api.active()["id"]
    assert api.action(sid, {"os-resetState": {"state": "error"}}).status_code == 403
    assert api.action(sid, {"os-resetState": {"state": "bogus"}}, "admin").status_code == 400
    assert api.action(sid, {"os-resetState": {"state": "error"}}, "admin").status_code == 202
    assert api.server(sid)["status"] == "ERROR"
    assert api.action(sid, {"os-resetState": {"state": "active"}}, "admin").status_code == 202
    assert api.server(sid)["status"] == "ACTIVE"
    missing = "00000000-0000-0000-0000-000000000000"
    assert api.action(missing, {"os-resetState": {"state": "error"}}, "admin").status_code == 404
    # nothing is ever soft-deleted here, so a live server cannot be restored or force-deleted
    assert api.action(sid, {"restore": None}).status_code == 409
    assert api.action(sid, {"forceDelete": None}).status_code == 409


def test_x509_keypair_is_generated(api: Api) -> None:
    resp = api("POST", "/os-keypairs", version="2.2", json={"keypair": {"name": "win", "type": "x509"}})
    assert resp.status_code == 201, resp.text
    key = resp.json()["keypair"]
    assert key["type"] == "x509" and "BEGIN CERTIFICATE" in key["public_key"] and key["private_key"]
    assert key["fingerprint"].count(":") == 19


def test_console_output_tail_is_novas(api: Api) -> None:
    sid = api.active()["id"]
    full = api.action(sid, {"os-getConsoleOutput": {}}).json()["output"]
    tail = api.action(sid, {"os-getConsoleOutput": {"length": 3}}).json()["output"]
    assert tail == "\n".join(full.split("\n")[-3:]) and len(tail.split("\n")) == 3
    assert api.action(sid, {"os-getConsoleOutput": {"length": 0}}).json()["output"] == ""


def test_create_backup_rotates_oldest(api: Api) -> None:
    sid = api.active()["id"]

    def backup(name: str, version: str | None = "2.45") -> str:
        body = {"createBackup": {"name": name, "backup_type": "daily", "rotation": 2}}
        resp = api.action(sid, body, version=version)
        assert resp.status_code == 202, resp.text
        api.wait_status(sid, "ACTIVE")
        time.sleep(1.1)  # the image API's created_at (the rotation order) is in whole seconds
        if version is None:
            return str(resp.headers["Location"]).rsplit("/", 1)[-1]
        return str(resp.json()["image_id"])

    def backups() -> list[str]:
        images = api.image.get("/v2/images", headers={"X-Auth-Token": "member-a"}).json()["images"]
        return sorted(i["name"] for i in images if i.get("image_type") == "backup" and i.get("instance_uuid") == sid)

    first = backup("b1", version=None)
    image = api.image.get(f"/v2/images/{first}", headers={"X-Auth-Token": "member-a"}).json()
    assert image["backup_type"] == "daily" and image["image_type"] == "backup"
    backup("b2")
    assert backups() == ["b1", "b2"]
    backup("b3")
    assert backups() == ["b2", "b3"]
    missing = {"createBackup": {"name": "x", "backup_type": "daily"}}
    assert api.action(sid, missing).status_code == 400


def test_extensions_list_and_show(api: Api) -> None:
    extensions = api.ok("GET", "/extensions")["extensions"]
    assert "Hosts" in [e["name"] for e in extensions]
    assert all(set(e) == {"name", "alias", "description", "links", "namespace", "updated"} for e in extensions)
    assert api.ok("GET", "/extensions/os-keypairs")["extension"]["name"] == "Keypairs"
    assert api("GET", "/extensions/os-nothing").status_code == 404


def test_server_external_events(api: Api) -> None:
    sid = api.active()["id"]
    missing = "00000000-0000-0000-0000-000000000000"
    event = {"name": "network-changed", "server_uuid": sid, "tag": "port-1"}
    assert api("POST", "/os-server-external-events", json={"events": [event]}).status_code == 403
    resp = api("POST", "/os-server-external-events", "admin", json={"events": [event]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["events"] == [{**event, "status": "completed", "code": 200}]
    both = [event, {"name": "network-vif-plugged", "server_uuid": missing}]
    resp = api("POST", "/os-server-external-events", "admin", json={"events": both})
    assert resp.status_code == 207 and [e["code"] for e in resp.json()["events"]] == [200, 404]
    only_missing = {"events": [{"name": "network-changed", "server_uuid": missing}]}
    assert api("POST", "/os-server-external-events", "admin", json=only_missing).status_code == 404
    bad = {"events": [{"name": "power-update", "server_uuid": sid}]}
    assert api("POST", "/os-server-external-events", "admin", json=bad).status_code == 400


def test_network_proxy_quotas_are_stored_before_2_36(api: Api) -> None:
    body = {"quota_set": {"floating_ips": 5, "security_groups": 7}}
    api.ok("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json=body)
    shown = api.ok("GET", f"/os-quota-sets/{PROJECT_A}")["quota_set"]
    assert shown["floating_ips"] == 5 and shown["security_groups"] == 7
    assert "floating_ips" not in api.ok("GET", f"/os-quota-sets/{PROJECT_A}", version="2.36")["quota_set"]
    detail = api.ok("GET", f"/os-quota-sets/{PROJECT_A}/detail")["quota_set"]
    assert detail["floating_ips"] == {"limit": 5, "in_use": 0, "reserved": 0}
    assert api.ok("GET", "/limits")["limits"]["absolute"]["maxSecurityGroups"] == 7
    api.ok("PUT", "/os-quota-class-sets/default", "admin", json={"quota_class_set": {"fixed_ips": 99}})
    assert api.ok("GET", "/os-quota-class-sets/default", "admin")["quota_class_set"]["fixed_ips"] == 99


def test_image_proxy_and_metadata(api: Api) -> None:
    sid = api.active()["id"]
    snap = api.action(sid, {"createImage": {"name": "snap", "metadata": {"k": "v"}}}, version="2.45").json()["image_id"]
    api.wait_status(sid, "ACTIVE")
    brief = api.ok("GET", "/images")["images"]
    assert {api.image_id, snap} <= {i["id"] for i in brief}
    assert api.ok("GET", "/images?type=snapshot")["images"][0]["id"] == snap
    assert [i["id"] for i in api.ok("GET", f"/images?server=http://x/servers/{sid}")["images"]] == [snap]
    assert [i["id"] for i in api.ok("GET", "/images?name=cirros")["images"]] == [api.image_id]
    assert len(api.ok("GET", "/images/detail?limit=1")["images"]) == 1
    shown = api.ok("GET", f"/images/{snap}")["image"]
    assert shown["server"]["id"] == sid and shown["metadata"]["k"] == "v" and shown["status"] == "ACTIVE"
    assert shown["progress"] == 100 and shown["minRam"] == 0
    assert api("GET", "/images", version="2.36").status_code == 404
    assert api("GET", "/images/00000000-0000-0000-0000-000000000000").status_code == 404
    base = f"/images/{snap}/metadata"
    assert api.ok("POST", base, json={"metadata": {"a": "1"}})["metadata"]["a"] == "1"
    assert api.ok("GET", f"{base}/a")["meta"] == {"a": "1"}
    assert api.ok("PUT", f"{base}/b", json={"meta": {"b": "2"}})["meta"] == {"b": "2"}
    assert api("PUT", f"{base}/b", json={"meta": {"c": "2"}}).status_code == 400
    assert api("DELETE", f"{base}/a").status_code == 204
    assert api("GET", f"{base}/a").status_code == 404
    replaced = api.ok("PUT", base, json={"metadata": {"only": "x"}})["metadata"]
    assert replaced["only"] == "x" and "b" not in replaced and "k" not in replaced
    assert api("GET", base, version="2.39").status_code == 404
    assert api("DELETE", f"/images/{snap}").status_code == 204
    assert api("GET", f"/images/{snap}").status_code == 404


def test_simple_tenant_usage(api: Api) -> None:
    api.active()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    start = (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    end = (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    query = f"start={start}&end={end}"
    mine = api.ok("GET", f"/os-simple-tenant-usage/{PROJECT_A}?{query}")["tenant_usage"]
    assert len(mine) == 8 and mine["tenant_id"] == PROJECT_A and len(mine["server_usages"]) == 1
    assert mine["server_usages"][0]["flavor"] == "m1.tiny" and mine["total_hours"] > 0
    every = api.ok("GET", f"/os-simple-tenant-usage?{query}&detailed=1", "admin")["tenant_usages"]
    assert [u["tenant_id"] for u in every] == [PROJECT_A] and len(every[0]) == 8
    assert "server_usages" not in api.ok("GET", f"/os-simple-tenant-usage?{query}", "admin")["tenant_usages"][0]
    assert api("GET", f"/os-simple-tenant-usage?{query}").status_code == 403
    assert api("GET", f"/os-simple-tenant-usage/{PROJECT_A}?{query}", "member-b").status_code == 403
    assert api("GET", f"/os-simple-tenant-usage/{PROJECT_A}?start=yesterday").status_code == 400
    assert api("GET", f"/os-simple-tenant-usage/{PROJECT_A}?start={end}&end={start}").status_code == 400


def test_legacy_os_hosts(api: Api) -> None:
    api.active()
    hosts = api.ok("GET", "/os-hosts", "admin")["hosts"]
    assert hosts == [{"host_name": HOST, "service": "compute", "zone": "nova"}]
    assert api.ok("GET", "/os-hosts?zone=nova", "admin")["hosts"] == hosts
    assert api.ok("GET", "/os-hosts?zone=", "admin")["hosts"] == hosts
    assert api.ok("GET", "/os-hosts?zone=xxx", "admin")["hosts"] == []
    assert api("GET", "/os-hosts").status_code == 403
    assert api("GET", "/os-hosts", "admin", version="2.43").status_code == 404
    resources = api.ok("GET", f"/os-hosts/{HOST}", "admin")["host"]
    projects = [r["resource"]["project"] for r in resources]
    assert projects == ["(total)", "(used_now)", "(used_max)", PROJECT_A]
    assert resources[0]["resource"]["host"] == HOST and resources[3]["resource"]["cpu"] == 1
    assert api("GET", "/os-hosts/nope", "admin").status_code == 404
    assert api("PUT", f"/os-hosts/{HOST}", "admin", json={}).status_code == 400
    assert api("PUT", f"/os-hosts/{HOST}", "admin", json={"status": "bogus"}).status_code == 400
    assert api("PUT", "/os-hosts/nope", "admin", json={"status": "enable"}).status_code == 404
    assert api("PUT", f"/os-hosts/{HOST}", json={"status": "enable"}).status_code == 403
    assert api.ok("PUT", f"/os-hosts/{HOST}", "admin", json={"status": "disable"}) == {
        "host": HOST,
        "status": "disabled",
    }
    assert api.ok("PUT", f"/os-hosts/{HOST}", "admin", json={"status": "enable"})["status"] == "enabled"
    assert api("PUT", f"/os-hosts/{HOST}", "admin", json={"maintenance_mode": "enable"}).status_code == 501
    assert api("GET", f"/os-hosts/{HOST}/reboot", "admin").status_code == 501
    assert api("GET", "/os-hosts/nope/startup", "admin").status_code == 404
    assert api("GET", f"/os-hosts/{HOST}/shutdown").status_code == 403


def test_instance_usage_audit_log(api: Api) -> None:
    logs = api.ok("GET", "/os-instance_usage_audit_log", "admin")["instance_usage_audit_logs"]
    assert logs["hosts_not_run"] == [HOST] and logs["num_hosts"] == 1 and logs["log"] == {}
    shown = api.ok("GET", "/os-instance_usage_audit_log/2026-03-15%2010%3A00%3A00", "admin")
    period = shown["instance_usage_audit_log"]
    assert (period["period_beginning"], period["period_ending"]) == ("2026-02-01 00:00:00", "2026-03-01 00:00:00")
    january = api.ok("GET", "/os-instance_usage_audit_log/2026-01-01%2000%3A00%3A00", "admin")
    assert january["instance_usage_audit_log"]["period_beginning"] == "2025-11-01 00:00:00"
    assert api("GET", "/os-instance_usage_audit_log").status_code == 403
    assert api("GET", "/os-instance_usage_audit_log/not-a-date", "admin").status_code == 400


def test_trailing_slash_without_id_is_404(api: Api) -> None:
    assert api("GET", "/os-simple-tenant-usage/", "admin", follow_redirects=False).status_code == 404
    assert api("DELETE", "/images/", follow_redirects=False).status_code == 404


def test_host_uptime_and_server_diagnostics_are_not_implemented(api: Api) -> None:
    sid = api.active()["id"]
    hypervisor = api.ok("GET", "/os-hypervisors", "admin")["hypervisors"][0]["id"]
    assert api("GET", f"/os-hypervisors/{hypervisor}/uptime").status_code == 403
    assert api("GET", f"/os-hypervisors/{hypervisor}/uptime", "admin").status_code == 501
    assert api("GET", "/os-hypervisors/999/uptime", "admin").status_code == 404
    assert api("GET", f"/servers/{sid}/diagnostics").status_code == 403
    assert api("GET", f"/servers/{sid}/diagnostics", "admin").status_code == 501
    assert api("GET", "/servers/00000000-0000-0000-0000-000000000000/diagnostics", "admin").status_code == 404
