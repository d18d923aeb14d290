"""Image records through the API: discovery, schemas, create/show/list, JSON patch, tags, delete."""

from __future__ import annotations

import uuid

import pytest

from tests.functional.image.conftest import PROJECT_A, PROJECT_B, Api


def test_root_lists_versions_with_300_and_versions_with_200(api: Api) -> None:
    root = api("GET", "/", as_="nobody")
    assert root.status_code == 300
    current = [v for v in root.json()["versions"] if v["status"] == "CURRENT"]
    assert len(current) == 1 and current[0]["links"][0]["href"] == "http://testserver/v2/"
    assert api("GET", "/versions").json() == root.json()


def test_schemas_describe_images_and_members(api: Api) -> None:
    image = api("GET", "/v2/schemas/image").json()
    assert image["name"] == "image" and "disk_format" in image["properties"]
    assert api("GET", "/v2/schemas/images").json()["name"] == "images"
    assert api("GET", "/v2/schemas/members").json()["name"] == "members"


def test_requests_without_a_valid_token_get_401_with_a_json_message(api: Api) -> None:
    resp = api("GET", "/v2/images", as_="bogus")
    assert resp.status_code == 401
    assert resp.json()["code"] == 401 and resp.json()["message"]


def test_create_returns_the_queued_image_and_show_returns_it(api: Api) -> None:
    resp = api(
        "POST",
        "/v2/images",
        json={
            "name": "cirros",
            "disk_format": "qcow2",
            "container_format": "bare",
            "min_disk": 1,
            "min_ram": 64,
            "tags": ["a", "a", "b"],
            "os_distro": "cirros",
        },
    )
    assert resp.status_code == 201, resp.text
    image = resp.json()
    assert resp.headers["Location"].endswith(f"/v2/images/{image['id']}")
    assert image["status"] == "queued" and image["visibility"] == "shared" and image["owner"] == PROJECT_A
    assert image["tags"] == ["a", "b"] and image["os_distro"] == "cirros" and image["size"] is None
    assert image["min_disk"] == 1 and image["min_ram"] == 64 and image["protected"] is False
    assert api("GET", f"/v2/images/{image['id']}").json() == image


