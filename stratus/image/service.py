"""The image service: its database, data store, policy and HTTP app, wired together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratus.core.api.auth import Authenticator, build_authenticator
from stratus.core.config import Config
from stratus.core.db import Database, upgrade
from stratus.core.policy import Enforcer
from stratus.image import conf, policies
from stratus.image.core.data import DataManager
from stratus.image.core.images import ImageManager
from stratus.image.core.members import MemberManager
from stratus.image.core.resources import Resources
from stratus.image.stores.base import open_store

if TYPE_CHECKING:
    from fastapi import FastAPI

    from stratus.core.bus import Bus


class ImageService:
    name = "image"
    service_type = "image"
    endpoint_path = ""

    def __init__(self, config: Config, bus: Bus | None = None, *, authenticator: Authenticator | None = None):
        from stratus.image.api import create_app

        self.config = config
        self.conf = conf.load(config)
        self.bus = bus
        self.authenticator = authenticator or build_authenticator(
            config.core.identity_url, bus=bus, cache_ttl=config.core.token_cache_ttl
        )
        self.db = Database(config.database_url("image"))
        upgrade(self.db, "stratus.image:migrations")
        self.enforcer = Enforcer(policies.RULES)
        self.store = open_store(self.conf.store, str(conf.store_dir(config, self.conf)))
        resources = Resources(self.db, self.store, self.conf, self.enforcer)
        self.images = ImageManager(resources)
        self.members = MemberManager(resources)
        self.data = DataManager(resources)
        self.app: FastAPI = create_app(self)

    @property
    def port(self) -> int:
        return self.conf.port

    def close(self) -> None:
        self.db.dispose()
