"""NB row names and external_ids keys, the same as Neutron's OVN driver uses (``ovn_const``)."""

from __future__ import annotations

NETWORK_NAME = "neutron:network_name"
MTU = "neutron:mtu"
REVISION = "neutron:revision_number"
PORT_NAME = "neutron:port_name"
DEVICE_ID = "neutron:device_id"
DEVICE_OWNER = "neutron:device_owner"
CIDRS = "neutron:cidrs"
PROJECT_ID = "neutron:project_id"
SECURITY_GROUP_IDS = "neutron:security_group_ids"
HOST_ID = "neutron:host_id"
ROUTER_NAME = "neutron:router_name"
GW_PORT_ID = "neutron:gw_port_id"
SUBNET_IDS = "neutron:subnet_ids"
IS_EXT_GW = "neutron:is_ext_gw"
SECURITY_GROUP_ID = "neutron:security_group_id"
RULE_ID = "neutron:security_group_rule_id"
FIP_ID = "neutron:fip_id"
FIP_PORT_ID = "neutron:fip_port_id"
FIP_NETWORK_ID = "neutron:fip_network_id"
FIP_EXTERNAL_MAC = "neutron:fip_external_mac"
DHCP_SUBNET_ID = "subnet_id"

DROP_PORT_GROUP = "neutron_pg_drop"
ACL_PRIORITY = 1002
DROP_PRIORITY = 1001


def switch(network_id: str) -> str:
    return f"neutron-{network_id}"


def router(router_id: str) -> str:
    return f"neutron-{router_id}"


def router_port(port_id: str) -> str:
    return f"lrp-{port_id}"


def localnet(network_id: str) -> str:
    return f"provnet-{network_id}"


def port_group(sg_id: str) -> str:
    return "pg_" + sg_id.replace("-", "_")


def strip(prefix: str, name: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name
