"""Every state-changing route of the dashboard checks the CSRF token (no form can forget it)."""

from __future__ import annotations

from fastapi.routing import APIRoute

from stratus.core.config import Config
from stratus.dashboard.service import DashboardService
from stratus.dashboard.views.deps import require_csrf


def _calls(dependant) -> set:  # type: ignore[no-untyped-def]
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _routes(routes: list) -> list[APIRoute]:  # type: ignore[type-arg]
    """Routes of the app and of the routers it includes (kept as wrappers by this FastAPI)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _routes(route.original_router.routes)
    return found


def test_every_unsafe_route_depends_on_the_csrf_check() -> None:
    app = DashboardService(Config({}, env={})).app
    unsafe = [r for r in _routes(app.routes) if r.methods - {"GET", "HEAD"}]
    assert len(unsafe) >= 30
    missing = [f"{sorted(r.methods)} {r.path}" for r in unsafe if require_csrf not in _calls(r.dependant)]
    assert missing == []
