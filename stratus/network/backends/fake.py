"""An in-memory data plane: keeps the last spec of every object, for tests and scale runs.

Deterministic and loud: ``fail_next`` / ``down`` inject failures (calls raise BackendUnavailable),
``set_port_up`` plays the role of ovn-controller binding a port on a chassis.
"""

from __future__ import annotations

import threading
from typing import Any

from stratus.network.backends.base import BackendUnavailable, NetworkBackend, PortStatusCallback
from stratus.network.messages import (
    DesiredState,
    NetworkSpec,
    PortSpec,
    PortStatusEvent,
    RouterSpec,
    SecurityGroupSpec,
    SubnetSpec,
    SyncReport,
)

KINDS = ("networks", "subnets", "ports", "security_groups", "routers")


class FakeBackend(NetworkBackend):
    def __init__(self, **_options: Any):
        self._lock = threading.Lock()
        self.objects: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        self.up: dict[str, bool] = {}
        self.down = False
        self.fail_next = 0
        self.calls = 0
        self._callback: PortStatusCallback | None = None

    def start(self, on_port_status: PortStatusCallback) -> None:
        self._callback = on_port_status

    def close(self) -> None:
        self._callback = None

    def is_connected(self) -> bool:
        return not self.down

    def epoch(self) -> object:
        return self.down

    def _check(self) -> None:
        with self._lock:
            self.calls += 1
            if self.down:
                raise BackendUnavailable("fake data plane is down")
            if self.fail_next > 0:
                self.fail_next -= 1
                raise BackendUnavailable("fake data plane failure (injected)")

    def _put(self, kind: str, spec: Any) -> None:
        self._check()
        with self._lock:
            self.objects[kind][spec.id] = spec

    def _drop(self, kind: str, ident: str) -> None:
        self._check()
        with self._lock:
            self.objects[kind].pop(ident, None)

    def ensure_network(self, spec: NetworkSpec) -> None:
        self._put("networks", spec)

    def delete_network(self, network_id: str) -> None:
        self._drop("networks", network_id)
        with self._lock:
            for kind in ("ports", "subnets"):
                for ident in [k for k, v in self.objects[kind].items() if v.network_id == network_id]:
                    del self.objects[kind][ident]

    def ensure_subnet(self, spec: SubnetSpec) -> None:
        self._put("subnets", spec)

    def delete_subnet(self, subnet_id: str) -> None:
        self._drop("subnets", subnet_id)

    def ensure_port(self, spec: PortSpec) -> None:
        if spec.network_id not in self.objects["networks"]:
            raise BackendUnavailable(f"network {spec.network_id} is not in the fake data plane")
        self._put("ports", spec)
        with self._lock:
            self.up.setdefault(spec.id, False)

    def delete_port(self, port_id: str) -> None:
        self._drop("ports", port_id)
        with self._lock:
            self.up.pop(port_id, None)

    def ensure_security_group(self, spec: SecurityGroupSpec) -> None:
        self._put("security_groups", spec)

    def delete_security_group(self, security_group_id: str) -> None:
        self._drop("security_groups", security_group_id)

    def ensure_router(self, spec: RouterSpec) -> None:
        self._put("routers", spec)

    def delete_router(self, router_id: str) -> None:
        self._drop("routers", router_id)

    def sync(self, desired: DesiredState) -> SyncReport:
        self._check()
        created = updated = deleted = 0
        with self._lock:
            for kind in KINDS:
                want = {spec.id: spec for spec in getattr(desired, kind)}
                have = self.objects[kind]
                for ident in [k for k in have if k not in want]:
                    del have[ident]
                    deleted += 1
                for ident, spec in want.items():
                    if ident not in have:
                        created += 1
                    elif have[ident] != spec:
                        updated += 1
                    have[ident] = spec
            for port_id in list(self.up):
                if port_id not in self.objects["ports"]:
                    del self.up[port_id]
            port_up = {pid: self.up.get(pid, False) for pid in self.objects["ports"]}
        return SyncReport(created, updated, deleted, port_up)

    def port_up(self, port_id: str) -> bool | None:
        with self._lock:
            return self.up.get(port_id, False) if port_id in self.objects["ports"] else None

    def set_port_up(self, port_id: str, up: bool = True) -> None:
        """Simulate ovn-controller binding (or unbinding) the port; reports it like the OVN watcher."""
        with self._lock:
            self.up[port_id] = up
            callback = self._callback
        if callback is not None:
            callback(PortStatusEvent(port_id, up))
