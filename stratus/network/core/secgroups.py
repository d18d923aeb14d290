"""Security groups and rules, with the per-project ``default`` group made on first use."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.network import models
from stratus.network.core import lookup, quotas, views
from stratus.network.core.attributes import parse
from stratus.network.core.base import Deps, authorize, new_id, owner_project, retry_on_conflict
from stratus.network.errors import bad_request, conflict

PROTOCOLS = {
    "ah": 51,
    "dccp": 33,
    "egp": 8,
    "esp": 50,
    "gre": 47,
    "hopopt": 0,
    "icmp": 1,
    "icmpv6": 58,
    "igmp": 2,
    "ipip": 4,
    "ipv6-encap": 41,
    "ipv6-frag": 44,
    "ipv6-icmp": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "ipv6-route": 43,
    "ospf": 89,
    "pgm": 113,
    "rsvp": 46,
    "sctp": 132,
    "tcp": 6,
    "udp": 17,
    "udplite": 136,
    "vrrp": 112,
    "any": -1,
}
PORT_PROTOCOLS = ("tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "132", "33", "136")
ICMP_PROTOCOLS = ("icmp", "icmpv6", "ipv6-icmp", "1", "58")


def default_rules(sg_id: str, project: str) -> list[models.SecurityGroupRule]:
    """Upstream's default group: egress anywhere and ingress from members of the group, v4 and v6."""
    rules = []
    for ethertype in ("IPv4", "IPv6"):
        rules.append(_rule_row(sg_id, project, "egress", ethertype))
        rules.append(_rule_row(sg_id, project, "ingress", ethertype, remote_group_id=sg_id))
    return rules


def _rule_row(sg_id: str, project: str, direction: str, ethertype: str, **kw: Any) -> models.SecurityGroupRule:
    return models.SecurityGroupRule(
        id=new_id(), security_group_id=sg_id, project_id=project, direction=direction, ethertype=ethertype, **kw
    )


def ensure_default_group(session: Session, deps: Deps, project: str) -> str:
    """The project's ``default`` group id, made now if missing (in a savepoint: a concurrent maker wins)."""
    row = session.get(models.DefaultSecurityGroup, project)
    if row is not None:
        return row.security_group_id
    sg_id = new_id()
    try:
        with session.begin_nested():
            sg = models.SecurityGroup(
                id=sg_id, project_id=project, name="default", description="Default security group"
            )
            session.add(sg)
            session.flush()
            session.add(models.DefaultSecurityGroup(project_id=project, security_group_id=sg_id))
            session.add_all(default_rules(sg_id, project))
            session.flush()
    except exc.IntegrityError:
        row = session.get(models.DefaultSecurityGroup, project)
        if row is None:
            raise
        return row.security_group_id
    return sg_id


def _normalize_protocol(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).lower()
    if text in PROTOCOLS:
        return None if text == "any" else text
    if text.isdigit() and 0 <= int(text) <= 255:
        return text
    raise bad_request(
        "SecurityGroupRuleInvalidProtocol",
        f"Security group rule protocol {value} not supported. Only protocol values {sorted(PROTOCOLS)} "
        "and integer representations [0 to 255] are supported.",
    )


