"""Availability zones from host aggregates: a host in an aggregate with ``availability_zone`` metadata is in
that zone, whatever its agent reports; otherwise in the zone its agent reports (``[compute_agent]``).

``ComputeService.availability_zone`` holds the effective zone, so every reader (scheduler, os-services,
os-availability-zone, server create) sees one answer: the conductor's heartbeat write and each aggregate
change go through :func:`aggregate_zone`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute.models import AggregateHost, AggregateMetadata, ComputeService

AZ_KEY = "availability_zone"


def aggregate_zone(session: Session, host: str) -> str | None:
    """The zone ``host``'s aggregates give it, if any."""
    return session.scalar(
        sa.select(AggregateMetadata.value)
        .join(AggregateHost, AggregateHost.aggregate_id == AggregateMetadata.aggregate_id)
        .where(AggregateHost.host == host, AggregateMetadata.key == AZ_KEY)
        .limit(1)
    )


def refresh_hosts(session: Session, hosts: list[str], default: str) -> None:
    """After an aggregate change: each host's service shows its aggregate zone, or ``default`` until its
    agent's next heartbeat reports its own."""
    for svc in session.scalars(sa.select(ComputeService).where(ComputeService.host.in_(hosts))):
        svc.availability_zone = aggregate_zone(session, svc.host) or default
