"""A lost database becomes a 503 with Retry-After (never a 500), whichever code path meets it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc

from stratus.core.api.errors import install_error_handlers, keystone_error
from stratus.core.db.engine import _translate_outage, is_outage
from stratus.core.exceptions import ServiceUnavailable


def _operational(message: str) -> exc.OperationalError:
    return exc.OperationalError("SELECT 1", {}, Exception(message))


@pytest.mark.parametrize(
    "message",
    [
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused',
        "FATAL: the database system is starting up",
        "FATAL: the database system is shutting down",
        "terminating connection due to administrator command",
        "server closed the connection unexpectedly",
        "consuming input failed: server closed the connection unexpectedly",
    ],
)
def test_outage_messages_are_outages(message: str) -> None:
    assert is_outage(_operational(message))
    with pytest.raises(ServiceUnavailable), _translate_outage():
        raise _operational(message)


def test_statement_errors_are_not_outages() -> None:
    err = _operational("canceling statement due to lock timeout")
    assert not is_outage(err)
    with pytest.raises(exc.OperationalError), _translate_outage():
        raise err


def test_interface_error_is_an_outage() -> None:
    assert is_outage(exc.InterfaceError("SELECT 1", {}, Exception("the connection is closed")))


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app, keystone_error)

    @app.get("/down")
    def down() -> None:  # a path that uses the engine directly, outside Database.session()
        raise _operational("connection refused")

    @app.get("/bad")
    def bad() -> None:
        raise _operational("canceling statement due to lock timeout")

    return TestClient(app, raise_server_exceptions=False)


def test_outage_outside_a_session_is_a_503(client: TestClient) -> None:
    resp = client.get("/down")
    assert resp.status_code == 503
    assert int(resp.headers["Retry-After"]) > 0
    assert resp.json()["error"]["code"] == 503
    assert "database" in resp.json()["error"]["message"].lower()


def test_other_operational_errors_stay_500(client: TestClient) -> None:
    assert client.get("/bad").status_code == 500


def test_background_work_rides_out_a_short_outage() -> None:
    from stratus.core.db import DatabaseUnavailable, retry_on_outage

    attempts: list[int] = []

    def write() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise DatabaseUnavailable("restarting")
        return "done"

    assert retry_on_outage(write, what="test", within=10) == "done"
    assert len(attempts) == 3


def test_background_work_gives_up_when_the_outage_outlasts_its_deadline() -> None:
    from stratus.core.db import DatabaseUnavailable, retry_on_outage

    def down() -> None:
        raise DatabaseUnavailable("still down")

    with pytest.raises(DatabaseUnavailable):
        retry_on_outage(down, what="test", within=0.5)


def test_other_errors_are_not_retried() -> None:
    from stratus.core.db import retry_on_outage

    attempts: list[int] = []

    def broken() -> None:
        attempts.append(1)
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        retry_on_outage(broken, what="test", within=10)
    assert attempts == [1]
