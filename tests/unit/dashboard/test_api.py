"""The API wrappers never let an id from the browser change which API URL is called."""

from __future__ import annotations

import httpx
import pytest

from stratus.dashboard.api import ApiError, Http
from stratus.dashboard.api.compute import Compute
from stratus.dashboard.api.network import Network


class Recorder:
    """Answers like a compute/network API would for the paths it is asked, and records them."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.raw_path.decode())
        if request.url.path == "/v2.1/servers/detail":
            return httpx.Response(200, json={"servers": []})
        if request.url.path == "/v2.1/":
            return httpx.Response(200, json={"version": {"id": "v2.1"}})
        return httpx.Response(404, json={"itemNotFound": {"code": 404, "message": "not here"}})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def test_a_server_id_that_names_another_resource_is_not_found(recorder: Recorder) -> None:
    compute = Compute(Http(5, httpx.MockTransport(recorder)), "http://compute.test/v2.1", "t")
    for bad in ("detail", "..", ".", ""):
        with pytest.raises(ApiError) as err:
            compute.server(bad)
        assert err.value.status == 404, bad
    assert "/v2.1/" not in recorder.paths  # ".." never climbed to the version document


def test_ids_are_one_path_segment(recorder: Recorder) -> None:
    http = Http(5, httpx.MockTransport(recorder))
    network = Network(http, "http://network.test", "t")
    with pytest.raises(ApiError):
        network.release_floating_ip("x?project_id=other/../y")
    with pytest.raises(ApiError):
        Compute(http, "http://compute.test/v2.1", "t").delete_keypair("my key#1")
    assert recorder.paths == [
        "/v2.0/floatingips/x%3Fproject_id%3Dother%2F..%2Fy",
        "/v2.1/os-keypairs/my%20key%231",
    ]
