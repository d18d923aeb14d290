"""Network's configuration section ``[network]``."""

from __future__ import annotations

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
    dhcp_lease_time: int = Field(43200, ge=60, description="DHCP lease in seconds (OVN native DHCP).")
    dns_servers: list[str] = Field(default_factory=list, description="DNS servers handed out when a subnet has none.")
    ovs_datapath_type: str = Field("system", description="datapath_type shown in binding:vif_details (netdev on CI).")
    mac_prefix: str = Field("fa:16:3e", description="The first three octets of generated MAC addresses.")
    quotas: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_QUOTAS), description="Default quotas.")
    limit_max: int = Field(1000, ge=1, description="Largest page size a list request may ask for.")


def load(config: Config) -> NetworkConfig:
    return config.section("network", NetworkConfig)


def nb_connection(config: Config, network: NetworkConfig) -> str:
    return network.ovn_nb_connection or f"unix:{config.core.state_dir}/ovn/nb.sock"
