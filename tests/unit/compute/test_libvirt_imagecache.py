"""The per-host image cache: one download for concurrent users, checksums, formats, cleanup."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from stratus.compute.messages import FlavorSpec, ImageSpec, InstanceSpec
from stratus.compute.virt.libvirt.driver import root_size
from stratus.compute.virt.libvirt.imagecache import ImageCache, ImageError

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed")


class Source:
    """An ImageSource serving local files; counts downloads and can block them until released."""

    def __init__(self, files: dict[str, Path]):
        self.files = files
        self.downloads = 0
        self.gate = threading.Event()
        self.gate.set()

    def download(self, image_id: str, dest: Path) -> int:
        self.downloads += 1
        self.gate.wait(10)
        if image_id not in self.files:
            raise FileNotFoundError(f"404: no image {image_id}")
        shutil.copyfile(self.files[image_id], dest)
        return dest.stat().st_size

    def upload(self, image_id: str, src: Path) -> None:
        raise NotImplementedError


@pytest.fixture
def qcow2(tmp_path: Path) -> Path:
    path = tmp_path / "src.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    return path


def spec_for(path: Path, image_id: str = "img1", disk_format: str = "qcow2", **kw: object) -> ImageSpec:
    return ImageSpec(id=image_id, disk_format=disk_format, container_format="bare",
                     checksum=hashlib.md5(path.read_bytes()).hexdigest(), **kw)  # fmt: skip


def test_downloads_once_for_concurrent_users(tmp_path: Path, qcow2: Path) -> None:
    cache, source = ImageCache(tmp_path / "cache"), Source({"img1": qcow2})
    source.gate.clear()
    results: list[Path] = []

    def boot() -> None:
        with cache.use(spec_for(qcow2), source) as cached:
            results.append(cached.path)

    threads = [threading.Thread(target=boot) for _ in range(4)]
    for t in threads:
        t.start()
    source.gate.set()
    for t in threads:
        t.join(10)
    assert source.downloads == 1 and len(results) == 4
    assert results[0] == tmp_path / "cache" / "img1" and results[0].exists()


def test_checksum_mismatch_leaves_nothing(tmp_path: Path, qcow2: Path) -> None:
    cache = ImageCache(tmp_path / "cache")
    bad = ImageSpec(id="img1", disk_format="qcow2", os_hash_algo="sha512", os_hash_value="0" * 128)
    with pytest.raises(ImageError, match="checksum"):
        with cache.use(bad, Source({"img1": qcow2})):
            pass
    assert cache.entries() == [] and not list((tmp_path / "cache").iterdir())


def test_sha512_accepted(tmp_path: Path, qcow2: Path) -> None:
    good = ImageSpec(id="img1", disk_format="qcow2", os_hash_algo="sha512",
                     os_hash_value=hashlib.sha512(qcow2.read_bytes()).hexdigest())  # fmt: skip
    with ImageCache(tmp_path / "cache").use(good, Source({"img1": qcow2})) as cached:
        assert cached.format == "qcow2" and cached.virtual_size == 64 * 1024**2


def test_unbootable_format_refused_before_download(tmp_path: Path, qcow2: Path) -> None:
    source = Source({"img1": qcow2})
    with pytest.raises(ImageError, match="cannot boot"):
        with ImageCache(tmp_path / "cache").use(spec_for(qcow2, disk_format="vmdk"), source):
            pass
    assert source.downloads == 0


def test_data_must_match_declared_format(tmp_path: Path, qcow2: Path) -> None:
    with pytest.raises(ImageError, match="claims disk_format 'raw'"):
        with ImageCache(tmp_path / "cache").use(spec_for(qcow2, disk_format="raw"), Source({"img1": qcow2})):
            pass


def test_raw_image(tmp_path: Path) -> None:
    raw = tmp_path / "r.raw"
    raw.write_bytes(b"\0" * 1024 * 1024)
    with ImageCache(tmp_path / "cache").use(spec_for(raw, disk_format="raw"), Source({"img1": raw})) as cached:
        assert cached.format == "raw" and cached.virtual_size == 1024 * 1024


def test_missing_image_is_a_clear_error(tmp_path: Path, qcow2: Path) -> None:
    cache = ImageCache(tmp_path / "cache")
    with pytest.raises(ImageError, match="could not download image gone"):
        with cache.use(spec_for(qcow2, image_id="gone"), Source({})):
            pass
    assert cache.entries() == []


def test_cleanup_keeps_used_entries(tmp_path: Path, qcow2: Path) -> None:
    cache, source = ImageCache(tmp_path / "cache"), Source({"a": qcow2, "b": qcow2})
    for image_id in ("a", "b"):
        with cache.use(spec_for(qcow2, image_id=image_id), source):
            pass
    assert cache.cleanup(lambda: {"a"}) == ["b"]
    assert cache.entries() == ["a"]


def instance(root_gb: int, min_disk: int = 0) -> InstanceSpec:
    flavor, image = FlavorSpec("1", "f", 1, 128, root_gb), ImageSpec(id="i", min_disk=min_disk)
    return InstanceSpec(uuid="u", name="vm", hostname="vm", project_id="p", user_id="u", flavor=flavor, image=image)


def test_root_size_rules() -> None:
    assert root_size(instance(1), 64 * 1024**2) == 1024**3
    assert root_size(instance(0), 64 * 1024**2) == 64 * 1024**2  # flavor disk 0: the image's size
    with pytest.raises(ImageError, match="smaller than the image's virtual size"):
        root_size(instance(1), 3 * 1024**3)
    with pytest.raises(ImageError, match="min_disk"):
        root_size(instance(1, min_disk=5), 64 * 1024**2)
