"""Network's configuration section ``[network]``."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field

from stratus.core.config import Config, Section

DEFAULT_QUOTAS = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
}


class NetworkConfig(Section):
    port: int = Field(9696, description="Port of the Networking v2.0 API.")
    backend: str = Field("ovn", description="Data plane back end: ovn (OVN Northbound DB) or fake (in memory).")
    ovn_nb_connection: str | None = Field(
        None, description="OVN NB OVSDB address (default unix:<state_dir>/ovn/nb.sock)."
    )
    ovn_sb_connection: str | None = Field(None, description="OVN SB OVSDB address, used to pick gateway chassis.")
    ovsdb_timeout: float = Field(10.0, gt=0, description="Seconds an NB transaction may take before it fails.")
    resync_interval: float = Field(30.0, gt=0, description="Seconds between two DB -> NB repair passes.")
    tenant_network_type: str = Field("geneve", description="Type of networks created without provider attributes.")
    geneve_mtu: int = Field(1442, ge=68, description="MTU of Geneve tenant networks (1500 underlay - 58 bytes).")
    physical_mtu: int = Field(1500, ge=68, description="MTU of flat and VLAN provider networks.")
    physnets: list[str] = Field(["public"], description="Physical networks flat/vlan provider networks may use.")
    gateway_chassis: list[str] = Field(
        default_factory=list,
        description="Chassis names for router gateways (default: chassis with enable-chassis-as-gw, else the first).",
    )
    distributed_floating_ips: bool = Field(
        False, description="dnat_and_snat rows carry external_mac, so FIP traffic leaves from the VM's chassis."
    )
    agent_down_time: float = Field(
        75.0,
        gt=0,
        description="Seconds since a chassis last answered a liveness ping after which its agent shows alive=false "
        "(Neutron's agent_down_time); chassis are pinged every half of it.",
    )
    dhcp_lease_time: int = Field(43200, ge=60, description="DHCP lease in seconds (OVN native DHCP).")
    dns_servers: list[str] = Field(default_factory=list, description="DNS servers handed out when a subnet has none.")
    ovs_datapath_type: str = Field("system", description="datapath_type shown in binding:vif_details (netdev on CI).")
    mac_prefix: str = Field("fa:16:3e", description="The first three octets of generated MAC addresses.")
    quotas: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_QUOTAS), description="Default quotas.")
    limit_max: int = Field(1000, ge=1, description="Largest page size a list request may ask for.")
    compute_url: str | None = Field(
        None, description="Compute API root that gets network-vif-plugged events (unset: none are sent)."
    )
    run_ovn_central: bool = Field(
        True,
        description="Start and supervise OVN central (NB/SB ovsdb-server, ovn-northd) under <state_dir>/ovn "
        "when backend is ovn and ovn_nb_connection is unset.",
    )
    ovn_central_listen: str | None = Field(
        None,
        description="Also serve OVN central's NB and SB on TCP at this address (ptcp:6641:<addr>, ptcp:6642:<addr>), "
        "so chassis on other hosts can reach the SB (controller role; default there: [core] bind_host).",
    )
    public_cidr: str | None = Field(
        None,
        description="Gateway address/prefix of the seeded external network public, e.g. 172.24.4.1/24 "
        "(default: [network_agent] external_cidr; a controller without a network agent sets this).",
    )


class NetworkAgentConfig(Section):
    """[network_agent]: the host side (OVS + ovn-controller, VIF plugging, metadata proxies)."""

    enabled: bool = Field(True, description="Run the network agent of this host in this process (backend ovn).")
    run_daemons: bool = Field(
        True, description="Start and supervise ovsdb-server, ovs-vswitchd and ovn-controller under <state_dir>/ovs."
    )
    ovn_sb_connection: str | None = Field(
        None, description="OVN SB address ovn-controller connects to (default unix:<state_dir>/ovn/sb.sock)."
    )
    datapath_type: str = Field(
        "auto", description="OVS datapath: system (kernel module), netdev (userspace) or auto (netdev without module)."
    )
    integration_bridge: str = Field("br-int", description="Bridge OVN programs and VIFs are plugged into.")
    encap_type: str = Field("geneve", description="Tunnel type between chassis.")
    encap_ip: str = Field("127.0.0.1", description="This chassis' tunnel endpoint address.")
    bridge_mappings: dict[str, str] = Field(
        default_factory=lambda: {"public": "br-ex"}, description="physnet -> OVS bridge on this host."
    )
    gateway_chassis: bool = Field(True, description="Offer this chassis for router gateways (enable-chassis-as-gw).")
    external_cidr: str | None = Field(
        "172.24.4.1/24",
        description="Address this host takes on the bridge of the first physnet, so floating IPs answer the host.",
    )
    metadata_url: str = Field("http://127.0.0.1:8775", description="Compute metadata API the proxies forward to.")
    underlay_interface: str | None = Field(
        None,
        description="Uplink of the tunnel endpoint: added to an OVS netdev bridge (underlay_bridge) that takes "
        "underlay_cidr, so the userspace datapath routes and ARPs tunnels through it (unset: no such bridge).",
    )
    underlay_cidr: str | None = Field(
        None, description="This host's underlay address with prefix (e.g. 10.250.0.11/24), moved onto underlay_bridge."
    )
    underlay_bridge: str = Field("br-phy", description="OVS bridge holding the tunnel endpoint address.")
    bridge_ports: dict[str, str] = Field(
        default_factory=dict,
        description='OVS bridge -> host interface plugged into it as its uplink (e.g. {br-ex = "eth1"}).',
    )


def agent_config(config: Config) -> NetworkAgentConfig:
    return config.section("network_agent", NetworkAgentConfig)


def encap_address(agent: NetworkAgentConfig) -> str:
    """The tunnel endpoint: ``encap_ip``, or the address of ``underlay_cidr`` when encap_ip is left at 127.0.0.1.

    ValueError when both are set and differ (tunnels would be announced on an address the host does not hold).
    """
    if not agent.underlay_cidr:
        return agent.encap_ip
    try:
        address = str(ipaddress.ip_interface(agent.underlay_cidr).ip)
    except ValueError:
        raise ValueError(f"[network_agent] underlay_cidr {agent.underlay_cidr!r} is not an address/prefix") from None
    if agent.encap_ip not in ("127.0.0.1", address):
        raise ValueError(
            f"[network_agent] encap_ip {agent.encap_ip} differs from the address of underlay_cidr {agent.underlay_cidr}"
        )
    return address


def ovs_dir(config: Config) -> Path:
    """Run/db/log directory of this host's ovsdb-server, ovs-vswitchd and ovn-controller."""
    return Path(config.core.state_dir) / "ovs"


def ovn_dir(config: Config) -> Path:
    """Run/db/log directory of OVN central (NB, SB, northd)."""
    return Path(config.core.state_dir) / "ovn"


def sb_connection(config: Config, network: NetworkConfig) -> str:
    return network.ovn_sb_connection or f"unix:{ovn_dir(config)}/sb.sock"


def load(config: Config) -> NetworkConfig:
    return config.section("network", NetworkConfig)


def nb_connection(config: Config, network: NetworkConfig) -> str:
    return network.ovn_nb_connection or f"unix:{ovn_dir(config)}/nb.sock"
