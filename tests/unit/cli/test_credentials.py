"""Passwords are generated once, kept private, and reused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from stratus.cli import credentials


def test_generated_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "credentials.toml"
    first = credentials.load_or_create(path)
    assert len(first.admin_password) >= 20 and first.admin_password != first.demo_password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.load_or_create(path) == first
    assert list(path.parent.iterdir()) == [path]  # no temporary files left behind


def test_another_state_dir_gets_other_passwords(tmp_path: Path) -> None:
    a = credentials.load_or_create(tmp_path / "a" / "credentials.toml")
    b = credentials.load_or_create(tmp_path / "b" / "credentials.toml")
    assert a.admin_password != b.admin_password


def test_damaged_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text('admin_password = "x"\n')
    with pytest.raises(RuntimeError, match="damaged"):
        credentials.load_or_create(path)
