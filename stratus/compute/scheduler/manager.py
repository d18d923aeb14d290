"""Host selection: filter, weigh, then claim on the best host (falling back down the list).

``select_destinations`` returns, per instance, the host it claimed resources on plus alternates
for rescheduling, or the reason no host fits, counted per filter ("No valid host: 3 hosts: 2
lacked RAM (need 2048 MB), 1 disabled"). Claims run in one write transaction with the caller's
``on_claim`` hook, so the instance row (host, node) and the allocations change together.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute.conf import SchedulerConfig
from stratus.compute.messages import RequestSpec
from stratus.compute.models import ComputeService, Instance, ResourceProvider, ServerGroup, ServerGroupMember
from stratus.compute.scheduler import claims
from stratus.compute.scheduler.filters import (
    DEFAULT_FILTERS,
    FilterRequest,
    GroupInfo,
    HostFilter,
    HostState,
    ServerGroupFilter,
    explain,
    run_filters,
)
from stratus.compute.scheduler.weighers import (
    HostWeigher,
    RAMWeigher,
    SoftAffinityWeigher,
    SoftAntiAffinityWeigher,
    weigh,
)
from stratus.core.db import Database, retry_on_outage, utcnow

LOG = logging.getLogger(__name__)

AGENT_BINARY = "nova-compute"

ClaimHook = Callable[[Session, str, HostState], None]


class ClaimAborted(Exception):
    """Raised by an ``on_claim`` hook to drop the claim (e.g. the instance was deleted meanwhile)."""


@dataclass
class Selection:
    """Where one instance goes: ``host`` (resources claimed there) and ``alternates``, or ``error``."""

    instance_uuid: str
    host: str | None = None
    node: str | None = None
    alternates: list[str] = field(default_factory=list)
    error: str | None = None


class SchedulerManager:
    def __init__(
        self,
        db: Database,
        conf: SchedulerConfig,
        *,
        filters: Sequence[HostFilter] = DEFAULT_FILTERS,
        weighers: Sequence[HostWeigher] | None = None,
        rng: random.Random | None = None,
    ):
        self.db = db
        self.conf = conf
        self.filters = filters
        self.weighers = (
            weighers
            if weighers is not None
            else (
                RAMWeigher(conf.ram_weight_multiplier),
                SoftAffinityWeigher(conf.soft_affinity_weight_multiplier),
                SoftAntiAffinityWeigher(conf.soft_anti_affinity_weight_multiplier),
            )
        )
        self._rng = rng or random.Random()
        self._down_time = conf.service_down_time or 60.0

    # public

    def select_destinations(self, spec: RequestSpec, on_claim: ClaimHook | None = None) -> list[Selection]:
        """Place every instance of ``spec``; see the module docstring."""
        want = claims.resources_for(spec.flavor)
        hosts, group = retry_on_outage(lambda: self._load(spec), what="scheduling: loading the hosts")
        results = []
        for instance_uuid in spec.instance_uuids:
            req = FilterRequest(spec, want, utcnow(), self._down_time, group)
            results.append(self._place(instance_uuid, hosts, req, on_claim))
        return results

    def claim_on_host(
        self, spec: RequestSpec, instance_uuid: str, host: str, on_claim: ClaimHook | None = None
    ) -> str | None:
        """Claim on one named host (an alternate) if it still passes the filters; returns why not, or None."""
        want = claims.resources_for(spec.flavor)
        loaded, group = retry_on_outage(lambda: self._load(spec), what="scheduling: loading the hosts")
        states = [h for h in loaded if h.host == host]
        if not states:
            return "no longer registered"
        req = FilterRequest(spec, want, utcnow(), self._down_time, group)
        passed, rejected = run_filters(states, req, self.filters)
        if not passed:
            return rejected[host]
        return self._claim(instance_uuid, passed[0], req, on_claim)

    # internals

    def _load(self, spec: RequestSpec) -> tuple[list[HostState], GroupInfo | None]:
        with self.db.reader() as session:
            hosts = load_hosts(session)
            group = load_group(session, spec.server_group_uuid) if spec.server_group_uuid else None
        return hosts, group

    def _place(
        self, instance_uuid: str, hosts: list[HostState], req: FilterRequest, on_claim: ClaimHook | None
    ) -> Selection:
        passed, rejected = run_filters(hosts, req, self.filters)
        ranked = [w.host for w in weigh(passed, req, self.weighers)]
        ranked = self._shuffle_top(ranked)
        for i, host in enumerate(ranked):
            reason = self._claim(instance_uuid, host, req, on_claim)
            if reason is None:
                host.consume(req.want)
                if req.group is not None:
                    req.group.member_hosts[host.host] += 1
                alternates = [h.host for h in ranked[i + 1 :]][: self.conf.max_attempts - 1]
                return Selection(instance_uuid, host.host, host.provider_uuid, alternates)
            if reason == _ABORTED:
                return Selection(instance_uuid, error=_ABORTED)
            rejected[host.host] = reason
        message = explain(len(hosts), rejected)
        LOG.info("instance %s: %s", instance_uuid, message)
        return Selection(instance_uuid, error=message)

    def _shuffle_top(self, ranked: list[HostState]) -> list[HostState]:
        k = min(self.conf.host_subset_size, len(ranked))
        if k <= 1:
            return ranked
        top = ranked[:k]
        self._rng.shuffle(top)
        return top + ranked[k:]

    def _claim(self, instance_uuid: str, host: HostState, req: FilterRequest, on_claim: ClaimHook | None) -> str | None:
        """Claim in one write transaction; returns None on success, else why the host could not take it.

        A database restart in the middle is ridden out (the transaction is tried again).
        """

        def attempt() -> str | None:
            try:
                with self.db.session() as session:
                    if req.spec.server_group_uuid:
                        reason = _recheck_group(session, req, host, instance_uuid)
                        if reason is not None:
                            return reason
                    claims.claim(session, host.provider_uuid, instance_uuid, req.want)
                    if on_claim is not None:
                        on_claim(session, instance_uuid, host)
            except claims.ClaimRejected as exc:
                _refresh_usage(self.db, host)
                return exc.shortage.describe()
            except ClaimAborted:
                return _ABORTED
            return None

        return retry_on_outage(attempt, what=f"claiming {host.host} for {instance_uuid}")


_ABORTED = "claim aborted"


def _recheck_group(session: Session, req: FilterRequest, host: HostState, instance_uuid: str) -> str | None:
    """Re-check strict group policies under the group's row lock, so concurrent boots cannot both pass."""
    uuid = req.spec.server_group_uuid
    session.execute(sa.select(ServerGroup.uuid).where(ServerGroup.uuid == uuid).with_for_update()).all()
    fresh = load_group(session, uuid, exclude=instance_uuid) if uuid else None
    check = FilterRequest(req.spec, req.want, req.now, req.service_down_time, fresh)
    return ServerGroupFilter().reject(host, check)


