"""Image data: upload/download, checksums, ranges, formats, limits, failures and the status machine."""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.functional.image.conftest import PERSONAS, Api

DATA = os.urandom(3 * 1024 * 1024 + 17)


def status(api: Api, image_id: str, as_: str = "member-a") -> str:
    return api("GET", f"/v2/images/{image_id}", as_).json()["status"]


def test_upload_then_download_is_byte_identical_with_checksums(api: Api) -> None:
    image = api.create(name="data")
    assert api.upload(image["id"], DATA).status_code == 204
    doc = api("GET", f"/v2/images/{image['id']}").json()
    assert doc["status"] == "active" and doc["size"] == len(DATA) and doc["virtual_size"] == len(DATA)
    assert doc["checksum"] == hashlib.md5(DATA).hexdigest()
    assert doc["os_hash_algo"] == "sha512" and doc["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    resp = api("GET", f"/v2/images/{image['id']}/file")
    assert resp.status_code == 200 and resp.content == DATA
    assert resp.headers["Content-Length"] == str(len(DATA))
    assert resp.headers["Content-MD5"] == doc["checksum"]
    assert api.stored_files() == [image["id"]]


def test_upload_streams_a_chunked_body(api: Api) -> None:
    image = api.create()

    def body() -> Iterator[bytes]:
        for i in range(0, len(DATA), 100_000):
            yield DATA[i : i + 100_000]

    assert api.upload(image["id"], body()).status_code == 204  # type: ignore[arg-type]
    assert api("GET", f"/v2/images/{image['id']}/file").content == DATA


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, len(DATA)),
        ("bytes=-10", len(DATA) - 10, len(DATA)),
        ("bytes=5-999999999", 5, len(DATA)),
    ],
)
def test_range_download_is_206_with_content_range(api: Api, header: str, start: int, end: int) -> None:
    image = api.create()
    api.upload(image["id"], DATA)
    resp = api("GET", f"/v2/images/{image['id']}/file", headers={"Range": header})
    assert resp.status_code == 206
    assert resp.content == DATA[start:end]
    assert resp.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert resp.headers["Content-Length"] == str(end - start)


def test_unsatisfiable_range_is_416(api: Api) -> None:
    image = api.create()
    api.upload(image["id"], b"x" * 10)
    resp = api("GET", f"/v2/images/{image['id']}/file", headers={"Range": "bytes=10-20"})
    assert resp.status_code == 416 and resp.headers["Content-Range"] == "bytes */10"


def test_download_of_an_image_without_data_is_204(api: Api) -> None:
    image = api.create()
    assert api("GET", f"/v2/images/{image['id']}/file").status_code == 204


def test_second_upload_to_an_active_image_is_409(api: Api) -> None:
    image = api.create()
    api.upload(image["id"], b"first")
    resp = api.upload(image["id"], b"second")
    assert resp.status_code == 409
    assert api("GET", f"/v2/images/{image['id']}/file").content == b"first"


def test_upload_needs_formats_and_octet_stream(api: Api) -> None:
    bare = api("POST", "/v2/images", json={"name": "no formats"}).json()
    assert api.upload(bare["id"], b"data").status_code == 400
    assert status(api, bare["id"]) == "queued"
    image = api.create()
    assert api.upload(image["id"], b"data", **{"Content-Type": "application/json"}).status_code == 415


def test_reader_and_other_projects_cannot_upload(api: Api) -> None:
    image = api.create()
    assert api.upload(image["id"], b"data", as_="reader-a").status_code == 403
    assert api.upload(image["id"], b"data", as_="member-b").status_code == 404
    assert status(api, image["id"]) == "queued"


def test_qcow2_upload_records_the_virtual_size(api: Api, qcow2_files: dict[str, Path]) -> None:
    image = api.create(disk_format="qcow2")
    data = qcow2_files["plain"].read_bytes()
    assert api.upload(image["id"], data).status_code == 204
    doc = api("GET", f"/v2/images/{image['id']}").json()
    assert doc["virtual_size"] == 1024**3 and doc["size"] == len(data)


@pytest.mark.parametrize("kind", ["backing", "data_file"])
def test_unsafe_qcow2_is_refused_and_nothing_is_stored(api: Api, qcow2_files: dict[str, Path], kind: str) -> None:
    image = api.create(disk_format="qcow2")
    resp = api.upload(image["id"], qcow2_files[kind].read_bytes())
    assert resp.status_code == 400
    assert ("backing file" if kind == "backing" else "data file") in resp.json()["message"]
    assert status(api, image["id"]) == "queued"
    assert api.stored_files() == []