def test_create_with_a_given_id_and_a_duplicate_id_conflicts(api: Api) -> None:
    image_id = str(uuid.uuid4())
    assert api.create(id=image_id)["id"] == image_id
    resp = api("POST", "/v2/images", json={"id": image_id})
    assert resp.status_code == 409


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"disk_format": "floppy"}, 400),
        ({"min_ram": -1}, 400),
        ({"protected": "yes"}, 400),
        ({"visibility": "everyone"}, 400),
        ({"tags": "x"}, 400),
        ({"id": "not-a-uuid"}, 400),
        ({"custom": 5}, 400),
        ({"status": "active"}, 403),
        ({"checksum": "x"}, 403),
        ({"size": 5}, 403),
        ({"deleted": True}, 403),
        ([], 400),
    ],
)
def test_create_refuses_bad_or_read_only_fields(api: Api, body: object, status: int) -> None:
    resp = api("POST", "/v2/images", json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["message"]
    assert api("GET", "/v2/images?visibility=all").json()["images"] == []


def test_malformed_json_is_400_and_wrong_content_type_is_415(api: Api) -> None:
    bad = api("POST", "/v2/images", content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert api("POST", "/v2/images", content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415


def test_reader_cannot_create_update_or_delete(api: Api) -> None:
    assert api("POST", "/v2/images", as_="reader-a", json={"name": "x"}).status_code == 403
    image = api.create(name="mine")
    assert api.patch(image["id"], [{"op": "replace", "path": "/name", "value": "y"}], as_="reader-a").status_code == 403
    assert api("DELETE", f"/v2/images/{image['id']}", as_="reader-a").status_code == 403
    assert api("GET", f"/v2/images/{image['id']}", as_="reader-a").status_code == 200


def test_member_cannot_create_for_another_project_but_admin_can(api: Api) -> None:
    assert api("POST", "/v2/images", json={"owner": PROJECT_B}).status_code == 403
    assert api.create(as_="admin", owner=PROJECT_B, name="given")["owner"] == PROJECT_B
    assert api.names(as_="member-b") == ["given"]


def test_publicizing_is_admin_only(api: Api) -> None:
    assert api("POST", "/v2/images", json={"visibility": "public"}).status_code == 403
    image = api.create(name="x")
    resp = api.patch(image["id"], [{"op": "replace", "path": "/visibility", "value": "public"}])
    assert resp.status_code == 403
    resp = api.patch(image["id"], [{"op": "replace", "path": "/visibility", "value": "public"}], as_="admin")
    assert resp.status_code == 200 and resp.json()["visibility"] == "public"


def test_json_patch_adds_replaces_and_removes_properties_and_tags(api: Api) -> None:
    image = api.create(name="old", tags=["t1"])
    ops = [
        {"op": "replace", "path": "/name", "value": "new"},
        {"op": "add", "path": "/os_distro", "value": "debian"},
        {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
        {"op": "replace", "path": "/hw_disk_bus", "value": "scsi"},
        {"op": "add", "path": "/tags/-", "value": "t2"},
        {"op": "replace", "path": "/min_ram", "value": 512},
    ]
    resp = api.patch(image["id"], ops)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["name"] == "new" and doc["os_distro"] == "debian" and doc["hw_disk_bus"] == "scsi"
    assert doc["tags"] == ["t1", "t2"] and doc["min_ram"] == 512
    resp = api.patch(
        image["id"], [{"op": "remove", "path": "/os_distro"}, {"op": "replace", "path": "/tags", "value": []}]
    )
    doc = resp.json()
    assert "os_distro" not in doc and doc["tags"] == []
    assert api("GET", f"/v2/images/{image['id']}").json() == doc


@pytest.mark.parametrize("attr", ["id", "status", "checksum", "size", "virtual_size", "os_hash_value", "created_at"])
def test_patching_a_read_only_attribute_is_403(api: Api, attr: str) -> None:
    image = api.create(name="x")
    resp = api.patch(image["id"], [{"op": "replace", "path": f"/{attr}", "value": "x"}])
    assert resp.status_code == 403
    assert "read-only" in resp.json()["message"]


@pytest.mark.parametrize(
    ("ops", "status"),
    [
        ([{"op": "replace", "path": "/missing", "value": "x"}], 409),
        ([{"op": "remove", "path": "/missing"}], 409),
        ([{"op": "remove", "path": "/name"}], 403),
        ([{"op": "move", "path": "/name", "from": "/x"}], 400),
        ([{"op": "add", "path": "/a/b", "value": "x"}], 400),
        ([{"op": "add", "path": "name", "value": "x"}], 400),
        ([{"op": "replace", "path": "/min_disk", "value": "big"}], 400),
        ({"op": "replace"}, 400),
    ],
)
def test_bad_patches_are_refused_and_change_nothing(api: Api, ops: object, status: int) -> None:
    image = api.create(name="keep")
    first_ok = [{"op": "replace", "path": "/name", "value": "changed"}]
    body = first_ok + ops if isinstance(ops, list) else ops
    resp = api.patch(image["id"], body)  # type: ignore[arg-type]
    assert resp.status_code == status, resp.text
    assert api("GET", f"/v2/images/{image['id']}").json()["name"] == "keep"


def test_patch_needs_the_json_patch_media_type(api: Api) -> None:
    image = api.create()
    resp = api("PATCH", f"/v2/images/{image['id']}", json=[{"op": "replace", "path": "/name", "value": "x"}])
    assert resp.status_code == 415


def test_tags_api_adds_idempotently_and_deletes(api: Api) -> None:
    image = api.create()
    assert api("PUT", f"/v2/images/{image['id']}/tags/blue").status_code == 204
    assert api("PUT", f"/v2/images/{image['id']}/tags/blue").status_code == 204
    assert api("GET", f"/v2/images/{image['id']}").json()["tags"] == ["blue"]
    assert api("DELETE", f"/v2/images/{image['id']}/tags/blue").status_code == 204
    assert api("DELETE", f"/v2/images/{image['id']}/tags/blue").status_code == 404


def test_tag_quota_gives_413(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(image_tag_quota=2)
    image = api.create(tags=["a", "b"])
    assert api("PUT", f"/v2/images/{image['id']}/tags/c").status_code == 413
    assert api("POST", "/v2/images", json={"tags": ["a", "b", "c"]}).status_code == 413


def test_protected_image_cannot_be_deleted_until_unprotected(api: Api) -> None:
    image = api.create(protected=True)
    resp = api("DELETE", f"/v2/images/{image['id']}")
    assert resp.status_code == 403 and "protected" in resp.json()["message"]
    api.patch(image["id"], [{"op": "replace", "path": "/protected", "value": False}])
    assert api("DELETE", f"/v2/images/{image['id']}").status_code == 204
    assert api("GET", f"/v2/images/{image['id']}").status_code == 404


def test_unknown_image_is_404(api: Api) -> None:
    for method in ("GET", "DELETE"):
        assert api(method, f"/v2/images/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v2/images", {"name": "a\u0000b"}),
        ("POST", "/v2/images", {"prop\u0000": "x"}),
        ("GET", "/v2/images?name=a%00b", None),
        ("GET", "/v2/images/a%00b", None),
    ],
)
def test_nul_characters_are_refused_cleanly(api: Api, method: str, path: str, body: object) -> None:
    resp = api(method, path, json=body) if body is not None else api(method, path)
    assert resp.status_code in (400, 404), resp.text


def test_compact_patch_form_is_accepted(api: Api) -> None:
    image = api.create(name="old")
    resp = api.patch(image["id"], [{"replace": "/name", "value": "new"}, {"add": "/k", "value": "v"}])  # type: ignore[list-item]
    assert resp.status_code == 200 and (resp.json()["name"], resp.json()["k"]) == ("new", "v")
    assert api.patch(image["id"], [{"remove": "/k"}]).json().get("k") is None  # type: ignore[list-item]


def test_os_glance_properties_are_reserved(api: Api) -> None:
    assert api("POST", "/v2/images", json={"os_glance_foo": "bar"}).status_code == 403
    image = api.create()
    assert api.patch(image["id"], [{"op": "add", "path": "/os_glance_foo", "value": "bar"}]).status_code == 403


def test_an_empty_image_id_is_404(api: Api) -> None:
    for method in ("GET", "DELETE"):
        assert api(method, "/v2/images/", follow_redirects=False).status_code == 404


def test_an_images_tasks_list_is_empty_and_scoped(api: Api) -> None:
    """Uploads are synchronous here (no import tasks), so an image has none; another project's private image
    is a 404, as for any read of it."""
    image = api.create()
    resp = api("GET", f"/v2/images/{image['id']}/tasks")
    assert resp.status_code == 200 and resp.json() == {"tasks": []}
    assert api("GET", f"/v2/images/{image['id']}/tasks", as_="member-b").status_code == 404
    assert api("GET", "/v2/images/00000000-0000-0000-0000-000000000000/tasks").status_code == 404
