"""The data plane back-end interface: what the service layer asks of OVN (or of the fake).

Every method takes the complete desired state of one object (a dataclass from ``messages``), is
idempotent (applying the same spec twice is a no-op, a delete of something absent is a no-op) and
raises :class:`BackendUnavailable` when the data plane cannot be reached; the caller has already
committed its database transaction and relies on the resync pass (:meth:`NetworkBackend.sync`) to
repair whatever a failed call left out.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from stratus.network.messages import (
    ChassisReport,
    DesiredState,
    NetworkSpec,
    PortSpec,
    PortStatusEvent,
    RouterSpec,
    SecurityGroupSpec,
    SubnetSpec,
    SyncReport,
)

PortStatusCallback = Callable[[PortStatusEvent], None]
ENTRY_POINT_GROUP = "stratus.network.backends"

BACKENDS = {
    "ovn": "stratus.network.backends.ovn.driver:OvnBackend",
    "fake": "stratus.network.backends.fake:FakeBackend",
}
"""Registered back ends (the same names as the ``stratus.network.backends`` entry points)."""


class BackendUnavailable(Exception):
    """The data plane could not be reached or refused a change; retrying (or resync) may succeed."""


@dataclass(frozen=True)
class Capabilities:
    distributed_floating_ips: bool = False
    native_dhcp: bool = True
    reports_port_status: bool = True


class NetworkBackend(abc.ABC):
    """A data plane: networks, subnets (DHCP), ports, security groups and routers."""

    capabilities = Capabilities()

    @abc.abstractmethod
    def start(self, on_port_status: PortStatusCallback) -> None:
        """Connect. Port up/down changes are reported to ``on_port_status`` from the back end's own thread.

        Does not raise when the data plane is unreachable: the back end keeps trying, and calls raise
        BackendUnavailable meanwhile."""

    @abc.abstractmethod
    def close(self) -> None:
        """Disconnect and stop the back end's threads. Idempotent."""

    @abc.abstractmethod
    def is_connected(self) -> bool:
        """True when calls can currently reach the data plane (a cheap check, no I/O)."""

    @abc.abstractmethod
    def epoch(self) -> object:
        """A value that changes whenever the back end (re)connects, possibly to a different (wiped) data plane.

        The service runs a resync pass whenever it changes."""

    @abc.abstractmethod
    def ensure_network(self, spec: NetworkSpec) -> None:
        """Create or fix the logical switch of a network (and its localnet port for flat/vlan)."""

    @abc.abstractmethod
    def delete_network(self, network_id: str) -> None:
        """Remove the network's switch with all its ports, and its DHCP options."""

    @abc.abstractmethod
    def ensure_subnet(self, spec: SubnetSpec) -> None:
        """Create or fix the subnet's DHCP options (removes them when the subnet has no DHCP)."""

    @abc.abstractmethod
    def delete_subnet(self, subnet_id: str) -> None:
        """Remove the subnet's DHCP options."""

    @abc.abstractmethod
    def ensure_port(self, spec: PortSpec) -> None:
        """Create or fix a switch port: addresses, port security, DHCP, security group membership.

        The network (``ensure_network``) must exist; raises BackendUnavailable if it does not."""

    @abc.abstractmethod
    def delete_port(self, port_id: str) -> None:
        """Remove a switch port (and its security group memberships)."""

    @abc.abstractmethod
    def ensure_security_group(self, spec: SecurityGroupSpec) -> None:
        """Create or fix a security group's port group and ACLs (one per rule)."""

    @abc.abstractmethod
    def delete_security_group(self, security_group_id: str) -> None:
        """Remove a security group's port group and ACLs."""

    @abc.abstractmethod
    def ensure_router(self, spec: RouterSpec) -> None:
        """Create or fix a router: its ports, gateway chassis, routes, SNAT and floating IP NAT rows."""

    @abc.abstractmethod
    def delete_router(self, router_id: str) -> None:
        """Remove a router with its ports and NAT rows."""

    @abc.abstractmethod
    def sync(self, desired: DesiredState) -> SyncReport:
        """Make the data plane hold exactly ``desired``: create missing, fix changed, delete the rest.

        Only objects this service owns are deleted (OVN: rows with neutron external_ids)."""

    @abc.abstractmethod
    def port_up(self, port_id: str) -> bool | None:
        """Whether the data plane reports the port up (None: unknown port)."""

    # chassis: the hosts of the data plane, shown as the API's agents

    @abc.abstractmethod
    def list_chassis(self) -> ChassisReport:
        """Every chassis with its last acknowledged ping. Raises BackendUnavailable when it cannot be read."""

    @abc.abstractmethod
    def ping_chassis(self) -> None:
        """Ask every chassis to acknowledge a new sequence number (OVN: bump ``NB_Global.nb_cfg``).

        Live chassis answer on their own; the answers show in :meth:`list_chassis`. Raises BackendUnavailable."""

    @abc.abstractmethod
    def set_chassis_description(self, name: str, description: str) -> bool:
        """Record a chassis' description (shown as its agent's). False: no such chassis. Idempotent."""

    @abc.abstractmethod
    def delete_chassis(self, name: str) -> bool:
        """Forget a chassis (OVN: its SB rows; a running ovn-controller registers again). False: no such chassis."""


def load_backend(name: str, **kwargs: object) -> NetworkBackend:
    """Instantiate the back end registered as ``name`` (entry point group ``stratus.network.backends``,
    else the built-in table above); kwargs go to its constructor."""
    registered = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    known = {**BACKENDS, **registered}
    try:
        module_name, class_name = known[name].split(":")
    except KeyError:
        raise ValueError(f"unknown network backend {name!r} (known: {', '.join(sorted(known))})") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**kwargs)  # type: ignore[no-any-return]
