"""The network service's compute notifier: which port changes become server events, and how they are sent."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from stratus.compute.client import ComputeClient
from stratus.core.config import Config
from stratus.network.core.compute_notifier import ComputeNotifier, server_event

SERVER = "6f1c9a52-0d7e-4a8e-9b1e-2d3c4b5a6f70"
PAYLOAD = {"device_id": SERVER, "device_owner": "compute:nova", "status": "ACTIVE"}


def test_only_server_ports_make_events() -> None:
    assert server_event("network.port.up", "p1", PAYLOAD) == {
        "name": "network-vif-plugged",
        "server_uuid": SERVER,
        "tag": "p1",
        "status": "completed",
    }
    assert server_event("network.port.down", "p1", PAYLOAD)["name"] == "network-vif-unplugged"  # type: ignore[index]
    assert server_event("network.port.up", "p1", {**PAYLOAD, "device_owner": "network:router_interface"}) is None
    assert server_event("network.port.up", "p1", {**PAYLOAD, "device_id": ""}) is None
    assert server_event("network.port.other", "p1", PAYLOAD) is None


class Compute:
    """A compute API double: answers from ``statuses`` in turn (then 200), and signals each request."""

    def __init__(self, *statuses: int):
        self.statuses = list(statuses)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.seen = threading.Semaphore(0)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.headers["X-Auth-Token"], json.loads(request.content)))
        status = self.statuses.pop(0) if self.statuses else 200
        self.seen.release()
        body = {"events": json.loads(request.content)["events"]} if status == 200 else {"itemNotFound": {}}
        return httpx.Response(status, json=body)

    def wait(self, n: int) -> None:
        for _ in range(n):
            assert self.seen.acquire(timeout=10), "the notifier did not send in time"


def notifier(compute: Compute, tokens: list[str] | None = None) -> ComputeNotifier:
    issued = iter(tokens or ["t"] * 10)
    current = {"token": next(issued)}

    def invalidate() -> None:
        current["token"] = next(issued)

    transport = httpx.MockTransport(compute)
    return ComputeNotifier(
        lambda: ComputeClient(
            "http://compute.test", lambda: current["token"], invalidate=invalidate, transport=transport
        ),
        backoff=0.01,
    )


def test_sends_the_event_off_the_callers_thread() -> None:
    compute = Compute()
    sender = notifier(compute)
    try:
        sender("network.port.up", "p1", PAYLOAD)
        sender("network.port.up", "router", {**PAYLOAD, "device_owner": "network:router_interface"})
        compute.wait(1)
    finally:
        sender.close()
    events = [e for _, body in compute.requests for e in body["events"]]
    assert events == [{"name": "network-vif-plugged", "server_uuid": SERVER, "tag": "p1", "status": "completed"}]


def test_retries_server_errors_and_refreshes_the_token_on_401() -> None:
    compute = Compute(503, 401)
    sender = notifier(compute, tokens=["old", "new"])
    try:
        sender("network.port.up", "p1", PAYLOAD)
        compute.wait(3)  # 503, then 401 and the immediate retry with a fresh token
    finally:
        sender.close()
    assert [t for t, _ in compute.requests] == ["old", "old", "new"]


def test_unknown_servers_are_not_retried_and_failures_never_raise() -> None:
    compute = Compute(404)
    sender = notifier(compute)
    try:
        sender("network.port.up", "p1", PAYLOAD)
        compute.wait(1)
        sender("network.port.up", "p2", PAYLOAD)
        compute.wait(1)
    finally:
        sender.close()
    assert [body["events"][0]["tag"] for _, body in compute.requests] == ["p1", "p2"]

    def broken() -> ComputeClient:
        raise RuntimeError("boom")

    exploding = ComputeNotifier(broken, attempts=2, backoff=0.01)
    exploding("network.port.up", "p1", PAYLOAD)  # logged and dropped on the worker, never raised here
    exploding.close()


def test_from_config_needs_compute_url_and_a_service_password() -> None:
    assert ComputeNotifier.from_config(Config({}, env={}), "http://compute.test") is None
    with_password = Config({"service_auth": {"password": "pw"}}, env={})
    assert ComputeNotifier.from_config(with_password, None) is None
    made = ComputeNotifier.from_config(with_password, "http://compute.test")
    assert made is not None
    made.close()