def _refresh_usage(db: Database, host: HostState) -> None:
    with db.reader() as session:
        host.used = claims.load_usages(session, [host.provider_uuid]).get(host.provider_uuid, {})


def load_hosts(session: Session) -> list[HostState]:
    """Every host with a provider, joined with its agent service record, inventories and usage."""
    svc = ComputeService
    services = {
        row.host: row
        for row in session.execute(
            sa.select(svc.host, svc.availability_zone, svc.disabled, svc.forced_down, svc.last_seen_up).where(
                svc.binary == AGENT_BINARY
            )
        )
    }
    inventories = claims.load_inventories(session)
    usages = claims.load_usages(session)
    rp = ResourceProvider
    hosts = []
    for p in session.execute(sa.select(rp.uuid, rp.host, rp.hypervisor_type, rp.cpu_info).order_by(rp.name)):
        s = services.get(p.host)
        hosts.append(
            HostState(
                host=p.host,
                provider_uuid=p.uuid,
                availability_zone=s.availability_zone if s else "nova",
                disabled=s.disabled if s else True,
                forced_down=s.forced_down if s else False,
                last_seen_up=s.last_seen_up if s else None,
                hypervisor_type=p.hypervisor_type,
                cpu_arch=(p.cpu_info or {}).get("arch"),
                inventories=inventories.get(p.uuid, {}),
                used=dict(usages.get(p.uuid, {})),
            )
        )
    return hosts


def load_group(session: Session, group_uuid: str, exclude: str | None = None) -> GroupInfo | None:
    group = session.get(ServerGroup, group_uuid)
    if group is None:
        return None
    members = sa.select(ServerGroupMember.instance_uuid).where(ServerGroupMember.group_uuid == group_uuid)
    query = (
        sa.select(Instance.host, sa.func.count())
        .where(Instance.uuid.in_(members), Instance.deleted.is_(False), Instance.host.is_not(None))
        .group_by(Instance.host)
    )
    if exclude:
        query = query.where(Instance.uuid != exclude)
    counts: Counter[str] = Counter({host: int(n) for host, n in session.execute(query)})
    return GroupInfo(group.uuid, group.policy, dict(group.rules or {}), counts)
