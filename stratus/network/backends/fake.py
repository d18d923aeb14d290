"""An in-memory data plane: keeps the last spec of every object, for tests and scale runs.

Deterministic and loud: ``fail_next`` / ``down`` inject failures (calls raise BackendUnavailable),
``set_port_up`` plays the role of ovn-controller binding a port on a chassis. Chassis (the API's agents)
are registered with ``add_chassis`` (the service's own host is one when ``host`` is given); live ones
acknowledge every ``ping_chassis`` at once, and ``stop_chassis`` plays an ovn-controller long dead.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from stratus.network.backends.base import BackendUnavailable, NetworkBackend, PortStatusCallback
from stratus.network.messages import (
    ChassisReport,
    ChassisState,
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
    def __init__(self, host: str | None = None, **_options: Any):
        self._lock = threading.Lock()
        self.chassis: dict[str, ChassisState] = {}
        self.stopped: set[str] = set()
        self.nb_cfg = 0
        if host:
            self.add_chassis(host, gateway=True)
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

    def _check_up(self) -> None:
        """Chassis calls fail while ``down`` but neither count as calls nor consume ``fail_next``
        (the liveness ping runs on its own clock and must not steal injected failures)."""
        if self.down:
            raise BackendUnavailable("fake data plane is down")

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

    # chassis

    def add_chassis(
        self,
        name: str,
        hostname: str | None = None,
        *,
        gateway: bool = False,
        availability_zones: tuple[str, ...] = (),
        bridge_mappings: str = "public:br-ex",
    ) -> None:
        """Register a live chassis, as ovn-controller does when it first connects."""
        state = ChassisState(
            name=name,
            hostname=hostname or name,
            gateway=gateway,
            bridge_mappings=bridge_mappings,
            availability_zones=tuple(availability_zones),
            nb_cfg=self.nb_cfg,
            nb_cfg_timestamp=time.time(),
        )
        with self._lock:
            self.chassis[name] = state
            self.stopped.discard(name)

    def stop_chassis(self, name: str) -> None:
        """The chassis stops answering and its last answer is long past (its ovn-controller died long ago)."""
        with self._lock:
            self.stopped.add(name)
            self.nb_cfg += 1
            self.chassis[name] = dataclasses.replace(self.chassis[name], nb_cfg_timestamp=None)

    def list_chassis(self) -> ChassisReport:
        self._check_up()
        with self._lock:
            return ChassisReport(tuple(self.chassis.values()), self.nb_cfg)

    def ping_chassis(self) -> None:
        self._check_up()
        now = time.time()
        with self._lock:
            self.nb_cfg += 1
            for name, state in self.chassis.items():
                if name not in self.stopped:
                    self.chassis[name] = dataclasses.replace(state, nb_cfg=self.nb_cfg, nb_cfg_timestamp=now)

    def set_chassis_description(self, name: str, description: str) -> bool:
        self._check_up()
        with self._lock:
            if name not in self.chassis:
                return False
            self.chassis[name] = dataclasses.replace(self.chassis[name], description=description)
            return True

    def delete_chassis(self, name: str) -> bool:
        self._check_up()
        with self._lock:
            self.stopped.discard(name)
            return self.chassis.pop(name, None) is not None
