"""Every router of the identity API, in one list (each module owns one resource)."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

MODULES = (
    "versions",
    "auth",
    "domain_config",
    "domains",
    "projects",
    "users",
    "groups",
    "roles",
    "assignments",
    "catalog",
    "application_credentials",
    "credentials",
    "registry",
)


def all_routers() -> list[APIRouter]:
    routers = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"stratus.identity.api.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"stratus.identity.api.{name}":
                continue  # not written yet
            raise
        routers.append(module.router)
    return routers
