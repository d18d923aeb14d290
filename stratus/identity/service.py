"""The identity service: its database, token provider, policy and HTTP app, wired together."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from stratus.core.api.auth import REVOCATION_EVENT
from stratus.core.config import Config
from stratus.core.db import Database, upgrade
from stratus.core.policy import Enforcer
from stratus.identity import conf, policies

if TYPE_CHECKING:
    from fastapi import FastAPI

    from stratus.core.bus import Bus

LOG = logging.getLogger(__name__)


class IdentityService:
    name = "identity"
    service_type = "identity"
    endpoint_path = "/v3"

    def __init__(self, config: Config, bus: Bus | None = None):
        from stratus.identity.api import create_app
        from stratus.identity.tokens.provider import TokenProvider

        self.config = config
        self.conf = conf.load(config)
        self.db = Database(config.database_url("identity"))
        upgrade(self.db, "stratus.identity:migrations")
        self.bus = bus
        self.enforcer = Enforcer(policies.RULES)
        self.tokens = TokenProvider(self)
        self.app: FastAPI = create_app(self)

    @property
    def port(self) -> int:
        return self.conf.port

    def announce_revocation(self) -> None:
        """Tell every API on the bus to drop cached token validations (call after commit)."""
        if self.bus is not None:
            try:
                self.bus.notify(REVOCATION_EVENT, {}, publisher="identity")
            except Exception:  # the cache TTL still bounds the damage; never fail the request
                LOG.exception("could not announce a token revocation on the bus")

    def close(self) -> None:
        self.db.dispose()
