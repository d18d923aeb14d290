"""What the conductor's move tasks (resize/cold migration/evacuation and live migration) share.

``instance_spec(uuid, request_spec or None)`` builds what an agent gets, ``fault(uuid, host, message)``
records an instance fault and ``notify(uuid)`` publishes the instance's new state: the conductor's own
helpers, passed in so the move modules need nothing else of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute.messages import InstanceSpec, RequestSpec
from stratus.compute.models import Instance, Migration
from stratus.compute.ports import InstancePorts
from stratus.compute.rpcapi import ComputeAgentAPI
from stratus.compute.scheduler.manager import SchedulerManager
from stratus.core.db import Database


@dataclass(frozen=True)
class MoveDeps:
    db: Database
    scheduler: SchedulerManager
    agents: ComputeAgentAPI
    ports: InstancePorts | None
    instance_spec: Callable[[str, RequestSpec | None], InstanceSpec | None]
    fault: Callable[[str, str | None, str], None]
    notify: Callable[[str], None]


class MoveTaskBase:
    def __init__(self, deps: MoveDeps):
        self._db = deps.db
        self._scheduler = deps.scheduler
        self._agents = deps.agents
        self._ports = deps.ports
        self._instance_spec = deps.instance_spec
        self._fault = deps.fault
        self._notify = deps.notify

    def _rebind_ports(self, instance_uuid: str, host: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Bind the server's ports to ``host``; returns its ``network_info`` before and after.

        Raises PortAllocationError.
        """
        with self._db.reader() as session:
            inst = session.get(Instance, instance_uuid)
            bound = list(inst.network_info or []) if inst is not None else []
        if not bound or self._ports is None:
            return bound, bound
        info = self._ports.rebind(bound, host)
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid)
            if inst is not None:
                inst.network_info = info
        return bound, info


def migration_by_uuid(session: Session, migration_uuid: str) -> Migration:
    return session.scalars(sa.select(Migration).where(Migration.uuid == migration_uuid)).one()
