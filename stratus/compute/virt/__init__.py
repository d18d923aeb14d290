"""Hypervisor drivers, loaded by name (``[compute_agent] driver``).

Drivers register as entry points of the group ``stratus.compute.virt``; the table below is the
fallback for a tree whose package metadata does not list them yet. Drivers are never imported by
name elsewhere.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from stratus.compute.virt.base import ComputeDriver

ENTRY_POINT_GROUP = "stratus.compute.virt"
_FALLBACK = {
    "fake": "stratus.compute.virt.fake:FakeDriver",
    "libvirt": "stratus.compute.virt.libvirt.driver:LibvirtDriver",
}


def load_driver(name: str, **kwargs: Any) -> ComputeDriver:
    """Instantiate the driver registered as ``name`` with ``kwargs``. Raises ValueError for unknown names."""
    target = None
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            target = ep.load()
            break
    if target is None:
        if name not in _FALLBACK:
            known = sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} | set(_FALLBACK))
            raise ValueError(f"unknown compute driver {name!r}; known: {', '.join(known)}")
        module, _, attr = _FALLBACK[name].partition(":")
        target = getattr(importlib.import_module(module), attr)
    driver = target(**kwargs)
    if not isinstance(driver, ComputeDriver):
        raise TypeError(f"compute driver {name!r} is not a ComputeDriver")
    return driver
