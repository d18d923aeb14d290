"""Server actions: power, reboot, lock, rebuild, resize, snapshot, console output, metadata, instance actions."""

from __future__ import annotations

from tests.functional.compute.conftest import Api, wait_for


def test_stop_start_and_wrong_state_conflicts(api: Api) -> None:
    sid = api.active()["id"]
    assert api.action(sid, {"os-start": None}).status_code == 409
    assert api.action(sid, {"os-stop": None}).status_code == 202
    api.wait_status(sid, "SHUTOFF")
    resp = api.action(sid, {"os-stop": None})
    assert resp.status_code == 409 and "conflictingRequest" in resp.json()
    assert api.action(sid, {"pause": None}).status_code == 409
    assert api.action(sid, {"reboot": {"type": "SOFT"}}).status_code == 409
    assert api.action(sid, {"os-start": None}).status_code == 202
    api.wait_status(sid, "ACTIVE")


def test_pause_suspend_reboot(api: Api) -> None:
    sid = api.active()["id"]
    for do, status, undo in (("pause", "PAUSED", "unpause"), ("suspend", "SUSPENDED", "resume")):
        assert api.action(sid, {do: None}).status_code == 202
        api.wait_status(sid, status)
        assert api.action(sid, {undo: None}).status_code == 202
        api.wait_status(sid, "ACTIVE")
    assert api.action(sid, {"reboot": {"type": "HARD"}}).status_code == 202
    api.wait_status(sid, "ACTIVE")
    assert api.action(sid, {"reboot": {"type": "SIDEWAYS"}}).status_code == 400
    assert api.action(sid, {"reboot": {}}).status_code == 400
    assert api.action(sid, {"fly": None}).status_code == 400


def test_lock_blocks_owner_not_admin(api: Api) -> None:
    sid = api.active()["id"]
    assert api.action(sid, {"lock": {"locked_reason": "maint"}}, version="2.73").status_code == 202
    server = api.server(sid, version="2.73")
    assert server["locked"] is True and server["locked_reason"] == "maint"
    assert api.action(sid, {"os-stop": None}).status_code == 409
    assert api("DELETE", f"/servers/{sid}").status_code == 409
    assert api.action(sid, {"os-stop": None}, "admin").status_code == 202
    api.wait_status(sid, "SHUTOFF")
    assert api.action(sid, {"unlock": None}).status_code == 202
    assert api("DELETE", f"/servers/{sid}").status_code == 204


def test_admin_lock_cannot_be_undone_by_owner(api: Api) -> None:
    sid = api.active()["id"]
    assert api.action(sid, {"lock": None}, "admin").status_code == 202
    assert api.action(sid, {"unlock": None}).status_code == 403


def test_rebuild_changes_image_and_name(api: Api) -> None:
    sid = api.active()["id"]
    other = api.make_image(name="other")
    resp = api.action(sid, {"rebuild": {"imageRef": other, "name": "rebuilt", "metadata": {"a": "b"}}})
    assert resp.status_code == 202, resp.text
    assert resp.json()["server"]["name"] == "rebuilt"
    server = api.wait_status(sid, "ACTIVE")
    assert server["image"]["id"] == other and server["metadata"] == {"a": "b"}
    bad = api.action(sid, {"rebuild": {"imageRef": "6b1f7b8e-4a4e-4a8c-9d65-000000000000"}})
    assert bad.status_code == 400


def test_resize_confirm_and_revert(api: Api) -> None:
    big = api.make_flavor("m1.small", ram=1024, vcpus=2, disk=2)
    sid = api.active()["id"]
    assert api.action(sid, {"resize": {"flavorRef": api.flavor_id}}).status_code == 400
    assert api.action(sid, {"resize": {"flavorRef": "nope"}}).status_code == 400
    assert api.action(sid, {"confirmResize": None}).status_code == 409
    assert api.action(sid, {"resize": {"flavorRef": big}}).status_code == 202
    server = api.wait_status(sid, "VERIFY_RESIZE")
    assert server["flavor"]["id"] == big
    assert api.action(sid, {"revertResize": None}).status_code == 202
    server = api.wait_status(sid, "ACTIVE")
    assert server["flavor"]["id"] == api.flavor_id
    assert api.action(sid, {"resize": {"flavorRef": big}}).status_code == 202
    api.wait_status(sid, "VERIFY_RESIZE")
    assert api.action(sid, {"confirmResize": None}).status_code == 204
    assert api.wait_status(sid, "ACTIVE")["flavor"]["id"] == big
    limits = api.ok("GET", "/limits")["limits"]["absolute"]
    assert limits["totalCoresUsed"] == 2 and limits["totalRAMUsed"] == 1024


