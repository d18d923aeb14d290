"""Commit, then act: pushes committed state to the back end, repairs drift, reports port status.

Each ``network()`` / ``port()`` / ... call re-reads the object from the database *after* the API's
transaction committed and hands its whole desired state to the back end, so a late or repeated call
converges instead of undoing a newer change. A back-end failure never fails the API call: the database
is the truth, the failure is logged and wakes the resync loop, which retries until the data plane
matches the database again (and deletes data plane rows the database no longer has).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from stratus.network import models
from stratus.network.backends.base import NetworkBackend
from stratus.network.conf import NetworkConfig
from stratus.network.core import specs
from stratus.network.core.base import WriteSerializer
from stratus.network.messages import PortStatusEvent

LOG = logging.getLogger(__name__)
RETRY_DELAY = 2.0
"""Seconds between resync attempts while the data plane is unreachable."""
EPOCH_POLL = 0.5
"""Seconds between two looks at whether the back end reconnected (a wiped NB DB is repaired at once)."""
PORT_UP_EVENT = "network.port.up"
PORT_DOWN_EVENT = "network.port.down"


class DataPlane:
    def __init__(self, db: WriteSerializer, conf: NetworkConfig, backend: NetworkBackend, bus: Any = None):
        self.db = db
        self.conf = conf
        self.backend = backend
        self.bus = bus
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._known_groups: set[str] = set()
        self._status_lock = threading.Lock()
        """Serialises port status writes (the back end's watcher thread and the resync loop): see on_port_status."""
        self._failing = False
        self.last_sync: float | None = None
        self.last_report: Any = None
        self.status_listeners: list[Callable[[str, str, dict[str, Any]], None]] = []
        self._next_ping = 0.0

    # pushing one object

    def _act(self, what: str, fn: Callable[..., None], *args: Any) -> bool:
        if not self.backend.is_connected():
            LOG.info("data plane unreachable; %s deferred to resync", what)
            self._wake.set()
            return False
        try:
            fn(*args)
            return True
        except Exception as exc:  # any back-end failure: the DB is committed, resync repairs
            LOG.warning("data plane update failed (%s), resync will repair: %s", what, exc)
            self._wake.set()
            return False

    def network(self, network_id: str) -> None:
        with self.db.reader() as session:
            net = session.get(models.Network, network_id)
            spec = specs.network(net) if net else None
        if spec is None:
            self._act(f"delete network {network_id}", self.backend.delete_network, network_id)
        else:
            self._act(f"network {network_id}", self.backend.ensure_network, spec)

    def subnet(self, subnet_id: str) -> None:
        with self.db.reader() as session:
            sub = session.get(models.Subnet, subnet_id)
            net = session.get(models.Network, sub.network_id) if sub else None
            spec = None
            if sub is not None and net is not None:
                md = specs.metadata_ips(session, net.id).get(sub.id)
                spec = specs.subnet(self.conf, sub, net, md)
        if spec is None:
            self._act(f"delete subnet {subnet_id}", self.backend.delete_subnet, subnet_id)
            return
        if self._act(f"subnet {subnet_id}", self.backend.ensure_subnet, spec):
            for port_id in self._ports_on_subnet(subnet_id):  # their DHCP options reference follows the subnet
                self.port(port_id)

    def _ports_on_subnet(self, subnet_id: str) -> list[str]:
        with self.db.reader() as session:
            query = (
                sa.select(models.IPAllocation.port_id)
                .join(models.Port, models.Port.id == models.IPAllocation.port_id)
                .where(models.IPAllocation.subnet_id == subnet_id, models.Port.device_owner.not_like("network:%"))
            )
            return sorted(set(session.scalars(query)))

    def network_routers(self, network_id: str) -> None:
        """Routers with a port on the network (their SNAT and routes follow its subnets)."""
        with self.db.reader() as session:
            query = sa.select(models.Port.device_id).where(
                models.Port.network_id == network_id,
                models.Port.device_owner.in_(("network:router_interface", "network:router_gateway")),
            )
            routers = set(session.scalars(query))
        for router_id in routers:
            self.router(router_id)

    def port(self, port_id: str) -> None:
        with self.db.reader() as session:
            row = session.get(models.Port, port_id)
            spec = specs.port(row, specs.dhcp_subnet_ids(session, row.network_id)) if row else None
            missing = [g for g in (spec.security_group_ids if spec else ()) if g not in self._known_groups]
        for sg_id in missing:
            self.security_group(sg_id)
        if row is None:
            self.port_deleted(port_id)
        elif spec is not None:
            self._act(f"port {port_id}", self.backend.ensure_port, spec)

    def port_deleted(self, port_id: str) -> None:
        self._act(f"delete port {port_id}", self.backend.delete_port, port_id)

    def security_group(self, sg_id: str) -> None:
        with self.db.reader() as session:
            sg = session.get(models.SecurityGroup, sg_id)
            spec = specs.security_group(sg) if sg else None
        if spec is None:
            self._known_groups.discard(sg_id)
            self._act(f"delete security group {sg_id}", self.backend.delete_security_group, sg_id)
        elif self._act(f"security group {sg_id}", self.backend.ensure_security_group, spec):
            self._known_groups.add(sg_id)

    def router(self, router_id: str, *, with_ports: bool = False) -> None:
        with self.db.reader() as session:
            row = session.get(models.Router, router_id)
            spec = specs.router(session, row) if row else None
            gw = row.gw_port_id if row else None
        if with_ports and gw:
            self.port(gw)
        if spec is None:
            self._act(f"delete router {router_id}", self.backend.delete_router, router_id)
        else:
            self._act(f"router {router_id}", self.backend.ensure_router, spec)

    # resync

    def resync(self) -> bool:
        """One repair pass: make the data plane match the database. False if the data plane was unreachable."""
        with self.db.reader() as session:
            desired = specs.desired_state(session, self.conf)
            statuses = dict(session.execute(sa.select(models.Port.id, models.Port.status)).all())
        try:
            report = self.backend.sync(desired)
        except Exception as exc:  # unreachable or refused: try again soon
            level = logging.DEBUG if self._failing else logging.WARNING
            LOG.log(level, "resync failed, retrying every %ss until it works: %s", RETRY_DELAY, exc)
            self._failing = True
            return False
        if self._failing:
            LOG.info("resync works again")
        self._failing = False
        self._known_groups = {g.id for g in desired.security_groups}
        self.last_sync, self.last_report = time.monotonic(), report
        if report.created or report.updated or report.deleted:
            LOG.info(
                "resync repaired the data plane: %s created, %s updated, %s deleted",
                report.created,
                report.updated,
                report.deleted,
            )
        for port_id, up in report.port_up.items():
            if statuses.get(port_id) != ("ACTIVE" if up else "DOWN"):
                self.on_port_status(PortStatusEvent(port_id, up))
        return True

    def _loop(self) -> None:
        """Resync at once, then every resync_interval, after a failed push, and when the back end reconnects."""
        epoch: object = None
        healthy = False
        due = 0.0
        while not self._stop.is_set():
            current = self.backend.epoch()
            if time.monotonic() >= due or current != epoch or (healthy and self._wake.is_set()):
                self._wake.clear()
                epoch = current
                try:
                    healthy = self.resync()
                except Exception:  # the loop must outlive any bug in one pass
                    LOG.exception("resync pass failed")
                    healthy = False
                due = time.monotonic() + (self.conf.resync_interval if healthy else RETRY_DELAY)
            self._ping_chassis()
            self._wake.wait(min(EPOCH_POLL, max(0.0, due - time.monotonic())))

    def _ping_chassis(self) -> None:
        """Every half agent_down_time, ask the chassis to acknowledge a ping (their agents' liveness)."""
        if time.monotonic() < self._next_ping or not self.backend.is_connected():
            return
        self._next_ping = time.monotonic() + self.conf.agent_down_time / 2
        try:
            self.backend.ping_chassis()
        except Exception as exc:  # liveness only: agents show down until a later ping gets through
            LOG.info("chassis liveness ping failed: %s", exc)
            self._next_ping = time.monotonic() + RETRY_DELAY

    def start(self) -> None:
        self.backend.start(self.on_port_status)
        self._thread = threading.Thread(target=self._loop, name="network-resync", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.backend.close()

    # port status

    def set_port_status(self, port_id: str, status: str) -> bool:
        """Record a port's status; on a change publish ``network.port.up`` / ``network.port.down``."""
        with self.db.session() as session:
            row = session.get(models.Port, port_id)
            if row is None:
                return False
            changed = row.status != status
            row.status = status
            payload = {
                "port_id": port_id,
                "device_id": row.device_id,
                "device_owner": row.device_owner,
                "host": row.binding_host_id,
                "network_id": row.network_id,
                "status": status,
            }
        if changed and status in ("ACTIVE", "DOWN"):
            event = PORT_UP_EVENT if status == "ACTIVE" else PORT_DOWN_EVENT
            if self.bus is not None:
                try:
                    self.bus.notify(event, payload, publisher="network")
                except Exception:  # a bus outage must not lose the DB status
                    LOG.exception("could not publish %s for port %s", event, port_id)
            for listener in list(self.status_listeners):
                listener(event, port_id, payload)
        return changed

    def on_port_status(self, event: PortStatusEvent) -> None:
        """Record what the back end says *now* about the port, under a lock: a resync's report is a snapshot
        that a port-up event can overtake (after an NB wipe ovn-controller binds the new rows within tens of
        ms), and writing the stale value last would leave the port DOWN until the next pass."""
        try:
            with self._status_lock:
                current = self.backend.port_up(event.port_id)
                up = event.up if current is None else current
                self.set_port_status(event.port_id, "ACTIVE" if up else "DOWN")
        except Exception:  # called from the back end's thread: never let it die
            LOG.exception("could not record status of port %s", event.port_id)