def validate_rule(attrs: dict[str, Any]) -> dict[str, Any]:
    """Neutron's checks: direction, ethertype, protocol, port ranges, remote prefix vs remote group."""
    if attrs["direction"] not in ("ingress", "egress"):
        raise bad_request(
            "InvalidInput", f"Invalid input for direction. Reason: {attrs['direction']} is not in [ingress, egress]."
        )
    ethertype = attrs.get("ethertype", "IPv4")
    if ethertype.lower() not in ("ipv4", "ipv6"):
        raise bad_request("InvalidInput", f"Invalid input for ethertype. Reason: {ethertype} is not in [IPv4, IPv6].")
    ethertype = "IPv4" if ethertype.lower() == "ipv4" else "IPv6"
    protocol = _normalize_protocol(attrs.get("protocol"))
    pmin, pmax = attrs.get("port_range_min"), attrs.get("port_range_max")
    if (pmin is not None or pmax is not None) and protocol is None:
        raise bad_request(
            "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given."
        )
    if protocol in PORT_PROTOCOLS:
        if pmin is not None and pmax is not None and pmin > pmax:
            raise bad_request(
                "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"
            )
        for value in (pmin, pmax):
            if value == 0:
                raise bad_request("SecurityGroupInvalidPortValue", f"Invalid value for port {value}")
        if pmin is not None and pmax is None:
            pmax = pmin
        if pmax is not None and pmin is None:
            raise bad_request(
                "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"
            )
    elif protocol in ICMP_PROTOCOLS:
        for name, attr, value in (("type", "port_range_min", pmin), ("code", "port_range_max", pmax)):
            if value is not None and value > 255:
                raise bad_request(
                    "SecurityGroupInvalidIcmpValue",
                    f"Invalid value for ICMP {name} ({attr}) {value}. It must be 0 to 255.",
                )
        if pmax is not None and pmin is None:
            raise bad_request(
                "SecurityGroupMissingIcmpType",
                f"ICMP code (port-range-max) {pmax} is provided but ICMP type (port-range-min) is missing.",
            )
    elif pmin is not None or pmax is not None:
        raise bad_request("SecurityGroupInvalidProtocolForPort", f"Ports cannot be specified for protocol {protocol}.")
    prefix = attrs.get("remote_ip_prefix")
    if prefix is not None and attrs.get("remote_group_id") is not None:
        raise bad_request(
            "SecurityGroupRemoteGroupAndRemoteIpPrefix",
            "Only remote_ip_prefix or remote_group_id may be provided.",
        )
    if prefix is not None:
        version = ipaddress.ip_interface(prefix).version
        if f"IPv{version}" != ethertype:
            raise bad_request(
                "SecurityGroupRuleParameterConflict",
                f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
            )
    if protocol in ("icmpv6", "ipv6-icmp", "58") and ethertype == "IPv4":
        raise bad_request(
            "SecurityGroupEthertypeConflictWithProtocol",
            f"Ethertype IPv4 is not supported by protocol {protocol}.",
        )
    return {
        "direction": attrs["direction"],
        "ethertype": ethertype,
        "protocol": protocol,
        "port_range_min": pmin,
        "port_range_max": pmax,
        "remote_ip_prefix": prefix,
        "remote_group_id": attrs.get("remote_group_id"),
        "description": attrs.get("description", ""),
    }


RULE_KEYS = (
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
)


class SecurityGroupManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _ensure_default_for(self, ctx: RequestContext) -> None:
        if not ctx.project_id:
            return
        with self.deps.db.reader() as session:
            if session.get(models.DefaultSecurityGroup, ctx.project_id) is not None:
                return
        with self.deps.db.session() as session:
            sg_id = ensure_default_group(session, self.deps, ctx.project_id)
        self.deps.dataplane.security_group(sg_id)

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        attrs = parse("security_group", body, create=True)
        project = owner_project(ctx, attrs)
        authorize(self.deps, ctx, "create_security_group", {"project_id": project})
        sg_id = new_id()
        if attrs.get("name") == "default":
            with self.deps.db.session() as session:
                if session.get(models.DefaultSecurityGroup, project) is None:
                    ensure_default_group(session, self.deps, project)
            raise conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
        with self.deps.db.session() as session:
            default_id = ensure_default_group(session, self.deps, project)
            quotas.check(session, self.deps, project, "security_group")
            sg = models.SecurityGroup(
                id=sg_id,
                project_id=project,
                name=attrs.get("name", ""),
                description=attrs.get("description", ""),
                stateful=attrs.get("stateful", True),
            )
            session.add(sg)
            session.flush()
            for ethertype in ("IPv4", "IPv6"):
                session.add(_rule_row(sg_id, project, "egress", ethertype))
            session.flush()
            session.refresh(sg)
            doc = views.security_group(sg)
        self.deps.dataplane.security_group(sg_id)
        self.deps.dataplane.security_group(default_id)
        return doc

    def show(self, ctx: RequestContext, sg_id: str) -> dict[str, Any]:
        self._ensure_default_for(ctx)
        with self.deps.db.reader() as session:
            return views.security_group(lookup.owned(session, ctx, models.SecurityGroup, "SecurityGroup", sg_id))

    def list(self, ctx: RequestContext, params: Any = ()) -> list[dict[str, Any]]:
        self._ensure_default_for(ctx)
        with self.deps.db.reader() as session:
            query = sa.select(models.SecurityGroup)
            if not ctx.is_admin:
                query = query.where(models.SecurityGroup.project_id == ctx.project_id)
            return [views.security_group(sg) for sg in session.scalars(query)]

    def update(self, ctx: RequestContext, sg_id: str, body: Any) -> dict[str, Any]:
        attrs = parse("security_group", body, create=False)
        with self.deps.db.session() as session:
            sg = lookup.owned(session, ctx, models.SecurityGroup, "SecurityGroup", sg_id)
            authorize(self.deps, ctx, "update_security_group", {"project_id": sg.project_id})
            if sg.name == "default" and attrs.get("name", "default") != "default":
                raise conflict("SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
            if attrs.get("name") == "default" and sg.name != "default":
                raise conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
            for key in ("name", "description", "stateful"):
                if key in attrs:
                    setattr(sg, key, attrs[key])
            sg.revision_number += 1
            session.flush()
            doc = views.security_group(sg)
        self.deps.dataplane.security_group(sg_id)
        return doc

    def delete(self, ctx: RequestContext, sg_id: str) -> None:
        with self.deps.db.session() as session:
            sg = lookup.owned(session, ctx, models.SecurityGroup, "SecurityGroup", sg_id)
            authorize(self.deps, ctx, "delete_security_group", {"project_id": sg.project_id})
            default = session.get(models.DefaultSecurityGroup, sg.project_id)
            if default is not None and default.security_group_id == sg_id and not ctx.is_admin:
                raise conflict(
                    "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group."
                )
            in_use = session.scalar(
                sa.select(sa.func.count())
                .select_from(models.PortSecurityGroup)
                .where(models.PortSecurityGroup.security_group_id == sg_id)
            )
            if in_use:
                raise conflict("SecurityGroupInUse", f"Security Group {sg_id} in use.")
            referencing = sa.select(models.SecurityGroupRule.security_group_id).where(
                models.SecurityGroupRule.remote_group_id == sg_id, models.SecurityGroupRule.security_group_id != sg_id
            )
            touched = set(session.scalars(referencing))
            session.delete(sg)
        self.deps.dataplane.security_group(sg_id)
        for other in touched:
            self.deps.dataplane.security_group(other)

    # rules

    def create_rule(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        attrs = parse("security_group_rule", body, create=True)
        owner_project(ctx, attrs)  # only admins may name another project
        if attrs.get("remote_address_group_id"):
            raise bad_request("InvalidInput", "Invalid input for operation: address groups are not supported.")
        values = validate_rule(attrs)
        rule_id = new_id()

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                sg = lookup.owned(session, ctx, models.SecurityGroup, "SecurityGroup", attrs["security_group_id"])
                authorize(self.deps, ctx, "create_security_group_rule", {"project_id": sg.project_id})
                remote = values["remote_group_id"]
                if remote is not None:
                    lookup.owned(session, ctx, models.SecurityGroup, "SecurityGroup", remote)
                quotas.check(session, self.deps, sg.project_id, "security_group_rule")
                for existing in sg.rules:
                    if all(getattr(existing, k) == values[k] for k in RULE_KEYS):
                        raise conflict(
                            "SecurityGroupRuleExists", f"Security group rule already exists. Rule id is {existing.id}."
                        )
                row = models.SecurityGroupRule(id=rule_id, security_group_id=sg.id, project_id=sg.project_id, **values)
                session.add(row)
                sg.revision_number += 1
                session.flush()
                session.refresh(row)
                return views.rule(row)

        doc = retry_on_conflict(write, lambda _e: None)
        self.deps.dataplane.security_group(doc["security_group_id"])
        return doc

    def show_rule(self, ctx: RequestContext, rule_id: str) -> dict[str, Any]:
        with self.deps.db.reader() as session:
            return views.rule(lookup.owned(session, ctx, models.SecurityGroupRule, "SecurityGroupRule", rule_id))

    def list_rules(self, ctx: RequestContext, params: Any = ()) -> list[dict[str, Any]]:
        self._ensure_default_for(ctx)
        with self.deps.db.reader() as session:
            query = sa.select(models.SecurityGroupRule)
            if not ctx.is_admin:
                query = query.where(models.SecurityGroupRule.project_id == ctx.project_id)
            return [views.rule(r) for r in session.scalars(query)]

    def delete_rule(self, ctx: RequestContext, rule_id: str) -> None:
        with self.deps.db.session() as session:
            row = lookup.owned(session, ctx, models.SecurityGroupRule, "SecurityGroupRule", rule_id)
            authorize(self.deps, ctx, "delete_security_group_rule", {"project_id": row.project_id})
            sg_id = row.security_group_id
            session.delete(row)
            sg = session.get(models.SecurityGroup, sg_id)
            if sg is not None:
                sg.revision_number += 1
        self.deps.dataplane.security_group(sg_id)
