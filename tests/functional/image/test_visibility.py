"""Who sees which image: private, shared (members API), community, public; os_hidden."""

from __future__ import annotations

from tests.functional.image.conftest import PROJECT_A, PROJECT_B, Api


def test_private_image_is_invisible_to_another_project(api: Api) -> None:
    image = api.create(name="secret", visibility="private")
    assert api("GET", f"/v2/images/{image['id']}", as_="member-b").status_code == 404
    assert api("GET", f"/v2/images/{image['id']}/file", as_="member-b").status_code == 404
    assert api("DELETE", f"/v2/images/{image['id']}", as_="member-b").status_code == 404
    assert api.names(as_="member-b") == [] and api.names("?visibility=all", as_="member-b") == []
    assert api.names(as_="admin") == ["secret"]


def test_public_image_is_visible_to_all_but_only_the_owner_may_change_it(api: Api) -> None:
    image = api.create(as_="admin", name="pub", visibility="public")
    api.upload(image["id"], b"pub", as_="admin")
    for persona in ("member-a", "member-b", "reader-a"):
        assert api.names(as_=persona) == ["pub"]
        assert api("GET", f"/v2/images/{image['id']}/file", as_=persona).content == b"pub"
    resp = api.patch(image["id"], [{"op": "replace", "path": "/name", "value": "mine"}], as_="member-b")
    assert resp.status_code == 403
    assert api("DELETE", f"/v2/images/{image['id']}", as_="member-b").status_code == 403


def test_community_image_is_listed_only_when_asked_for(api: Api) -> None:
    image = api.create(name="comm", visibility="community")
    assert api.names(as_="member-b") == []
    assert api.names("?visibility=community", as_="member-b") == ["comm"]
    assert api.names("?visibility=all", as_="member-b") == ["comm"]
    assert api("GET", f"/v2/images/{image['id']}", as_="member-b").status_code == 200
    assert api.names() == ["comm"]  # the owner sees its own community image by default


def test_shared_image_appears_in_the_members_list_once_accepted(api: Api) -> None:
    image = api.create(name="shared")
    members = f"/v2/images/{image['id']}/members"
    assert api("GET", f"/v2/images/{image['id']}", as_="member-b").status_code == 404
    resp = api("POST", members, json={"member": PROJECT_B})
    assert resp.status_code == 200 and resp.json()["status"] == "pending" and resp.json()["member_id"] == PROJECT_B
    assert api("POST", members, json={"member": PROJECT_B}).status_code == 409
    assert api("GET", f"/v2/images/{image['id']}", as_="member-b").status_code == 200
    assert api.names(as_="member-b") == []
    assert api.names("?member_status=pending", as_="member-b") == ["shared"]
    assert api("PUT", f"{members}/{PROJECT_B}", json={"status": "accepted"}).status_code == 403  # owner cannot
    resp = api("PUT", f"{members}/{PROJECT_B}", as_="member-b", json={"status": "accepted"})
    assert resp.status_code == 200 and resp.json()["status"] == "accepted"
    assert api.names(as_="member-b") == ["shared"]
    assert api.names("?visibility=shared", as_="member-b") == ["shared"]
    api("PUT", f"{members}/{PROJECT_B}", as_="member-b", json={"status": "rejected"})
    assert api.names(as_="member-b") == []
    assert api.names("?member_status=rejected", as_="member-b") == ["shared"]
    assert api.names("?member_status=all", as_="member-b") == ["shared"]


def test_member_listing_show_and_delete(api: Api) -> None:
    image = api.create()
    members = f"/v2/images/{image['id']}/members"
    api("POST", members, json={"member": PROJECT_B})
    api("POST", members, json={"member": "c" * 32})
    owner_view = api("GET", members).json()
    assert sorted(m["member_id"] for m in owner_view["members"]) == sorted([PROJECT_B, "c" * 32])
    assert [m["member_id"] for m in api("GET", members, as_="member-b").json()["members"]] == [PROJECT_B]
    assert api("GET", f"{members}/{PROJECT_B}", as_="member-b").json()["status"] == "pending"
    assert api("GET", f"{members}/{'c' * 32}", as_="member-b").status_code == 404
    assert api("DELETE", f"{members}/{PROJECT_B}", as_="member-b").status_code == 403
    assert api("DELETE", f"{members}/{PROJECT_B}").status_code == 204
    assert api("GET", f"/v2/images/{image['id']}", as_="member-b").status_code == 404
    assert api("DELETE", f"{members}/{PROJECT_B}").status_code == 404


def test_members_only_for_shared_images_and_bad_bodies(api: Api) -> None:
    private = api.create(visibility="private")
    assert api("POST", f"/v2/images/{private['id']}/members", json={"member": PROJECT_B}).status_code == 403
    shared = api.create()
    members = f"/v2/images/{shared['id']}/members"
    assert api("POST", members, json={"nope": 1}).status_code == 400
    assert api("POST", members, as_="reader-a", json={"member": PROJECT_B}).status_code == 403
    api("POST", members, json={"member": PROJECT_B})
    assert api("PUT", f"{members}/{PROJECT_B}", as_="member-b", json={"status": "maybe"}).status_code == 400


def test_reader_reads_its_project_images_only(api: Api) -> None:
    api.create(name="a-img", visibility="private")
    api.create(as_="member-b", name="b-img", visibility="private")
    assert api.names(as_="reader-a") == ["a-img"]
    assert api("GET", "/v2/images", as_="member-b").json()["images"][0]["owner"] == PROJECT_B
    assert api("GET", "/v2/images", as_="reader-a").json()["images"][0]["owner"] == PROJECT_A


def test_hidden_images_are_left_out_of_lists_but_shown_by_id(api: Api) -> None:
    image = api.create(name="hidden", os_hidden=True)
    assert api.names() == []
    assert api.names("?os_hidden=true") == ["hidden"]
    assert api("GET", f"/v2/images/{image['id']}").json()["os_hidden"] is True
