"""The chassis half of the NetworkBackend contract (the API's agents), on the fake and on real OVN.

On OVN, the test plays ovn-controller with ``ovn-sbctl``: it registers a chassis (``Chassis`` with its
encap, ``Chassis_Private``) and acknowledges pings the way ovn-controller does (``Chassis_Private.nb_cfg``
and ``nb_cfg_timestamp``); the back end reads the SB and pings through ``NB_Global.nb_cfg``.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratus.network.backends.base import BackendUnavailable, NetworkBackend, load_backend
from stratus.network.backends.fake import FakeBackend
from stratus.network.messages import ChassisState
from tests.functional.network.ovn_server import NbServer, needs_ovn, wait_for

SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")


class SbServer(NbServer):
    """A throwaway OVN Southbound ovsdb-server; ``sbctl(...)`` runs ovn-sbctl against it."""

    def create_db(self) -> None:
        self.db.unlink(missing_ok=True)
        subprocess.run(["ovsdb-tool", "create", str(self.db), str(SB_SCHEMA)], check=True, capture_output=True)

    def _answers(self) -> bool:
        return (
            subprocess.run(["ovn-sbctl", f"--db={self.remote}", "--timeout=2", "show"], capture_output=True).returncode
            == 0
        )

    def sbctl(self, *args: str) -> str:
        out = subprocess.run(["ovn-sbctl", f"--db={self.remote}", "--timeout=5", *args], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"ovn-sbctl {' '.join(args)}: {out.stderr}")
        return out.stdout.strip()


class Controller:
    """What ovn-controller does for one chassis: register it, acknowledge pings (fake: the fake's own calls)."""

    def __init__(self, backend: NetworkBackend, sb: SbServer | None):
        self.backend, self.sb = backend, sb
        self.names: list[str] = []

    def register(self, name: str, hostname: str, *, gateway: bool, zones: str = "") -> None:
        if self.sb is None:
            assert isinstance(self.backend, FakeBackend)
            self.backend.add_chassis(name, hostname, gateway=gateway, availability_zones=tuple(zones.split(":")))
            return
        options = ",".join(
            o for o in ("enable-chassis-as-gw" if gateway else "", f"availability-zones={zones}" if zones else "") if o
        )
        self.sb.sbctl("chassis-add", name, "geneve", f"127.0.0.{len(self.names) + 1}")
        self.names.append(name)
        self.sb.sbctl(
            "set", "Chassis", name, f"hostname={hostname}", "other_config:ovn-bridge-mappings=public:br-ex",
            *([f'other_config:ovn-cms-options="{options}"'] if options else []),
        )  # fmt: skip
        uuid = self.sb.sbctl("--bare", "--columns=_uuid", "find", "Chassis", f"name={name}")
        self.sb.sbctl("create", "Chassis_Private", f"name={name}", f"chassis={uuid}")

    def acknowledge(self, name: str, nb_cfg: int) -> None:
        """ovn-controller applied configuration ``nb_cfg`` (ovn-northd relays NB_Global.nb_cfg to it)."""
        if self.sb is not None:
            stamp = int(time.time() * 1000)
            self.sb.sbctl("set", "Chassis_Private", name, f"nb_cfg={nb_cfg}", f"nb_cfg_timestamp={stamp}")


@pytest.fixture(params=["fake", pytest.param("ovn", marks=needs_ovn)])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[NetworkBackend, Controller]]:
    servers: list[NbServer] = []
    try:
        if request.param == "ovn":
            nb, sb = NbServer(), SbServer()
            servers += [nb, sb]
            nb.start()
            sb.start()
            impl = load_backend("ovn", nb_connection=nb.remote, sb_connection=sb.remote, timeout=5)
        else:
            sb = None
            impl = load_backend("fake")
        impl.start(lambda _event: None)
        try:
            wait_for(impl.is_connected, 10, "the back end to connect")
            yield impl, Controller(impl, sb)
        finally:
            impl.close()
    finally:
        for server in servers:
            server.cleanup()


