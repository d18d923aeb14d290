"""Server tags (/servers/{id}/tags, 2.26) and the list filters that use them."""

from __future__ import annotations

from tests.functional.compute.conftest import Api

V = "2.26"


def test_tags_are_set_checked_listed_and_removed(api: Api) -> None:
    server = api.active(version=V, tags=["blue"])
    sid = server["id"]
    base = f"/servers/{sid}/tags"
    assert api.ok("GET", base, version=V) == {"tags": ["blue"]}
    added = api("PUT", f"{base}/green", version=V)
    assert added.status_code == 201 and added.headers["Location"].endswith(f"{base}/green")
    assert api("PUT", f"{base}/green", version=V).status_code == 204  # had it already
    assert api("GET", f"{base}/green", version=V).status_code == 204
    assert api("GET", f"{base}/red", version=V).status_code == 404
    assert api.server(sid, version=V)["tags"] == ["blue", "green"]
    assert api.ok("PUT", base, version=V, json={"tags": ["a", "b", "a"]}) == {"tags": ["a", "b"]}
    assert api("DELETE", f"{base}/a", version=V).status_code == 204
    assert api("DELETE", f"{base}/a", version=V).status_code == 404
    assert api("DELETE", base, version=V).status_code == 204
    assert api.ok("GET", base, version=V) == {"tags": []}


def test_tag_rules_versions_and_scope(api: Api) -> None:
    sid = api.active(version=V)["id"]
    base = f"/servers/{sid}/tags"
    assert api("GET", base, version="2.25").status_code == 404  # not before 2.26
    for bad in ({"tags": ["x/y"]}, {"tags": ["a,b"]}, {"tags": [""]}, {"tags": ["x" * 61]}, {"tags": "x"}, {}):
        assert api("PUT", base, version=V, json=bad).status_code == 400, bad
    assert api("PUT", base, version=V, json={"tags": [f"t{i}" for i in range(51)]}).status_code == 400
    assert api.ok("GET", base, version=V) == {"tags": []}  # nothing half-written
    assert api("GET", base, "member-b", version=V).status_code == 404  # another project's server
    assert api("PUT", f"{base}/x", "reader-a", version=V).status_code == 403  # a reader may only look
    assert api("GET", base, "reader-a", version=V).status_code == 200


def test_list_filters_by_tags(api: Api) -> None:
    made = {
        name: api.active(version=V, name=name, tags=tags)["id"]
        for name, tags in (("both", ["a", "b"]), ("only-a", ["a"]), ("none", []))
    }

    def names(query: str) -> set[str]:
        servers = api.ok("GET", f"/servers?{query}", version=V)["servers"]
        return {s["name"] for s in servers if s["id"] in made.values()}

    assert names("tags=a,b") == {"both"}
    assert names("tags-any=a,b") == {"both", "only-a"}
    assert names("not-tags=a,b") == {"only-a", "none"}
    assert names("not-tags-any=a") == {"none"}
