"""Whatever a client sends to the list and PATCH calls, the answer is a 2xx or a clean 4xx."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional.image.conftest import Api

KEYS = st.sampled_from(
    ["limit", "marker", "sort", "sort_key", "sort_dir", "name", "status", "visibility", "member_status", "owner",
     "tag", "size_min", "size_max", "protected", "os_hidden", "disk_format", "id", "custom"]
)  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=20),
    st.integers(-5, 2000).map(str),
    st.sampled_from(["in:a,b", "name:asc", "true", "99999999999999999999", "x" * 300]),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
PATHS = st.sampled_from(["/name", "/tags", "/tags/0", "/tags/-", "/min_ram", "/visibility", "/protected", "/x", "/id",
                         "/status", "/a/b", "/", "", "/owner", "/disk_format"])  # fmt: skip
OPS = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "replace", "remove", "test"]), "path": PATHS}, optional={"value": JSON}
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(params=st.lists(st.tuples(KEYS, VALUES), max_size=5))
def test_list_never_fails_with_5xx(api: Api, params: list[tuple[str, str]]) -> None:
    resp = api("GET", "/v2/images", params=params)
    assert resp.status_code in (200, 400), resp.text


@FUZZ
@given(body=st.one_of(st.lists(OPS, max_size=4), JSON))
def test_patch_never_fails_with_5xx(api: Api, body: Any) -> None:
    image = api.create(name="fuzz")
    resp = api.patch(image["id"], body)
    assert resp.status_code in (200, 400, 403, 409, 413), resp.text


@FUZZ
@given(body=JSON)
def test_create_never_fails_with_5xx(api: Api, body: Any) -> None:
    resp = api("POST", "/v2/images", json=body)
    assert resp.status_code in (201, 400, 403, 409, 413), resp.text