def chassis(impl: NetworkBackend, name: str) -> ChassisState | None:
    return next((c for c in impl.list_chassis().chassis if c.name == name), None)


def eventually(check: Any, what: str) -> None:
    """The SB IDL sees a change made by another client a moment later."""
    wait_for(check, 10, what)


def test_a_registered_chassis_is_listed(backend: tuple[NetworkBackend, Controller]) -> None:
    impl, controller = backend
    assert chassis(impl, "ch-1") is None
    controller.register("ch-1", "host-1", gateway=True, zones="az1")
    controller.register("ch-2", "host-2", gateway=False)
    eventually(lambda: chassis(impl, "ch-2") is not None, "the chassis to be listed")
    one = chassis(impl, "ch-1")
    assert one is not None
    assert (one.hostname, one.gateway, one.availability_zones) == ("host-1", True, ("az1",))
    assert one.bridge_mappings == "public:br-ex" and one.description == ""
    two = chassis(impl, "ch-2")
    assert two is not None and (two.hostname, two.gateway) == ("host-2", False)


def test_pings_are_acknowledged(backend: tuple[NetworkBackend, Controller]) -> None:
    impl, controller = backend
    controller.register("ch-1", "host-1", gateway=False)
    eventually(lambda: chassis(impl, "ch-1") is not None, "the chassis to be listed")
    before = impl.list_chassis().nb_cfg
    impl.ping_chassis()
    eventually(lambda: impl.list_chassis().nb_cfg == before + 1, "the ping to be counted")
    controller.acknowledge("ch-1", before + 1)

    def acknowledged() -> bool:
        state = chassis(impl, "ch-1")
        return state is not None and state.nb_cfg == before + 1 and state.nb_cfg_timestamp is not None

    eventually(acknowledged, "the chassis to acknowledge the ping")
    state = chassis(impl, "ch-1")
    assert state is not None and state.nb_cfg_timestamp is not None
    assert abs(state.nb_cfg_timestamp - time.time()) < 60


def test_description_and_delete(backend: tuple[NetworkBackend, Controller]) -> None:
    impl, controller = backend
    controller.register("ch-1", "host-1", gateway=False)
    eventually(lambda: chassis(impl, "ch-1") is not None, "the chassis to be listed")
    assert impl.set_chassis_description("ch-1", "rack 4") is True
    assert impl.set_chassis_description("ch-1", "rack 4") is True  # idempotent
    eventually(lambda: getattr(chassis(impl, "ch-1"), "description", None) == "rack 4", "the description")
    assert impl.set_chassis_description("nope", "x") is False
    assert impl.delete_chassis("ch-1") is True
    eventually(lambda: chassis(impl, "ch-1") is None, "the chassis to be gone")
    assert impl.delete_chassis("ch-1") is False


@needs_ovn
def test_ovn_southbound_down_at_start_is_joined_later() -> None:
    """The chassis are unavailable (BackendUnavailable: the API's 503) until the SB answers, then listed."""
    nb, sb = NbServer(), SbServer()
    impl = load_backend("ovn", nb_connection=nb.remote, sb_connection=sb.remote, timeout=5)
    try:
        nb.start()
        impl.start(lambda _event: None)
        wait_for(impl.is_connected, 10, "the NB connection")
        with pytest.raises(BackendUnavailable):
            impl.list_chassis()
        sb.start()
        Controller(impl, sb).register("ch-1", "host-1", gateway=False)
        wait_for(lambda: _listed(impl, "ch-1"), 15, "the SB connection and the chassis")
    finally:
        impl.close()
        nb.cleanup()
        sb.cleanup()


def _listed(impl: NetworkBackend, name: str) -> bool:
    try:
        return chassis(impl, name) is not None
    except BackendUnavailable:
        return False
