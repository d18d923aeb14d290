"""The services an all-in-one cloud runs, imported by name so a service not written yet is simply skipped."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

LOG = logging.getLogger(__name__)


class Service(Protocol):
    """What the CLI needs of a service object."""

    name: str
    service_type: str
    app: Any

    @property
    def port(self) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ServiceSpec:
    """Where a service's class lives, and the path its catalog endpoint ends with if it does not say."""

    name: str
    module: str
    class_name: str
    endpoint_path: str


# Identity comes first: the others are built with core.identity_url pointing at it.
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("identity", "stratus.identity.service", "IdentityService", "/v3"),
    ServiceSpec("image", "stratus.image.service", "ImageService", ""),
    ServiceSpec("compute", "stratus.compute.service", "ComputeService", "/v2.1"),
    ServiceSpec("network", "stratus.network.service", "NetworkService", ""),
    ServiceSpec("dashboard", "stratus.dashboard.service", "DashboardService", ""),
)


# Options by which services find each other's API root. The all-in-one process fills them in from
# where it serves each API (read from each service's configured port before any is built, since
# compute and network need each other); a deployment across hosts sets them in its config.
URL_OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "identity": (("core", "identity_url"),),
    "image": (("compute", "image_url"),),
    "compute": (("network", "compute_url"),),
    "network": (("compute", "network_url"),),
}


def configured_port(spec: ServiceSpec, config: Any) -> int | None:
    """The port ``spec``'s service will listen on, from its ``<package>.conf.load(config).port``."""
    package = spec.module.rsplit(".", 1)[0]
    try:
        conf = importlib.import_module(f"{package}.conf")
        return int(conf.load(config).port)
    except (ImportError, AttributeError):
        return None


def load_class(spec: ServiceSpec) -> type | None:
    """The service class, or None (logged) when its module is missing or fails to import."""
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:  # not written (or not installed) yet
        LOG.info("skipping %s: %s is not importable (%s)", spec.name, spec.module, exc)
        return None
    except Exception:  # a broken module must not take the other services down with it
        LOG.exception("skipping %s: importing %s failed", spec.name, spec.module)
        return None
    cls = getattr(module, spec.class_name, None)
    if cls is None:
        LOG.info("skipping %s: %s has no %s", spec.name, spec.module, spec.class_name)
    return cls


def endpoint_path(service: Service, spec: ServiceSpec) -> str:
    return getattr(service, "endpoint_path", spec.endpoint_path)
