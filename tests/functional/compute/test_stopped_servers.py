from tests.functional.compute.conftest import Api


def test_rebuild_and_resize_keep_a_stopped_server_stopped(api: Api) -> None:
    big = api.make_flavor("m1.big", ram=1024, vcpus=2)
    sid = api.active()["id"]
    assert api.action(sid, {"os-stop": None}).status_code == 202
    api.wait_status(sid, "SHUTOFF")
    assert api.action(sid, {"rebuild": {"imageRef": api.image_id}}).status_code == 202
    assert api.wait_status(sid, "SHUTOFF")["OS-EXT-STS:power_state"] == 4
    assert api.action(sid, {"resize": {"flavorRef": big}}).status_code == 202
    assert api.wait_status(sid, "VERIFY_RESIZE")["OS-EXT-STS:power_state"] == 4
    assert api.action(sid, {"confirmResize": None}).status_code == 204
    assert api.wait_status(sid, "SHUTOFF")["flavor"]["id"] == big
    assert api.action(sid, {"os-start": None}).status_code == 202
    api.wait_status(sid, "ACTIVE")
