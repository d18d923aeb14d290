"""Quotas (enforced atomically on create), limits, server groups."""

from __future__ import annotations

import threading

from tests.functional.compute.conftest import PROJECT_A, PROJECT_B, Api


def test_quota_show_defaults_update_detail(api: Api) -> None:
    shown = api.ok("GET", f"/os-quota-sets/{PROJECT_A}")["quota_set"]
    assert shown["instances"] == 10 and shown["id"] == PROJECT_A and "floating_ips" in shown
    assert "injected_files" not in api.ok("GET", f"/os-quota-sets/{PROJECT_A}", version="2.57")["quota_set"]
    assert api("GET", f"/os-quota-sets/{PROJECT_B}").status_code == 403
    assert api("PUT", f"/os-quota-sets/{PROJECT_A}", json={"quota_set": {"instances": 1}}).status_code == 403
    assert api("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"instances": -2}}).status_code == 400
    assert api("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"bogus": 1}}).status_code == 400
    api.ok("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"cores": 3}})
    api.active()
    detail = api.ok("GET", f"/os-quota-sets/{PROJECT_A}/detail")["quota_set"]
    assert detail["cores"] == {"limit": 3, "in_use": 1, "reserved": 0}
    assert api("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"instances": 0}}).status_code == 400
    assert api.ok("GET", f"/os-quota-sets/{PROJECT_A}/defaults")["quota_set"]["cores"] == 20
    assert api("DELETE", f"/os-quota-sets/{PROJECT_A}", "admin").status_code == 202
    assert api.ok("GET", f"/os-quota-sets/{PROJECT_A}")["quota_set"]["cores"] == 20


def test_quota_exceeded_on_create_is_403_and_creates_nothing(api: Api) -> None:
    api.ok("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"instances": 2}})
    api.active()
    resp = api("POST", "/servers", json={"server": {"name": "x", "imageRef": api.image_id,
                                                      "flavorRef": api.flavor_id, "min_count": 2}})  # fmt: skip
    assert resp.status_code == 403 and "Quota exceeded for instances" in resp.json()["forbidden"]["message"]
    assert len(api.ok("GET", "/servers")["servers"]) == 1
    # max_count beyond quota: as many as fit are created
    body = api.boot(min_count=1, max_count=5, return_reservation_id=True)
    assert len(api.ok("GET", f"/servers?reservation_id={body['reservation_id']}")["servers"]) == 1
    limits = api.ok("GET", "/limits")["limits"]["absolute"]
    assert limits["maxTotalInstances"] == 2 and limits["totalInstancesUsed"] == 2


def test_concurrent_creates_never_exceed_quota(api: Api) -> None:
    api.ok("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"instances": 3}})
    results: list[int] = []

    def boot() -> None:
        resp = api("POST", "/servers", json={"server": {"name": "c", "imageRef": api.image_id,
                                                          "flavorRef": api.flavor_id}})  # fmt: skip
        results.append(resp.status_code)

    threads = [threading.Thread(target=boot) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [202] * 3 + [403] * 5
    assert len(api.ok("GET", "/servers")["servers"]) == 3


def test_cores_and_ram_quota(api: Api) -> None:
    big = api.make_flavor("big", ram=4096, vcpus=8)
    api.ok("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"cores": 4}})
    resp = api("POST", "/servers", json={"server": {"name": "x", "imageRef": api.image_id, "flavorRef": big}})
    assert resp.status_code == 403 and "cores" in resp.text


def test_server_groups_and_membership(api: Api) -> None:
    group = api.ok("POST", "/os-server-groups", json={"server_group": {"name": "g", "policies": ["anti-affinity"]}})
    gid = group["server_group"]["id"]
    assert group["server_group"]["policies"] == ["anti-affinity"]
    new = api.ok("POST", "/os-server-groups", version="2.64", json={"server_group": {
        "name": "g2", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}})  # fmt: skip
    assert new["server_group"]["rules"] == {"max_server_per_host": 2}
    bad = [{"name": "x", "policies": ["sideways"]}, {"name": "x"}, {"policies": ["affinity"]}]
    for body in bad:
        assert api("POST", "/os-server-groups", json={"server_group": body}).status_code == 400
    sid = api.boot().get("server", {}).get("id")
    resp = api("POST", "/servers", json={"server": {"name": "m", "imageRef": api.image_id, "flavorRef": api.flavor_id},
                                         "os:scheduler_hints": {"group": gid}})  # fmt: skip
    assert resp.status_code == 202, resp.text
    member = resp.json()["server"]["id"]
    api.wait_status(member, "ACTIVE")
    assert api.ok("GET", f"/os-server-groups/{gid}")["server_group"]["members"] == [member]
    assert api.server(member, version="2.71")["server_groups"] == [gid]
    assert sid not in api.ok("GET", f"/os-server-groups/{gid}")["server_group"]["members"]
    assert api("GET", f"/os-server-groups/{gid}", "member-b").status_code == 404
    assert api.ok("GET", "/os-server-groups", "member-b")["server_groups"] == []
    assert len(api.ok("GET", "/os-server-groups?all_projects=true", "admin")["server_groups"]) == 2
    unknown = {"group": "6b1f7b8e-4a4e-4a8c-9d65-000000000000"}
    resp = api("POST", "/servers", json={"server": {"name": "m", "imageRef": api.image_id, "flavorRef": api.flavor_id},
                                         "os:scheduler_hints": unknown})  # fmt: skip
    assert resp.status_code == 400
    assert api("DELETE", f"/os-server-groups/{gid}", "member-b").status_code == 404
    assert api("DELETE", f"/os-server-groups/{gid}").status_code == 204


def test_server_group_quota(api: Api) -> None:
    api.ok("PUT", f"/os-quota-sets/{PROJECT_A}", "admin", json={"quota_set": {"server_groups": 1}})
    api.ok("POST", "/os-server-groups", json={"server_group": {"name": "g", "policies": ["affinity"]}})
    resp = api("POST", "/os-server-groups", json={"server_group": {"name": "h", "policies": ["affinity"]}})
    assert resp.status_code == 403 and "Quota exceeded" in resp.text
