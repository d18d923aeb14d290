"""Security groups -> Port_Group ``pg_<id>`` with one ACL per rule (keyed by the rule id)."""

from __future__ import annotations

from stratus.network.backends.ovn import acls, names
from stratus.network.backends.ovn.switches import ensure_group_row
from stratus.network.backends.ovn.writer import Writer
from stratus.network.messages import SecurityGroupSpec


def ensure_security_group(w: Writer, spec: SecurityGroupSpec) -> None:
    pg = ensure_group_row(w, spec.id)
    w.set(pg, external_ids={names.SECURITY_GROUP_ID: spec.id, names.REVISION: str(spec.revision)})
    wanted = {r.id: acls.acl_row(r, spec.id) for r in spec.rules}
    existing = list(w.get(pg, "acls"))
    for acl in existing:
        rule_id = acl.external_ids.get(names.RULE_ID)
        if rule_id in wanted:
            w.set(acl, **wanted.pop(rule_id))
        else:
            w.remove_ref(pg, "acls", acl)
            w.delete(acl)
    for columns in wanted.values():
        w.add_ref(pg, "acls", w.insert("ACL", **columns))


def delete_security_group(w: Writer, sg_id: str) -> None:
    pg = w.named("Port_Group", names.port_group(sg_id))
    if pg is not None:
        for acl in list(pg.acls):
            w.delete(acl)
        w.delete(pg)
