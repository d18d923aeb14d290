"""The list query engine: filters, sorting, fields and marker pagination over rendered resources."""

from __future__ import annotations

import pytest

from stratus.core.exceptions import BadRequest
from stratus.network.core.listing import query

ITEMS = [
    {"id": f"id{n}", "name": f"n{n % 3}", "shared": n % 2 == 0, "fixed_ips": [{"ip_address": f"10.0.0.{n}"}]}
    for n in range(7)
]


def run(params: list[tuple[str, str]]) -> dict:
    return query(list(ITEMS), params, collection="things", path="/v2.0/things", limit_max=1000)


def test_filter_and_sort() -> None:
    doc = run([("name", "n1"), ("sort_key", "id"), ("sort_dir", "desc")])
    assert [i["id"] for i in doc["things"]] == ["id4", "id1"]
    assert [i["id"] for i in run([("shared", "True")])["things"]] == ["id0", "id2", "id4", "id6"]
    assert [i["id"] for i in run([("fixed_ips", "ip_address=10.0.0.3")])["things"]] == ["id3"]
    two_keys = run([("sort_key", "name"), ("sort_dir", "asc"), ("sort_key", "id"), ("sort_dir", "desc")])
    assert [i["id"] for i in two_keys["things"]][:3] == ["id6", "id3", "id0"]


def test_pages_cover_everything_once() -> None:
    seen: list[str] = []
    params = [("limit", "3"), ("sort_key", "name")]
    while True:
        doc = run(params)
        seen += [i["id"] for i in doc["things"]]
        nxt = [link for link in doc.get("things_links", []) if link["rel"] == "next"]
        if not nxt:
            break
        params = [tuple(p.split("=", 1)) for p in nxt[0]["href"].split("?", 1)[1].split("&")]  # type: ignore[misc]
    assert sorted(seen) == sorted(i["id"] for i in ITEMS) and len(seen) == len(ITEMS)


def test_bad_queries() -> None:
    for params in ([("limit", "x")], [("sort_key", "nope")], [("sort_dir", "asc")], [("colour", "red")]):
        with pytest.raises(BadRequest):
            run(params)
    assert set(run([("fields", "id")])["things"][0]) == {"id"}
