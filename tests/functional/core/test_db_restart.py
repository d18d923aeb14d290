"""A PostgreSQL restart under a running identity API costs only the requests made during the outage.

Runs a private PostgreSQL cluster (initdb + pg_ctl on a temp dir and a free port; as the ``postgres`` user when
run as root), never the machine's own server. Skipped, saying why, when PostgreSQL 15's binaries are missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stratus.core.config import Config
from stratus.core.db import Database
from stratus.core.exceptions import ServiceUnavailable
from stratus.identity.bootstrap import bootstrap
from stratus.identity.service import IdentityService
from tests.functional.compute.conftest import IMAGE_URL, compute_stack
from tests.functional.identity.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, auth_headers, password_token

PG_BIN = Path("/usr/lib/postgresql/15/bin")

pytestmark = pytest.mark.skipif(not (PG_BIN / "pg_ctl").exists(), reason=f"no PostgreSQL binaries in {PG_BIN}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateCluster:
    """A throwaway PostgreSQL cluster: ``start``/``stop`` with pg_ctl (which waits), trust auth on 127.0.0.1."""

    def __init__(self, base: Path):
        self.base = base
        self.data = base / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0

    def _run(self, *argv: str) -> None:
        cmd = [str(a) for a in argv]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if self._as_postgres:
            shutil.chown(self.base, "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.base}"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.base / "log", "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    base = Path(tempfile.mkdtemp(prefix="stratus-pg-"))
    pg = PrivateCluster(base)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        try:
            if pg.running:
                pg.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def identity(cluster: PrivateCluster, tmp_path: Path) -> Iterator[IdentityService]:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/stratus_{{service}}"
    raw = {"core": {"state_dir": str(tmp_path), "database_url": url}, "identity": {"password_hash_rounds": 4}}
    service = IdentityService(Config(raw, env={}))
    bootstrap(service, admin_password=ADMIN_PASSWORD, demo_password=DEMO_PASSWORD)
    try:
        yield service
    finally:
        service.close()


def _assert_clean_503(resp: object) -> None:
    assert resp.status_code == 503, resp.text  # type: ignore[attr-defined]
    assert int(resp.headers["Retry-After"]) > 0  # type: ignore[attr-defined]
    error = resp.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == 503 and "database" in error["message"].lower()


def test_postgres_restart_gives_503_then_recovers(cluster: PrivateCluster, identity: IdentityService) -> None:
    with TestClient(identity.app, raise_server_exceptions=False) as client:
        token = password_token(client, "admin", ADMIN_PASSWORD, project="admin")
        headers = auth_headers(token)
        assert client.get("/v3/users", headers=headers).status_code == 200

        cluster.stop()
        _assert_clean_503(client.get("/v3/users", headers=headers))
        _assert_clean_503(client.post("/v3/projects", headers=headers, json={"project": {"name": "during-outage"}}))
        auth = {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "demo", "domain": {"name": "Default"}, "password": DEMO_PASSWORD}},
            }
        }
        _assert_clean_503(client.post("/v3/auth/tokens", json={"auth": auth}))

        cluster.start()
        # Pooled connections died with the old server: pre-ping replaces them, so the first request succeeds.
        assert client.get("/v3/users", headers=headers).status_code == 200
        created = client.post("/v3/projects", headers=headers, json={"project": {"name": "after-restart"}})
        assert created.status_code == 201, created.text
        assert password_token(client, "demo", DEMO_PASSWORD, project="demo")


def test_postgres_restart_under_the_compute_service(cluster: PrivateCluster, tmp_path: Path) -> None:
    """The API answers 503 during the outage; its conductor and agents survive it and boot servers after."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/stratus_{{service}}"
    raw = {
        "core": {"state_dir": str(tmp_path), "database_url": url},
        "image": {"store": "fake"},
        "compute": {"image_url": IMAGE_URL},
        "compute_agent": {"driver": "fake", "fake_hosts": 1, "host_prefix": "fake-host-", "image_url": IMAGE_URL,
                          "heartbeat_interval": 1.0},
    }  # fmt: skip
    with compute_stack(Config(raw, env={})) as (_service, _workers, api):
        api.image_id = api.make_image(name="cirros")
        api.flavor_id = api.make_flavor("m1.tiny")
        before = api.active(name="before")

        cluster.stop()
        for method, path, body in [
            ("GET", "/servers/detail", None),
            ("GET", f"/servers/{before['id']}", None),
            ("POST", "/servers", {"server": {"name": "x", "imageRef": api.image_id, "flavorRef": api.flavor_id}}),
        ]:
            resp = api(method, path, json=body)
            assert resp.status_code == 503, resp.text
            assert int(resp.headers["Retry-After"]) > 0
            assert "database" in resp.text.lower()

        cluster.start()
        assert api.server(before["id"])["status"] == "ACTIVE"
        assert api.active(name="after")["status"] == "ACTIVE"


def test_a_query_cut_by_the_restart_becomes_service_unavailable(cluster: PrivateCluster) -> None:
    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/stratus_inflight")
    try:
        with db.reader() as session:
            assert session.execute(sa.text("SELECT 1")).scalar() == 1
        outcome: dict[str, BaseException] = {}
        running = threading.Event()

        def slow_query() -> None:
            try:
                with db.reader() as session:
                    running.set()
                    session.execute(sa.text("SELECT pg_sleep(30)"))
            except BaseException as exc:  # the test checks what it got
                outcome["error"] = exc

        thread = threading.Thread(target=slow_query)
        thread.start()
        assert running.wait(10)
        _wait_for_backend(db, "pg_sleep")
        cluster.stop()  # fast shutdown terminates the running query
        thread.join(20)
        assert not thread.is_alive()
        assert isinstance(outcome.get("error"), ServiceUnavailable), outcome
        cluster.start()
        with db.reader() as session:
            assert session.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        db.dispose()


def _wait_for_backend(db: Database, text: str, timeout: float = 10.0) -> None:
    """Wait until a backend runs a query containing ``text`` (the thread's query really started)."""
    deadline = time.monotonic() + timeout
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE :q AND pid <> pg_backend_pid()")
    while True:
        with db.reader() as session:
            if session.execute(query, {"q": f"%{text}(%"}).scalar():
                return
        assert time.monotonic() < deadline, f"no backend ran {text}"
        time.sleep(0.05)  # polling with a deadline