def test_create_image_location_and_image_id(api: Api) -> None:
    sid = api.active()["id"]
    old = api.action(sid, {"createImage": {"name": "snap1"}})
    assert old.status_code == 202, old.text
    assert "/v2/images/" in old.headers["Location"]
    api.wait_status(sid, "ACTIVE")
    new = api.action(sid, {"createImage": {"name": "snap2", "metadata": {"k": "v"}}}, version="2.45")
    assert new.status_code == 202 and new.json()["image_id"]
    image_id = new.json()["image_id"]

    def snapshot_active() -> bool:
        resp = api.image.get(f"/v2/images/{image_id}", headers={"X-Auth-Token": "member-a"})
        return resp.status_code == 200 and resp.json()["status"] == "active"

    wait_for(snapshot_active, "the snapshot to become active")
    assert api.action(sid, {"createImage": {}}).status_code == 400


def test_console_output(api: Api) -> None:
    sid = api.active()["id"]
    resp = api.action(sid, {"os-getConsoleOutput": {"length": 5}})
    assert resp.status_code == 200, resp.text
    assert isinstance(resp.json()["output"], str)
    assert api.action(sid, {"os-getConsoleOutput": {"length": "x"}}).status_code == 400


def test_metadata_crud_and_quota(api: Api) -> None:
    sid = api.active()["id"]
    base = f"/servers/{sid}/metadata"
    assert api.ok("POST", base, json={"metadata": {"a": "1"}})["metadata"] == {"a": "1"}
    assert api.ok("POST", base, json={"metadata": {"b": "2"}})["metadata"] == {"a": "1", "b": "2"}
    assert api.ok("PUT", base, json={"metadata": {"c": "3"}})["metadata"] == {"c": "3"}
    assert api.ok("PUT", f"{base}/d", json={"meta": {"d": "4"}})["meta"] == {"d": "4"}
    assert api("PUT", f"{base}/d", json={"meta": {"e": "4"}}).status_code == 400
    assert api.ok("GET", f"{base}/c")["meta"] == {"c": "3"}
    assert api("DELETE", f"{base}/c").status_code == 204
    assert api("GET", f"{base}/c").status_code == 404
    assert api("PUT", base, "reader-a", json={"metadata": {}}).status_code == 403
    api.ok("PUT", f"/os-quota-sets/{api.server(sid)['tenant_id']}", "admin", json={"quota_set": {"metadata_items": 2}})
    resp = api("POST", base, json={"metadata": {"x": "1", "y": "2"}})
    assert resp.status_code == 403 and "Quota exceeded" in resp.text
    assert api.ok("GET", base)["metadata"] == {"d": "4"}


def test_instance_actions_and_events(api: Api) -> None:
    sid = api.active()["id"]
    api.action(sid, {"os-stop": None})
    api.wait_status(sid, "SHUTOFF")
    actions = api.ok("GET", f"/servers/{sid}/os-instance-actions")["instanceActions"]
    assert [a["action"] for a in actions] == ["stop", "create"]
    create = api.ok("GET", f"/servers/{sid}/os-instance-actions/{actions[1]['request_id']}", version="2.62")
    events = create["instanceAction"]["events"]
    assert events and events[0]["result"] == "Success" and "host" not in events[0]
    admin = api.ok("GET", f"/servers/{sid}/os-instance-actions/{actions[1]['request_id']}", "admin", version="2.62")
    assert admin["instanceAction"]["events"][0]["host"]
    assert api("GET", f"/servers/{sid}/os-instance-actions", "member-b").status_code == 404
    assert api("GET", f"/servers/{sid}/os-instance-actions/req-nope").status_code == 404
