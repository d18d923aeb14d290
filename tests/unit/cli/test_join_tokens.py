"""Join tokens: admitted once, bound to the host name, stored hashed, spent by the first join, expiring."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from stratus.cli.join_tokens import AdmissionStore, JoinRefused, check_hostname, token_digest


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> AdmissionStore:
    return AdmissionStore(tmp_path, clock=clock)


def test_an_admitted_host_joins_once(store: AdmissionStore, clock: Clock) -> None:
    token = store.admit("node-3", ttl=60)
    assert len(token) >= 43  # token_urlsafe(32)
    clock.now += 59
    admission = store.redeem("node-3", token)
    assert admission.joined_at == clock.now
    with pytest.raises(JoinRefused, match="already used"):
        store.redeem("node-3", token)


def test_the_token_is_stored_hashed_only_in_a_private_file(store: AdmissionStore) -> None:
    token = store.admit("node-3")
    text = store.path.read_text()
    assert token not in text
    assert json.loads(text)["node-3"]["token_sha256"] == token_digest(token)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_an_expired_token_is_refused(store: AdmissionStore, clock: Clock) -> None:
    token = store.admit("node-3", ttl=60)
    clock.now += 60
    with pytest.raises(JoinRefused, match="expired"):
        store.redeem("node-3", token)


def test_a_host_never_admitted_is_refused(store: AdmissionStore) -> None:
    token = store.admit("node-3")
    with pytest.raises(JoinRefused, match="not admitted"):
        store.redeem("node-4", token)


def test_a_token_is_bound_to_its_host(store: AdmissionStore) -> None:
    token3 = store.admit("node-3")
    token4 = store.admit("node-4")
    with pytest.raises(JoinRefused, match="not the one issued"):
        store.redeem("node-4", token3)
    with pytest.raises(JoinRefused, match="not the one issued"):
        store.redeem("node-3", "x" + token3[1:])
    # the refusals spent nothing: each host still joins with its own token
    store.redeem("node-3", token3)
    store.redeem("node-4", token4)


def test_admitting_again_replaces_the_old_token(store: AdmissionStore) -> None:
    old = store.admit("node-3")
    new = store.admit("node-3")
    with pytest.raises(JoinRefused, match="not the one issued"):
        store.redeem("node-3", old)
    store.redeem("node-3", new)
    with pytest.raises(JoinRefused, match="already used"):
        store.redeem("node-3", new)


def test_two_stores_on_one_directory_share_the_admissions(tmp_path: Path) -> None:
    token = AdmissionStore(tmp_path).admit("node-3")
    AdmissionStore(tmp_path).redeem("node-3", token)
    with pytest.raises(JoinRefused, match="already used"):
        AdmissionStore(tmp_path).redeem("node-3", token)
    assert [a.hostname for a in AdmissionStore(tmp_path).list()] == ["node-3"]


@pytest.mark.parametrize("bad", ["", "-x", "a b", "x" * 64, "a/b", "h\n"])
def test_bad_host_names_are_refused(store: AdmissionStore, bad: str) -> None:
    with pytest.raises(ValueError, match="invalid host name"):
        store.admit(bad)
    with pytest.raises(ValueError):
        check_hostname(bad)


def test_the_lifetime_must_be_positive(store: AdmissionStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        store.admit("node-3", ttl=0)
