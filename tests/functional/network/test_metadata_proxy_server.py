"""The metadata proxy's HTTP side on loopback sockets: signing, forwarding, streaming, errors.

The namespaces are the e2e test's business (tests/e2e/test_metadata_proxy.py); here each "network"
is a listening socket on 127.0.0.1 and compute is an httpx MockTransport recording what it gets.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from stratus.compute.metadata import sign
from stratus.network.agent.metadata_server import Forwarder, LookupUnavailable, ProxyServer

SECRET = "proxy-test-secret"
OWNERS = {("net-1", "127.0.0.1"): {"device_id": "vm-1", "project_id": "proj-1"}}


class Compute:
    """Stands in for the compute metadata API."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.fail: Exception | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail is not None:
            raise self.fail
        self.requests.append(request)
        if request.url.path == "/big":
            return httpx.Response(200, content=b"z" * 300_000, headers={"Content-Type": "application/octet-stream"})
        if request.url.path == "/missing":
            return httpx.Response(404, json={"itemNotFound": {"code": 404, "message": "no"}})
        body = f"{request.method} {request.url.path}?{request.url.query.decode()} {request.content.decode()}"
        return httpx.Response(200, text=body)


def listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


@pytest.fixture
def compute() -> Compute:
    return Compute()


@pytest.fixture
def proxy(compute: Compute) -> Iterator[tuple[ProxyServer, dict[str, int], list[Any]]]:
    lookups: list[Any] = []

    def resolve(network_id: str, address: str) -> dict[str, str] | None:
        lookups.append((network_id, address))
        if network_id == "net-down":
            raise LookupUnavailable("bus timeout")
        return OWNERS.get((network_id, address))

    forwarder = Forwarder("http://compute.test:8775", SECRET, resolve, transport=httpx.MockTransport(compute))
    server = ProxyServer(forwarder, workers=4)
    ports = {}
    for net in ("net-1", "net-2", "net-down"):
        sock = listener()
        ports[net] = sock.getsockname()[1]
        server.add(net, sock)
    try:
        yield server, ports, lookups
    finally:
        server.close()


def url(ports: dict[str, int], net: str, path: str) -> str:
    return f"http://127.0.0.1:{ports[net]}{path}"


def test_forwards_with_signed_headers(proxy: Any, compute: Compute) -> None:
    _server, ports, lookups = proxy
    resp = httpx.get(url(ports, "net-1", "/latest/meta-data/hostname?x=1"), headers={"Accept": "text/plain"})
    assert resp.status_code == 200
    assert resp.text == "GET /latest/meta-data/hostname?x=1 "
    sent = compute.requests[-1]
    assert sent.url.host == "compute.test" and sent.url.port == 8775
    assert sent.headers["X-Instance-ID"] == "vm-1"
    assert sent.headers["X-Tenant-ID"] == "proj-1"
    assert sent.headers["X-Forwarded-For"] == "127.0.0.1"
    assert sent.headers["X-Instance-ID-Signature"] == sign(SECRET, "vm-1")
    assert sent.headers["Accept"] == "text/plain"
    assert lookups == [("net-1", "127.0.0.1")]


def test_post_body_and_status_pass_through(proxy: Any, compute: Compute) -> None:
    _server, ports, _ = proxy
    resp = httpx.post(url(ports, "net-1", "/openstack/latest/password"), content=b"secret-pw")
    assert resp.text == "POST /openstack/latest/password? secret-pw"
    missing = httpx.get(url(ports, "net-1", "/missing"))
    assert missing.status_code == 404 and missing.json()["itemNotFound"]["message"] == "no"


def test_large_answer_is_streamed_whole(proxy: Any) -> None:
    _server, ports, _ = proxy
    resp = httpx.get(url(ports, "net-1", "/big"))
    assert resp.status_code == 200 and resp.content == b"z" * 300_000
    assert resp.headers["content-type"] == "application/octet-stream"


def test_unknown_source_is_404_and_not_forwarded(proxy: Any, compute: Compute) -> None:
    _server, ports, lookups = proxy
    resp = httpx.get(url(ports, "net-2", "/latest/meta-data/"))
    assert resp.status_code == 404
    assert compute.requests == []
    assert lookups == [("net-2", "127.0.0.1")]  # the socket's network, not another's


def test_lookup_unavailable_is_503(proxy: Any, compute: Compute) -> None:
    _server, ports, _ = proxy
    assert httpx.get(url(ports, "net-down", "/latest/")).status_code == 503
    assert compute.requests == []


def test_compute_unreachable_is_502(proxy: Any, compute: Compute) -> None:
    _server, ports, _ = proxy
    compute.fail = httpx.ConnectError("refused")
    resp = httpx.get(url(ports, "net-1", "/latest/"))
    assert resp.status_code == 502 and "unreachable" in resp.text


def test_oversized_body_is_400(proxy: Any, compute: Compute) -> None:
    _server, ports, _ = proxy
    resp = httpx.post(url(ports, "net-1", "/openstack/latest/password"), content=b"x" * (1024 * 1024 + 1))
    assert resp.status_code == 400
    assert compute.requests == []


def test_removed_network_stops_accepting(proxy: Any) -> None:
    server, ports, _ = proxy
    assert server.networks() == {"net-1", "net-2", "net-down"}
    server.remove("net-2")
    server.remove("net-2")  # idempotent
    assert server.networks() == {"net-1", "net-down"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(url(ports, "net-2", "/latest/"))
    assert httpx.get(url(ports, "net-1", "/latest/")).status_code == 200


def test_concurrent_requests(proxy: Any) -> None:
    _server, ports, _ = proxy
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: httpx.get(url(ports, "net-1", f"/r{i}")).status_code, range(40)))
    assert codes == [200] * 40
