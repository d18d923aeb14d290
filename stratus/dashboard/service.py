"""The dashboard service: sessions, the shared HTTP pool and the web app. It has no database of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from stratus.core.config import Config
from stratus.dashboard import conf
from stratus.dashboard.api import Http
from stratus.dashboard.sessions import SessionStore
from stratus.dashboard.views.web import Web

if TYPE_CHECKING:
    from fastapi import FastAPI

    from stratus.core.bus import Bus


class DashboardService:
    name = "dashboard"
    service_type = "dashboard"
    endpoint_path = ""

    def __init__(self, config: Config, bus: Bus | None = None, *, transport: httpx.BaseTransport | None = None):
        from stratus.dashboard.views.app import create_app

        self.config = config
        self.conf = conf.load(config)
        self.identity_url = conf.identity_url(config, self.conf)
        self.http = Http(self.conf.api_timeout, transport)
        self.sessions = SessionStore(self.conf.session_idle_timeout, self.conf.max_sessions)
        self.web = Web(self.conf, self.sessions)
        self.app: FastAPI = create_app(self)

    @property
    def port(self) -> int:
        return self.conf.port

    def close(self) -> None:
        """Forget every session and close the connection pool.

        Tokens are not revoked here: by now the identity API may already be stopped, and an
        unreachable identity would hold shutdown for ``api_timeout`` per session. Logout revokes.
        """
        self.sessions.drain()
        self.http.close()
