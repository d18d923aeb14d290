"""The OVN back end: each call is one NB transaction of idempotent, diffing edits (see ``writer``)."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from stratus.network.backends.base import BackendUnavailable, Capabilities, NetworkBackend, PortStatusCallback
from stratus.network.backends.ovn import chassis as chassis_rows
from stratus.network.backends.ovn import groups, names, routers, switches
from stratus.network.backends.ovn.connection import OvsdbClients, port_status_from_nb
from stratus.network.backends.ovn.writer import Apply, Writer
from stratus.network.messages import (
    ChassisReport,
    DesiredState,
    NetworkSpec,
    PortSpec,
    RouterSpec,
    SecurityGroupSpec,
    SubnetSpec,
    SyncReport,
)

LOG = logging.getLogger(__name__)
GW_OPTION = "enable-chassis-as-gw"
SYNC_BATCH = 200
"""Ports per resync transaction."""


class OvnBackend(NetworkBackend):
    def __init__(
        self,
        nb_connection: str,
        sb_connection: str | None = None,
        timeout: float = 10.0,
        gateway_chassis: tuple[str, ...] = (),
        distributed_floating_ips: bool = False,
        **_options: Any,
    ):
        self.clients = OvsdbClients(nb_connection, sb_connection, timeout)
        self.gateway_chassis = tuple(gateway_chassis)
        self.distributed = distributed_floating_ips
        self.capabilities = Capabilities(distributed_floating_ips=distributed_floating_ips)
        self._lock = threading.Lock()

    # connection

    def start(self, on_port_status: PortStatusCallback) -> None:
        self.clients.start(on_port_status)

    def close(self) -> None:
        self.clients.close()

    def is_connected(self) -> bool:
        return self.clients.nb_ready()

    def epoch(self) -> object:
        return self.clients.epoch()

    def _run(self, *fns: Any, thorough: bool = False, sb: bool = False) -> Writer:
        """One transaction on the NB (or, with ``sb``, on the SB) running ``fns`` against one Writer."""
        if not sb and not self.clients.nb_ready():
            raise BackendUnavailable(f"OVN NB {self.clients.nb_remote} is not connected")
        api = self._sb() if sb else self.clients.nb
        try:
            with self._lock, api.transaction(check_error=True) as txn:
                cmd = txn.add(Apply(api, fns, thorough))
        except Exception as exc:  # timeouts, lost connection, refused edits: resync retries
            text = str(exc)  # ovsdbapp puts every command of the transaction in the message: keep it short
            raise BackendUnavailable(
                f"OVN {'SB' if sb else 'NB'} transaction failed: {type(exc).__name__}: {text[:300]}"
            ) from exc
        return cmd.result  # type: ignore[no-any-return]

    def chassis(self) -> tuple[str, ...]:
        """Gateway chassis by priority: config, else SB chassis with enable-chassis-as-gw, else the first one."""
        if self.gateway_chassis:
            return self.gateway_chassis
        sb = self.clients.sb
        if sb is None:
            return ()
        rows = sorted(sb.tables["Chassis"].rows.values(), key=lambda c: c.name)
        gw = [
            c.name
            for c in rows
            if GW_OPTION in c.other_config.get("ovn-cms-options", "")
            or GW_OPTION in c.external_ids.get("ovn-cms-options", "")
        ]
        return tuple(gw) if gw else tuple(c.name for c in rows[:1])

    # objects

    def ensure_network(self, spec: NetworkSpec) -> None:
        self._run(functools.partial(switches.ensure_network, spec=spec))

    def delete_network(self, network_id: str) -> None:
        self._run(functools.partial(switches.delete_network, network_id=network_id))

    def ensure_subnet(self, spec: SubnetSpec) -> None:
        self._run(functools.partial(switches.ensure_subnet, spec=spec))

    def delete_subnet(self, subnet_id: str) -> None:
        self._run(functools.partial(switches.delete_subnet, subnet_id=subnet_id))

    def ensure_port(self, spec: PortSpec) -> None:
        self._run(functools.partial(switches.ensure_port, spec=spec))

    def delete_port(self, port_id: str) -> None:
        self._run(functools.partial(switches.delete_port, port_id=port_id))

    def ensure_security_group(self, spec: SecurityGroupSpec) -> None:
        self._run(functools.partial(groups.ensure_security_group, spec=spec))

    def delete_security_group(self, security_group_id: str) -> None:
        self._run(functools.partial(groups.delete_security_group, sg_id=security_group_id))

    def ensure_router(self, spec: RouterSpec) -> None:
        chassis = self.chassis()
        self._run(functools.partial(routers.ensure_router, spec=spec, chassis=chassis, distributed=self.distributed))

    def delete_router(self, router_id: str) -> None:
        self._run(functools.partial(routers.delete_router, router_id=router_id))

    def port_up(self, port_id: str) -> bool | None:
        nb = self.clients.nb
        if nb is None:
            return None
        # by the name index, under the IDL's lock: the status path calls this from other threads than the IDL's
        row = nb.lookup("Logical_Switch_Port", port_id, default=None)
        return None if row is None else port_status_from_nb(row).up

    # chassis (the API's agents)

    def _sb(self) -> Any:
        sb = self.clients.sb_api()
        if sb is None:
            raise BackendUnavailable(f"OVN SB {self.clients.sb_remote or '(not configured)'} is not connected")
        return sb

    def list_chassis(self) -> ChassisReport:
        sb = self._sb()
        if not self.clients.nb_ready():
            raise BackendUnavailable(f"OVN NB {self.clients.nb_remote} is not connected")
        for _attempt in range(5):
            try:
                return chassis_rows.report(self.clients.nb, sb)
            except RuntimeError:  # the IDL thread changed a table while this thread copied it
                continue
        raise BackendUnavailable("OVN SB chassis kept changing while being read")

    def ping_chassis(self) -> None:
        self._run(chassis_rows.ping)

    def set_chassis_description(self, name: str, description: str) -> bool:
        found: list[bool] = []
        self._run(functools.partial(chassis_rows.set_description, name=name, description=description, found=found),
                  sb=True)  # fmt: skip
        return bool(found and found[0])

    def delete_chassis(self, name: str) -> bool:
        found: list[bool] = []
        self._run(functools.partial(chassis_rows.delete, name=name, found=found), sb=True)
        return bool(found and found[0])

    # resync

    def sync(self, desired: DesiredState) -> SyncReport:
        """Several bounded transactions (API writes interleave): base objects, ports in batches, routers, deletes."""
        chassis = self.chassis()
        base: list[Any] = [functools.partial(switches.ensure_network, spec=n) for n in desired.networks]
        base += [functools.partial(switches.ensure_subnet, spec=s) for s in desired.subnets]
        base += [functools.partial(groups.ensure_security_group, spec=g) for g in desired.security_groups]
        base.append(switches.ensure_drop_group)
        ports = [functools.partial(switches.ensure_port, spec=p) for p in desired.ports]
        batches = [base, *(ports[i : i + SYNC_BATCH] for i in range(0, len(ports), SYNC_BATCH))]
        batches.append(
            [
                functools.partial(routers.ensure_router, spec=r, chassis=chassis, distributed=self.distributed)
                for r in desired.routers
            ]
        )
        batches.append([functools.partial(_delete_stale, desired=desired)])
        created = updated = deleted = 0
        for batch in batches:
            if batch:
                c, u, d = self._run(*batch, thorough=True).counts()
                created, updated, deleted = created + c, updated + u, deleted + d
        wanted = {p.id for p in desired.ports}
        port_up = {}
        for row in self.clients.nb.tables["Logical_Switch_Port"].rows.values():
            if row.name in wanted:
                port_up[row.name] = port_status_from_nb(row).up
        return SyncReport(created, updated, deleted, port_up)


def _delete_stale(w: Writer, desired: DesiredState) -> None:
    """Remove NB rows that carry neutron external_ids but that the database no longer has."""
    nets = {n.id for n in desired.networks}
    ports = {p.id for p in desired.ports}
    for ls in w.rows("Logical_Switch"):
        if names.NETWORK_NAME not in ls.external_ids or not ls.name.startswith("neutron-"):
            continue
        net_id = names.strip("neutron-", ls.name)
        if net_id not in nets:
            switches.delete_network(w, net_id)
            continue
        for lsp in list(ls.ports):
            if lsp.name not in ports and lsp.name != names.localnet(net_id):
                switches.delete_port(w, lsp.name)
    subnets = {s.id for s in desired.subnets if s.dhcp_options}
    for row in w.rows("DHCP_Options"):
        sid = row.external_ids.get(names.DHCP_SUBNET_ID)
        if sid is not None and (sid not in subnets or "port_id" in row.external_ids):
            w.delete(row)
    sgs = {g.id for g in desired.security_groups}
    for pg in w.rows("Port_Group"):
        sg_id = pg.external_ids.get(names.SECURITY_GROUP_ID)
        if sg_id is not None and sg_id not in sgs:
            groups.delete_security_group(w, sg_id)
    routers_ = {r.id for r in desired.routers}
    for lr in w.rows("Logical_Router"):
        if names.ROUTER_NAME in lr.external_ids and lr.name.startswith("neutron-"):
            router_id = names.strip("neutron-", lr.name)
            if router_id not in routers_:
                routers.delete_router(w, router_id)