def test_data_contradicting_disk_format_is_refused(api: Api, qcow2_files: dict[str, Path]) -> None:
    declared_qcow2 = api.create(disk_format="qcow2")
    assert api.upload(declared_qcow2["id"], DATA).status_code == 400
    declared_raw = api.create(disk_format="raw")
    resp = api.upload(declared_raw["id"], qcow2_files["plain"].read_bytes() + DATA)
    assert resp.status_code == 400 and "qcow2" in resp.json()["message"]
    declared_iso = api.create(disk_format="iso")
    assert api.upload(declared_iso["id"], b"not an iso").status_code == 400
    assert api.stored_files() == []
    assert {status(api, i["id"]) for i in (declared_qcow2, declared_raw, declared_iso)} == {"queued"}


def test_upload_beyond_image_size_cap_is_413(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(image_size_cap=1000)
    image = api.create()
    assert api.upload(image["id"], b"x" * 1001).status_code == 413
    assert status(api, image["id"]) == "queued"

    def chunked() -> Iterator[bytes]:  # no Content-Length: refused while streaming
        yield b"x" * 600
        yield b"x" * 600

    assert api.upload(image["id"], chunked()).status_code == 413  # type: ignore[arg-type]
    assert status(api, image["id"]) == "queued" and api.stored_files() == []
    assert api.upload(image["id"], b"x" * 1000).status_code == 204


def test_upload_beyond_the_project_quota_is_413(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(user_storage_quota=1500)
    first, second = api.create(), api.create()
    assert api.upload(first["id"], b"x" * 1000).status_code == 204
    resp = api.upload(second["id"], b"y" * 600)
    assert resp.status_code == 413 and "quota" in resp.json()["message"]
    assert status(api, second["id"]) == "queued" and api.stored_files() == [first["id"]]
    assert api.upload(second["id"], b"y" * 500).status_code == 204
    other = api.create(as_="member-b")
    assert api.upload(other["id"], b"z" * 1500, as_="member-b").status_code == 204  # quota is per project


def test_per_project_quota_overrides_the_default(make_api) -> None:  # type: ignore[no-untyped-def]
    from tests.functional.image.conftest import PROJECT_B

    api = make_api(user_storage_quota=100, project_storage_quotas={PROJECT_B: 10})
    image = api.create(as_="member-b")
    assert api.upload(image["id"], b"x" * 11, as_="member-b").status_code == 413


def test_truncated_upload_puts_the_image_back_to_queued_without_data(api: Api) -> None:
    image = api.create()
    resp = api.upload(image["id"], b"x" * 100, **{"Content-Length": "1000"})
    assert resp.status_code == 400
    assert status(api, image["id"]) == "queued"
    assert api.stored_files() == []
    assert api.upload(image["id"], b"x" * 100).status_code == 204


def test_client_failing_mid_upload_leaves_no_data(api: Api) -> None:
    image = api.create()

    def broken() -> Iterator[bytes]:
        yield b"x" * 100_000
        raise ConnectionResetError("client went away")

    try:
        resp = api.upload(image["id"], broken())  # type: ignore[arg-type]
    except ConnectionResetError:
        pass  # the test transport may re-raise the client's own error
    else:
        assert resp.status_code == 400
    assert status(api, image["id"]) == "queued"
    assert api.stored_files() == []


def test_deleting_an_image_deletes_its_data(api: Api) -> None:
    image = api.create()
    api.upload(image["id"], b"data")
    assert api.stored_files() == [image["id"]]
    assert api("DELETE", f"/v2/images/{image['id']}").status_code == 204
    assert api.stored_files() == []


def test_deactivate_blocks_download_until_reactivated(api: Api) -> None:
    image = api.create()
    url = f"/v2/images/{image['id']}"
    assert api("POST", f"{url}/actions/deactivate").status_code == 403  # queued images cannot be deactivated
    api.upload(image["id"], b"data")
    assert api("POST", f"{url}/actions/deactivate", as_="reader-a").status_code == 403
    assert api("POST", f"{url}/actions/deactivate").status_code == 204
    assert status(api, image["id"]) == "deactivated"
    assert api("GET", f"{url}/file").status_code == 403
    assert api("GET", f"{url}/file", as_="admin").content == b"data"
    assert api("POST", f"{url}/actions/reactivate").status_code == 204
    assert api("GET", f"{url}/file").content == b"data"


def test_connection_dropped_mid_upload_on_a_real_server(live_server) -> None:  # type: ignore[no-untyped-def]
    service, url = live_server
    port = int(url.rsplit(":", 1)[1])
    receiving, restored = threading.Event(), threading.Event()
    begin, restore = service.store.begin, service.data._restore

    def watched_begin(image_id: str):  # type: ignore[no-untyped-def]
        writer = begin(image_id)
        write = writer.write
        writer.write = lambda chunk: (write(chunk), receiving.set())  # type: ignore[method-assign]
        return writer

    def watched_restore(image_id: str, status: str) -> None:
        restore(image_id, status)
        restored.set()

    service.store.begin, service.data._restore = watched_begin, watched_restore
    with httpx.Client(base_url=url, headers={"X-Auth-Token": "member-a"}) as http:
        image = http.post("/v2/images", json={"disk_format": "raw", "container_format": "bare"}).json()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            head = (
                f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\nHost: x\r\nX-Auth-Token: member-a\r\n"
                "Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n"
            )
            sock.sendall(head.encode() + b"x" * 3_000_000)
            assert receiving.wait(30)
            assert http.get(f"/v2/images/{image['id']}").json()["status"] == "saving"
        assert restored.wait(30)
        assert http.get(f"/v2/images/{image['id']}").json()["status"] == "queued"
        assert list(service.store.root.iterdir()) == []
        ok = http.put(
            f"/v2/images/{image['id']}/file",
            content=b"x" * 10,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert ok.status_code == 204


class HeldUpload:
    """An upload (straight to the manager, in a thread) whose body stops after its first chunk."""

    def __init__(self, service, image_id: str) -> None:  # type: ignore[no-untyped-def]
        self.sent, self.release = threading.Event(), threading.Event()
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, args=(service, image_id))
        self.thread.start()
        assert self.sent.wait(30)

    def _body(self) -> Iterator[bytes]:
        yield b"x" * 1000
        self.sent.set()
        assert self.release.wait(30)
        yield b"y" * 1000

    def _run(self, service, image_id: str) -> None:  # type: ignore[no-untyped-def]
        try:
            service.data.upload(PERSONAS["member-a"], image_id, self._body(), None)
        except Exception as exc:
            self.error = exc

    def finish(self) -> Exception | None:
        self.release.set()
        self.thread.join(30)
        return self.error


def test_concurrent_second_upload_is_409_and_the_first_completes(service_factory) -> None:  # type: ignore[no-untyped-def]
    service = service_factory()
    api = Api(TestClient(service.app), service.store.root)
    image = api.create()
    held = HeldUpload(service, image["id"])
    assert status(api, image["id"]) == "saving"
    assert api.upload(image["id"], b"other").status_code == 409
    assert held.finish() is None
    assert api("GET", f"/v2/images/{image['id']}/file").content == b"x" * 1000 + b"y" * 1000


def test_image_deleted_during_upload_leaves_no_data(service_factory) -> None:  # type: ignore[no-untyped-def]
    service = service_factory()
    api = Api(TestClient(service.app), service.store.root)
    image = api.create()
    held = HeldUpload(service, image["id"])
    assert api("DELETE", f"/v2/images/{image['id']}").status_code == 204
    error = held.finish()
    assert error is not None and getattr(error, "status", None) == 410
    assert api.stored_files() == []


class FailingWriter:
    """A store writer whose disk fails after the first chunk."""

    def __init__(self, error: int) -> None:
        self.error = error
        self.aborted = False

    def write(self, chunk: bytes) -> None:
        raise OSError(self.error, os.strerror(self.error))

    def commit(self) -> None:
        raise AssertionError("never committed")

    def abort(self) -> None:
        self.aborted = True


@pytest.mark.parametrize(("error", "http", "after"), [(errno.EIO, 503, "killed"), (errno.ENOSPC, 413, "queued")])
def test_store_failure_during_upload(service_factory, error: int, http: int, after: str) -> None:  # type: ignore[no-untyped-def]
    service = service_factory()
    writer = FailingWriter(error)
    service.store.begin = lambda _image_id: writer
    api = Api(TestClient(service.app, raise_server_exceptions=False), service.store.root)
    image = api.create()
    resp = api.upload(image["id"], b"data")
    assert resp.status_code == http and resp.json()["message"]
    assert writer.aborted and status(api, image["id"]) == after


def test_fake_store_service_round_trip(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(store="fake")
    image = api.create()
    assert api.upload(image["id"], DATA).status_code == 204
    assert api("GET", f"/v2/images/{image['id']}/file", headers={"Range": "bytes=1-2"}).content == DATA[1:3]
    assert api.stored_files() == []
