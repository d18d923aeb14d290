"""The file and fake stores: atomic writes, aborts leave nothing, ranged reads, deletes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratus.image.stores.base import Store, open_store
from stratus.image.stores.fake import FakeStore
from stratus.image.stores.file import FileStore


@pytest.fixture(params=["file", "fake"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return FileStore(tmp_path / "images") if request.param == "file" else FakeStore()


def test_data_is_invisible_until_commit_then_reads_back_in_ranges(store: Store) -> None:
    writer = store.begin("img")
    writer.write(b"hello ")
    writer.write(b"world")
    assert store.size("img") is None
    writer.commit()
    assert store.size("img") == 11
    assert b"".join(store.read("img", chunk_size=4)) == b"hello world"
    assert b"".join(store.read("img", 6, 9, chunk_size=2)) == b"wor"


def test_abort_leaves_nothing(store: Store, tmp_path: Path) -> None:
    writer = store.begin("img")
    writer.write(b"partial")
    writer.abort()
    writer.abort()
    assert store.size("img") is None
    if isinstance(store, FileStore):
        assert list(store.root.iterdir()) == []


def test_delete_is_idempotent_and_reading_missing_data_raises(store: Store) -> None:
    writer = store.begin("img")
    writer.write(b"x")
    writer.commit()
    store.delete("img")
    store.delete("img")
    with pytest.raises(FileNotFoundError):
        store.read("img")


def test_file_store_removes_leftover_part_files_on_open(tmp_path: Path) -> None:
    root = tmp_path / "images"
    root.mkdir()
    (root / ".img.123.part").write_bytes(b"crash leftovers")
    (root / "kept").write_bytes(b"data")
    FileStore(root)
    assert [p.name for p in root.iterdir()] == ["kept"]


def test_file_store_refuses_path_like_ids(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    for bad in ("../x", ".hidden", ""):
        with pytest.raises(ValueError):
            store.begin(bad)


def test_open_read_survives_a_concurrent_delete(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    writer = store.begin("img")
    writer.write(b"abc" * 1000)
    writer.commit()
    chunks = store.read("img", chunk_size=100)
    store.delete("img")
    assert b"".join(chunks) == b"abc" * 1000


def test_open_store_by_name(tmp_path: Path) -> None:
    assert isinstance(open_store("file", str(tmp_path)), FileStore)
    assert isinstance(open_store("fake", str(tmp_path)), FakeStore)
    with pytest.raises(ValueError, match="unknown image store"):
        open_store("s3", str(tmp_path))
