"""Agents: each data plane chassis shown as ML2/OVN shows its ovn-controller (``/v2.0/agents``).

Liveness is ML2/OVN's: the data plane is pinged every half ``agent_down_time`` (``DataPlane``); a chassis
is alive while it has acknowledged the latest ping, or answered one less than ``agent_down_time`` ago.
Everything is admin-only. As Neutron's API layer does with a policy that hides a resource, a non-admin
list is empty (Tempest ``test_list_agents_non_admin``) and a non-admin show, update or delete is a 404.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from stratus.core.context import RequestContext
from stratus.core.exceptions import ServiceUnavailable
from stratus.network.backends.base import BackendUnavailable, NetworkBackend
from stratus.network.core import attributes
from stratus.network.core.base import Deps
from stratus.network.errors import NeutronNotFound, bad_request, not_found
from stratus.network.messages import ChassisReport, ChassisState

CONTROLLER_AGENT = "OVN Controller agent"
GATEWAY_AGENT = "OVN Controller Gateway agent"
BINARY = "ovn-controller"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""Neutron's agent timestamps: ``2017-09-12 19:39:56`` (UTC)."""


def is_alive(chassis: ChassisState, nb_cfg: int, down_time: float, now: float) -> bool:
    if chassis.nb_cfg >= nb_cfg:  # acknowledged the latest ping (or none was ever sent)
        return True
    stamp = chassis.nb_cfg_timestamp
    return stamp is not None and now - stamp < down_time


def _timestamp(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime(TIME_FORMAT)


def render(chassis: ChassisState, nb_cfg: int, down_time: float, now: float) -> dict[str, Any]:
    """The agent document (ML2/OVN's fields). OVN records no creation or start time: those are null."""
    return {
        "id": chassis.name,
        "agent_type": GATEWAY_AGENT if chassis.gateway else CONTROLLER_AGENT,
        "binary": BINARY,
        "host": chassis.hostname,
        "topic": "n/a",
        "admin_state_up": True,
        "alive": is_alive(chassis, nb_cfg, down_time, now),
        "availability_zone": ", ".join(chassis.availability_zones),
        "description": chassis.description,
        "configurations": {"chassis_name": chassis.name, "bridge-mappings": chassis.bridge_mappings},
        "created_at": None,
        "started_at": None,
        "heartbeat_timestamp": _timestamp(chassis.nb_cfg_timestamp),
    }


def _hidden() -> NeutronNotFound:
    """What Neutron answers when policy hides the resource itself."""
    err = NeutronNotFound("The resource could not be found.")
    err.type = "HTTPNotFound"  # type: ignore[attr-defined]
    return err


class AgentManager:
    def __init__(self, deps: Deps, backend: NetworkBackend):
        self.deps = deps
        self.backend = backend

    def _allowed(self, ctx: RequestContext, rule: str) -> bool:
        return self.deps.enforcer.authorize(ctx, rule, {})

    def _report(self) -> ChassisReport:
        try:
            return self.backend.list_chassis()
        except BackendUnavailable as exc:
            raise ServiceUnavailable(f"The network data plane cannot be reached: {exc}") from None

    def _rendered(self) -> list[dict[str, Any]]:
        report = self._report()
        now = time.time()
        return [render(c, report.nb_cfg, self.deps.conf.agent_down_time, now) for c in report.chassis]

    def list(self, ctx: RequestContext, _params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        if not self._allowed(ctx, "get_agent"):
            return []
        return self._rendered()

    def show(self, ctx: RequestContext, agent_id: str) -> dict[str, Any]:
        if not self._allowed(ctx, "get_agent"):
            raise _hidden()
        for agent in self._rendered():
            if agent["id"] == agent_id:
                return agent
        raise not_found("Agent", agent_id)

    def update(self, ctx: RequestContext, agent_id: str, body: Any) -> dict[str, Any]:
        """Only ``description`` changes; ``admin_state_up`` may be set to true (a chassis cannot be disabled)."""
        if not self._allowed(ctx, "update_agent"):
            raise _hidden()
        attrs = attributes.parse("agent", body, create=False)
        agent = self.show(ctx, agent_id)
        if attrs.get("admin_state_up") is False:
            raise bad_request("BadRequest", "Bad agent request: OVN agent status cannot be updated.")
        if "description" in attrs and attrs["description"] != agent["description"]:
            if not self._call(self.backend.set_chassis_description, agent_id, attrs["description"]):
                raise not_found("Agent", agent_id)
            agent = {**self.show(ctx, agent_id), "description": attrs["description"]}  # the write is committed
        return agent

    def delete(self, ctx: RequestContext, agent_id: str) -> None:
        """Removes the chassis from the data plane; a running ovn-controller registers it again."""
        if not self._allowed(ctx, "delete_agent"):
            raise _hidden()
        if not self._call(self.backend.delete_chassis, agent_id):
            raise not_found("Agent", agent_id)

    @staticmethod
    def _call(fn: Any, *args: Any) -> bool:
        try:
            return bool(fn(*args))
        except BackendUnavailable as exc:
            raise ServiceUnavailable(f"The network data plane cannot be reached: {exc}") from None
