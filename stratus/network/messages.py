"""What the service layer hands the data plane back end: plain, frozen dataclasses (no ORM rows).

Each spec is the *whole* desired state of one object, built from the database after commit, so
applying it twice changes nothing (every back-end call is idempotent and reconciling).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NetworkSpec:
    id: str
    name: str
    project_id: str
    mtu: int
    network_type: str = "geneve"
    physical_network: str | None = None
    segmentation_id: int | None = None
    external: bool = False
    revision: int = 0


@dataclass(frozen=True)
class SubnetSpec:
    """A subnet; ``dhcp`` is None unless OVN should answer DHCP on it (IPv4, enable_dhcp)."""

    id: str
    network_id: str
    cidr: str
    ip_version: int
    gateway_ip: str | None
    enable_dhcp: bool
    dhcp_options: dict[str, str] = field(default_factory=dict)
    revision: int = 0


@dataclass(frozen=True)
class FixedIp:
    subnet_id: str
    ip_address: str


@dataclass(frozen=True)
class PortSpec:
    """A logical switch port. ``kind`` is "" (VM), "localport" (metadata) or "router" (router side)."""

    id: str
    network_id: str
    name: str
    project_id: str
    mac_address: str
    fixed_ips: tuple[FixedIp, ...]
    device_id: str = ""
    device_owner: str = ""
    host_id: str = ""
    admin_state_up: bool = True
    port_security: bool = True
    security_group_ids: tuple[str, ...] = ()
    allowed_address_pairs: tuple[tuple[str, str], ...] = ()
    """(ip_address or CIDR, mac_address)."""
    kind: str = ""
    router_port: str | None = None
    """For ``kind == "router"``: the logical router port this switch port patches to."""
    dhcp_subnet_ids: tuple[str, ...] = ()
    revision: int = 0


@dataclass(frozen=True)
class RuleSpec:
    id: str
    direction: str
    ethertype: str
    protocol: str | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = None
    remote_group_id: str | None = None


@dataclass(frozen=True)
class SecurityGroupSpec:
    id: str
    name: str
    project_id: str
    rules: tuple[RuleSpec, ...] = ()
    revision: int = 0


@dataclass(frozen=True)
class RouterInterface:
    port_id: str
    network_id: str
    mac_address: str
    networks: tuple[str, ...]
    """Addresses with prefix length, e.g. ("10.0.0.1/24",)."""
    subnet_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FloatingIpNat:
    id: str
    floating_ip_address: str
    fixed_ip_address: str
    fixed_port_id: str
    floating_port_mac: str
    floating_network_id: str


@dataclass(frozen=True)
class RouterSpec:
    """A logical router with its gateway, interfaces, extra routes, SNAT and floating IPs."""

    id: str
    name: str
    project_id: str
    admin_state_up: bool = True
    gateway: RouterInterface | None = None
    gateway_next_hop: str | None = None
    enable_snat: bool = True
    interfaces: tuple[RouterInterface, ...] = ()
    routes: tuple[tuple[str, str], ...] = ()
    """(destination CIDR, nexthop)."""
    snat_cidrs: tuple[str, ...] = ()
    floating_ips: tuple[FloatingIpNat, ...] = ()
    revision: int = 0


@dataclass(frozen=True)
class DesiredState:
    """Everything the data plane should hold; the resync pass makes the back end match it exactly."""

    networks: tuple[NetworkSpec, ...] = ()
    subnets: tuple[SubnetSpec, ...] = ()
    security_groups: tuple[SecurityGroupSpec, ...] = ()
    ports: tuple[PortSpec, ...] = ()
    routers: tuple[RouterSpec, ...] = ()


@dataclass(frozen=True)
class SyncReport:
    """What a resync pass changed: counts of rows created, updated and deleted."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    port_up: dict[str, bool] = field(default_factory=dict)
    """The back end's view of which ports are up (id -> up), to correct port status in the DB."""


@dataclass(frozen=True)
class PortStatusEvent:
    port_id: str
    up: bool


@dataclass(frozen=True)
class ChassisState:
    """One host as the data plane knows it (an OVN SB ``Chassis`` with its ``Chassis_Private``).

    ``nb_cfg`` is the last configuration sequence number the chassis acknowledged and
    ``nb_cfg_timestamp`` when it did (seconds since the epoch, None if never): liveness is judged from
    them against :attr:`ChassisReport.nb_cfg`, as ML2/OVN does.
    """

    name: str
    hostname: str
    gateway: bool = False
    bridge_mappings: str = ""
    availability_zones: tuple[str, ...] = ()
    description: str = ""
    nb_cfg: int = 0
    nb_cfg_timestamp: float | None = None


@dataclass(frozen=True)
class ChassisReport:
    """Every chassis, and the sequence number of the last liveness ping (OVN: ``NB_Global.nb_cfg``)."""

    chassis: tuple[ChassisState, ...] = ()
    nb_cfg: int = 0
