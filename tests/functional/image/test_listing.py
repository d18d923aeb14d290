"""Image lists: each filter, sort keys and directions, limit/marker pagination with next links."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.image.conftest import PROJECT_A, PROJECT_B, Api


@pytest.fixture
def catalog(api: Api) -> Api:
    """Five images of project A with distinct attributes (sizes via uploads)."""
    api.create(name="alpha", disk_format="raw", container_format="bare", tags=["x", "y"], os_distro="debian")
    beta = api.create(name="beta", disk_format="iso", container_format="bare", protected=True, tags=["x"])
    gamma = api.create(name="gamma", disk_format="raw", container_format="ovf", min_disk=5)
    api.create(name="delta", disk_format="qcow2", container_format="bare", os_hidden=True)
    api.create(name="epsilon", visibility="private", disk_format="vmdk", container_format="bare")
    iso = bytearray(40000)
    iso[0x8001:0x8006] = b"CD001"
    assert api.upload(beta["id"], bytes(iso)).status_code == 204
    assert api.upload(gamma["id"], b"g" * 1000).status_code == 204
    return api


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["alpha", "beta", "epsilon", "gamma"]),
        ("?name=beta", ["beta"]),
        ("?name=in:alpha,gamma", ["alpha", "gamma"]),
        ("?status=active", ["beta", "gamma"]),
        ("?status=queued", ["alpha", "epsilon"]),
        ("?visibility=private", ["epsilon"]),
        ("?visibility=shared", ["alpha", "beta", "gamma"]),
        (f"?owner={PROJECT_A}", ["alpha", "beta", "epsilon", "gamma"]),
        (f"?owner={PROJECT_B}", []),
        ("?tag=x", ["alpha", "beta"]),
        ("?tag=x&tag=y", ["alpha"]),
        ("?disk_format=raw", ["alpha", "gamma"]),
        ("?container_format=ovf", ["gamma"]),
        ("?size_min=1001", ["beta"]),
        ("?size_max=1000", ["gamma"]),
        ("?size_min=1000&size_max=1000", ["gamma"]),
        ("?protected=true", ["beta"]),
        ("?protected=false", ["alpha", "epsilon", "gamma"]),
        ("?os_hidden=true", ["delta"]),
        ("?os_distro=debian", ["alpha"]),
        ("?member_status=pending", ["alpha", "beta", "epsilon", "gamma"]),
    ],
)
def test_each_filter(catalog: Api, query: str, expected: list[str]) -> None:
    assert sorted(catalog.names(query)) == expected


@pytest.mark.parametrize(
    "query",
    [
        "?size_min=x",
        "?size_max=99999999999999999999",
        "?protected=maybe",
        "?os_hidden=1",
        "?visibility=nope",
        "?member_status=x",
        "?limit=-1",
    ],
)
def test_malformed_filters_are_400(catalog: Api, query: str) -> None:
    resp = catalog("GET", f"/v2/images{query}")
    assert resp.status_code == 400 and resp.json()["message"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?sort_key=name&sort_dir=asc", ["alpha", "beta", "epsilon", "gamma"]),
        ("?sort_key=name&sort_dir=desc", ["gamma", "epsilon", "beta", "alpha"]),
        ("?sort=name:desc", ["gamma", "epsilon", "beta", "alpha"]),
        ("?sort=disk_format:asc,name:desc", ["beta", "gamma", "alpha", "epsilon"]),
        ("?sort_key=status&sort_key=name&sort_dir=asc&sort_dir=desc", ["gamma", "beta", "epsilon", "alpha"]),
        ("?sort_key=size&sort_dir=desc", ["beta", "gamma"]),
        ("", ["epsilon", "gamma", "beta", "alpha"]),
    ],
)
def test_sorting(catalog: Api, query: str, expected: list[str]) -> None:
    names = catalog.names(query)
    if "size" in query:
        names = names[:2]
    assert names == expected


@pytest.mark.parametrize("query", ["?sort_key=bogus", "?sort_dir=up", "?sort=name:up", "?sort=name&sort_key=id"])
def test_bad_sorting_is_400(catalog: Api, query: str) -> None:
    assert catalog("GET", f"/v2/images{query}").status_code == 400


def _walk(api: Api, first: str) -> tuple[list[str], list[dict[str, Any]]]:
    names, pages, url = [], [], first
    while url:
        page = api("GET", url).json()
        pages.append(page)
        names += [i["name"] for i in page["images"]]
        url = page.get("next")
    return names, pages


@pytest.mark.parametrize("sort", ["sort_key=name&sort_dir=asc", "sort=size:desc,name:asc", ""])
def test_limit_and_marker_walk_every_image_once_following_next_links(catalog: Api, sort: str) -> None:
    everything = catalog.names(f"?{sort}")
    names, pages = _walk(catalog, f"/v2/images?limit=2&{sort}")
    assert names == everything
    assert [len(p["images"]) for p in pages] == [2, 2]
    assert "next" not in pages[-1]
    assert "limit=2" in pages[0]["next"] and "marker=" in pages[0]["next"]


def test_next_link_keeps_the_filters(catalog: Api) -> None:
    names, _ = _walk(catalog, "/v2/images?limit=1&disk_format=raw&sort_key=name&sort_dir=asc")
    assert names == ["alpha", "gamma"]


def test_unknown_marker_is_400(catalog: Api) -> None:
    resp = catalog("GET", f"/v2/images?marker={uuid.uuid4()}")
    assert resp.status_code == 400 and "marker" in resp.json()["message"]


def test_marker_of_an_image_the_caller_cannot_see_is_400(catalog: Api) -> None:
    private = catalog("GET", "/v2/images?visibility=private").json()["images"][0]
    assert catalog("GET", f"/v2/images?marker={private['id']}", as_="member-b").status_code == 400
