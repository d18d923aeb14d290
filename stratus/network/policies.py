"""Network's policy rules (Neutron's names) for the admin / member / reader personas.

Whether a caller *sees* a resource (own project, shared or external network) is decided in
``core/access.py``; an invisible resource is a 404. These rules decide what a caller who sees it may
do. Targets carry ``project_id`` = the owner of the resource.
"""

from __future__ import annotations

from stratus.core.policy import ADMIN, MEMBER, READER, Check, Rule, target_matches

OWN_PROJECT = target_matches("project_id", "project_id")
ANY_READER = ADMIN | MEMBER | READER
PROJECT_MEMBER = ADMIN | (MEMBER & OWN_PROJECT)


def _rules(names: str, check: Check, description: str = "") -> list[Rule]:
    return [Rule(n, check, description) for n in names.split()]


RESOURCES = "network subnet port security_group security_group_rule router floatingip"
RULES: list[Rule] = [
    *_rules(" ".join(f"get_{r}" for r in RESOURCES.split()), ANY_READER),
    *_rules(" ".join(f"{a}_{r}" for r in RESOURCES.split() for a in ("create", "update", "delete")), PROJECT_MEMBER),
    *_rules("add_router_interface remove_router_interface", PROJECT_MEMBER),
    *_rules("create_network:shared update_network:shared", ADMIN, "Sharing a network is admin-only."),
    *_rules("create_network:router:external update_network:router:external", ADMIN),
    *_rules("network:provider", ADMIN, "provider:* attributes: set and seen by admins only."),
    *_rules("port:binding", ADMIN, "binding:* attributes: set and seen by admins only."),
    *_rules("port:mac_address port:device_owner_network", ADMIN, "Choosing a MAC or a network:* owner."),
    *_rules("router:external_fixed_ips", ADMIN, "Choosing the router gateway's IP."),
    *_rules("set_port_status", ADMIN, "The internal status path used by the host side."),
    *_rules("get_agent update_agent delete_agent", ADMIN, "Agents (the chassis): admin-only, as upstream."),
    *_rules("get_quota", ADMIN | (READER & OWN_PROJECT)),
    *_rules("update_quota delete_quota list_quotas", ADMIN),
]
