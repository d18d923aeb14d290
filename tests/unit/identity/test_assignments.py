"""Effective roles: groups, inherited domain grants, project hierarchy and implied roles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from stratus.core.db import Database
from stratus.identity import models
from stratus.identity.assignments import (
    GROUP_PROJECT,
    USER_DOMAIN,
    USER_PROJECT,
    effective_role_ids,
    expand_implied,
)
from stratus.identity.resources import role_assignments
from stratus.identity.resources.role_assignments import Filters


@pytest.fixture
def session() -> Iterator[Session]:
    db = Database("sqlite://")
    models.IdentityBase.metadata.create_all(db.engine)
    with db.session() as s:
        s.add(models.Domain(id="d", name="D", tags=[], extra={}))
        s.add(models.Domain(id="d2", name="D2", tags=[], extra={}))
        s.add(models.Project(id="top", name="top", domain_id="d", tags=[], extra={}))
        s.add(models.Project(id="mid", name="mid", domain_id="d", parent_id="top", tags=[], extra={}))
        s.add(models.Project(id="other", name="other", domain_id="d2", tags=[], extra={}))
        s.add(models.User(id="u", name="u", domain_id="d", options={}, extra={}))
        s.add(models.Group(id="g", name="g", domain_id="d", extra={}))
        for role in ("admin", "member", "reader", "x"):
            s.add(models.Role(id=role, name=role, options={}, extra={}))
        s.flush()
        s.add(models.ImpliedRole(prior_role_id="admin", implied_role_id="member"))
        s.add(models.ImpliedRole(prior_role_id="member", implied_role_id="reader"))
        s.flush()
        yield s
    db.dispose()


def grant(s: Session, kind: str, actor: str, target: str, role: str, inherited: bool = False) -> None:
    s.add(models.Assignment(type=kind, actor_id=actor, target_id=target, role_id=role, inherited=inherited))
    s.flush()


def test_implied_roles_are_transitive(session: Session) -> None:
    assert expand_implied(session, {"admin"}) == {"admin", "member", "reader"}
    assert expand_implied(session, {"x"}) == {"x"}


def test_group_grant_counts_for_members(session: Session) -> None:
    grant(session, GROUP_PROJECT, "g", "top", "member")
    assert effective_role_ids(session, "u", project_id="top") == set()
    session.add(models.UserGroupMembership(user_id="u", group_id="g"))
    session.flush()
    assert effective_role_ids(session, "u", project_id="top") == {"member", "reader"}


def test_inherited_domain_grant_reaches_all_projects_of_the_domain_only(session: Session) -> None:
    grant(session, USER_DOMAIN, "u", "d", "x", inherited=True)
    assert effective_role_ids(session, "u", project_id="top") == {"x"}
    assert effective_role_ids(session, "u", project_id="mid") == {"x"}
    assert effective_role_ids(session, "u", project_id="other") == set()
    assert effective_role_ids(session, "u", domain_id="d") == set()  # inherited: not on the domain itself


def test_direct_project_grant_does_not_leak_to_children(session: Session) -> None:
    grant(session, USER_PROJECT, "u", "top", "reader")
    assert effective_role_ids(session, "u", project_id="mid") == set()


def test_role_assignment_listing_effective(session: Session) -> None:
    grant(session, GROUP_PROJECT, "g", "top", "admin")
    grant(session, USER_DOMAIN, "u", "d", "x", inherited=True)
    session.add(models.UserGroupMembership(user_id="u", group_id="g"))
    session.flush()
    direct = role_assignments.collect(session, Filters())
    assert {(e.actor_kind, e.role_id) for e in direct} == {("group", "admin"), ("user", "x")}
    effective = role_assignments.collect(session, Filters(user_id="u", effective=True))
    got = {(e.target_id, e.role_id) for e in effective}
    assert got == {("top", "admin"), ("top", "member"), ("top", "reader"), ("top", "x"), ("mid", "x")}
    assert all(e.actor_kind == "user" for e in effective)
    assert {e.membership for e in effective if e.role_id == "admin"} == {"groups/g/users/u"}
    assert {e.prior_role for e in effective if e.role_id == "reader"} == {"roles/member/implies/reader"}


@settings(max_examples=30, deadline=None)
@given(edges=st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)).filter(lambda e: e[0] < e[1]), max_size=10))
def test_expand_implied_matches_transitive_closure(edges: set[tuple[int, int]]) -> None:
    db = Database("sqlite://")
    models.IdentityBase.metadata.create_all(db.engine)
    with db.session() as s:
        for i in range(6):
            s.add(models.Role(id=f"r{i}", name=f"r{i}", options={}, extra={}))
        s.flush()
        for a, b in edges:
            s.add(models.ImpliedRole(prior_role_id=f"r{a}", implied_role_id=f"r{b}"))
        s.flush()
        reach = {0}
        changed = True
        while changed:
            new = {b for a, b in edges if a in reach} - reach
            changed = bool(new)
            reach |= new
        assert expand_implied(s, {"r0"}) == {f"r{i}" for i in reach}
    db.dispose()
