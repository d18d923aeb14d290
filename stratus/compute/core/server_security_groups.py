"""The ``addSecurityGroup`` / ``removeSecurityGroup`` server actions: a group on (or off) every port of a server.

As Nova does with Neutron: the group is looked up by name or id in the server's project with the user's
token, each of the server's ports gets it (or loses it) through the network API, and the server's recorded
groups (what ``server show`` lists) follow. Errors as Nova's: unknown group 404, an ambiguous name 409,
a server without ports 404, a port with port security off 400, removing a group the server lacks 400.
"""

from __future__ import annotations

from typing import Any

from stratus.compute import models
from stratus.compute.core.base import Deps, get_instance
from stratus.compute.core.network_calls import network_errors
from stratus.compute.core.servers import check_lock
from stratus.compute.ports import SecurityGroupAmbiguous, SecurityGroupNotFound, find_security_group
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Conflict, NotFound
from stratus.network.client import NetworkClient


def _group_name(args: dict[str, Any], action: str) -> str:
    name = args.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest(f"Invalid input for field/attribute {action}. 'name' is a required property")
    return name.strip()


NO_PORT_SECURITY = "Network requires port_security_enabled and subnet associated in order to apply security groups."


class ServerSecurityGroups:
    def __init__(self, deps: Deps):
        self.deps = deps

    def add(self, ctx: RequestContext, server_id: str, args: dict[str, Any]) -> None:
        self._change(ctx, server_id, _group_name(args, "addSecurityGroup"), add=True)

    def remove(self, ctx: RequestContext, server_id: str, args: dict[str, Any]) -> None:
        self._change(ctx, server_id, _group_name(args, "removeSecurityGroup"), add=False)

    def _change(self, ctx: RequestContext, server_id: str, name: str, *, add: bool) -> None:
        with self.deps.db.reader() as session:
            inst = get_instance(session, ctx, server_id)
            rule = "add" if add else "remove"
            self.deps.enforcer.enforce(
                ctx, f"os_compute_api:os-security-groups:{rule}", {"project_id": inst.project_id}
            )
            check_lock(ctx, inst)
            project_id = inst.project_id
        client = self.deps.network.user_client(ctx)
        if client is None:
            raise BadRequest("This cloud has no network service: security groups cannot be changed.")
        with client, network_errors(conflict=BadRequest, not_found=BadRequest):  # as Nova maps Neutron's here
            self._apply(client, server_id, project_id, name, add=add)
        self._record(server_id, name, add=add)

    def _apply(self, client: NetworkClient, server_id: str, project_id: str, name: str, *, add: bool) -> None:
        try:
            group_id = find_security_group(name, project_id, client.list_security_groups())
        except SecurityGroupNotFound as exc:
            raise NotFound(str(exc)) from None
        except SecurityGroupAmbiguous as exc:
            raise Conflict(str(exc)) from None
        ports = client.list_ports(device_id=server_id)
        if not ports:
            raise NotFound(f"instance_id {server_id} could not be found as device id on any ports")
        changed = False
        for port in ports:
            groups = list(port.get("security_groups") or [])
            if add:
                if not port.get("port_security_enabled", True):
                    raise BadRequest(NO_PORT_SECURITY)
                if group_id in groups:
                    continue
                groups.append(group_id)
            else:
                if group_id not in groups:
                    continue
                groups.remove(group_id)
            client.request("PUT", f"/v2.0/ports/{port['id']}", json={"port": {"security_groups": groups}})
            changed = True
        if not changed and not add:
            raise BadRequest(f"Security group {name} not associated with the instance {server_id}")

    def _record(self, server_id: str, name: str, *, add: bool) -> None:
        with self.deps.db.session() as session:
            inst = session.get(models.Instance, server_id)
            if inst is None:
                return
            current = [g for g in inst.security_groups or [] if isinstance(g, dict)]
            names = [g.get("name") for g in current]
            if add and name not in names:
                current.append({"name": name})
            elif not add:
                current = [g for g in current if g.get("name") != name]
            inst.security_groups, inst.updated_at = current, utcnow()
