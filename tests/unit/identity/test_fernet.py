"""Fernet payloads and the key repository: rotation keeps old tokens readable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stratus.identity.tokens import keys
from stratus.identity.tokens.payload import MalformedToken, TokenData, pack, unpack


def sample(**overrides: object) -> TokenData:
    values: dict = {
        "user_id": "u1",
        "methods": ("password", "token"),
        "expires_at": dt.datetime(2030, 1, 1, 12, 0, 0, 123000),
        "audit_ids": ("a1", "a0"),
        "project_id": "p1",
        "issued_at": dt.datetime(2029, 12, 31, 12, 0, 0, 456789),
    }
    values.update(overrides)
    return TokenData(**values)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    ring = keys.KeyRing(tmp_path / "keys")
    data = sample(application_credential_id="ac1")
    token = pack(ring.fernet(), data)
    assert "=" not in token
    assert unpack(ring.fernet(), token) == data


def test_garbled_and_foreign_tokens_are_malformed(tmp_path: Path) -> None:
    ring = keys.KeyRing(tmp_path / "a")
    other = keys.KeyRing(tmp_path / "b")
    token = pack(other.fernet(), sample())
    for bad in (token, token[:-5], "not-a-token", "é" * 10, ""):
        with pytest.raises(MalformedToken):
            unpack(ring.fernet(), bad)


def test_setup_creates_staged_and_primary_keys_private(tmp_path: Path) -> None:
    repo = tmp_path / "keys"
    keys.setup(repo)
    assert sorted(p.name for p in repo.iterdir()) == ["0", "1"]
    assert (repo / "1").stat().st_mode & 0o777 == 0o600


def test_rotation_keeps_tokens_of_recent_keys_and_drops_the_oldest(tmp_path: Path) -> None:
    repo = tmp_path / "keys"
    ring = keys.KeyRing(repo)
    before = pack(ring.fernet(), sample())
    assert keys.rotate(repo, max_active_keys=3) == 2
    assert unpack(ring.fernet(), before).user_id == "u1"  # key 1 is now a secondary
    after = pack(ring.fernet(), sample(user_id="u2"))
    keys.rotate(repo, max_active_keys=3)
    assert sorted(int(p.name) for p in repo.iterdir() if p.name.isdigit()) == [0, 2, 3]
    with pytest.raises(MalformedToken):
        unpack(ring.fernet(), before)  # key 1 was pruned
    assert unpack(ring.fernet(), after).user_id == "u2"


def test_staged_key_is_promoted(tmp_path: Path) -> None:
    repo = tmp_path / "keys"
    keys.setup(repo)
    staged = (repo / "0").read_bytes()
    keys.rotate(repo)
    assert (repo / "2").read_bytes() == staged
    assert (repo / "0").read_bytes() != staged


def test_system_scope_round_trips(tmp_path: Path) -> None:
    ring = keys.KeyRing(tmp_path / "keys")
    data = sample(project_id=None, system=True)
    assert unpack(ring.fernet(), pack(ring.fernet(), data)) == data


def test_tokens_packed_before_system_scope_still_unpack(tmp_path: Path) -> None:
    """Payloads of nine fields (no system flag) were issued before system scope existed."""
    import msgpack

    ring = keys.KeyRing(tmp_path / "keys")
    data = sample()
    old = [
        1,
        data.user_id,
        3,
        data.project_id,
        None,
        data.expires_at.replace(tzinfo=dt.UTC).timestamp(),
        list(data.audit_ids),
        None,
        data.issued_at.replace(tzinfo=dt.UTC).timestamp(),
    ]
    token = ring.fernet().encrypt(msgpack.packb(old)).decode().rstrip("=")
    assert unpack(ring.fernet(), token) == data
