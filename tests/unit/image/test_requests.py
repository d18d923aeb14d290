"""Parsing of list sort parameters, Range headers and JSON patch documents."""

from __future__ import annotations

import pytest

from stratus.core.exceptions import BadRequest, Conflict, Forbidden, RangeNotSatisfiable
from stratus.image.core import listing, patch
from stratus.image.core.data import parse_range


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([], [("created_at", "desc"), ("id", "desc")]),
        ([("sort", "name:asc,size")], [("name", "asc"), ("size", "asc"), ("id", "asc")]),
        (
            [("sort_key", "name"), ("sort_key", "size"), ("sort_dir", "asc")],
            [("name", "asc"), ("size", "asc"), ("id", "asc")],
        ),
        ([("sort_key", "id"), ("sort_dir", "asc")], [("id", "asc")]),
    ],
)
def test_parse_sort(params: list[tuple[str, str]], expected: list[tuple[str, str]]) -> None:
    assert listing.parse_sort(params) == expected


@pytest.mark.parametrize(
    "params",
    [
        [("sort", "name"), ("sort_dir", "asc")],
        [("sort_key", "a"), ("sort_key", "name"), ("sort_dir", "asc"), ("sort_dir", "desc"), ("sort_dir", "asc")],
        [("sort", "name:sideways")],
        [("sort_key", "password")],
    ],
)
def test_parse_sort_rejects(params: list[tuple[str, str]]) -> None:
    with pytest.raises(BadRequest):
        listing.parse_sort(params)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 1)),
        ("bytes=2-", (2, 10)),
        ("bytes=-3", (7, 10)),
        ("bytes=-30", (0, 10)),
        ("bytes=5-100", (5, 10)),
        ("items=0-1", None),
    ],
)
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 10) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=5-2", "bytes=-0", "bytes=0-1,3-4"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 10)


def state() -> patch.EditableImage:
    return patch.EditableImage(base={"name": "n", "min_ram": 0}, tags=["a"], properties={"p": "1"})


def test_patch_ops_follow_glance_semantics() -> None:
    s = state()
    patch.apply(
        s,
        patch.parse(
            [
                {"op": "add", "path": "/p", "value": "2"},
                {"op": "add", "path": "/q~1r", "value": "3"},
                {"op": "add", "path": "/tags/0", "value": "z"},
                {"op": "remove", "path": "/tags/1"},
            ]
        ),
    )
    assert s.properties == {"p": "2", "q/r": "3"} and s.tags == ["z"]


@pytest.mark.parametrize(
    ("op", "error"),
    [
        ({"op": "replace", "path": "/nope", "value": "x"}, Conflict),
        ({"op": "remove", "path": "/nope"}, Conflict),
        ({"op": "remove", "path": "/name"}, Forbidden),
        ({"op": "replace", "path": "/status", "value": "active"}, Forbidden),
        ({"op": "add", "path": "/locations", "value": []}, Forbidden),
        ({"op": "add", "path": "/tags/9", "value": "x"}, BadRequest),
        ({"op": "copy", "path": "/name"}, BadRequest),
        ({"op": "add", "path": "/name"}, BadRequest),
    ],
)
def test_patch_errors(op: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        patch.apply(state(), patch.parse([op]))
