"""Values every database accepts: no NUL characters (PostgreSQL refuses them), no NaN or infinity in JSON."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request

from stratus.core.exceptions import BadRequest


def has_nul(value: Any) -> bool:
    """True when anything in ``value`` (nested lists and dicts included) is a NUL-holding string or NaN/inf."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def reject_nul_in_url(request: Request) -> None:
    """Router dependency: a NUL in a path or query parameter is a 400, before any lookup."""
    for where, params in (("path", request.path_params), ("query", request.query_params)):
        for key, value in params.items():
            if has_nul(key) or has_nul(value):
                raise BadRequest(f"Invalid {where} parameter {key!r}: NUL characters are not allowed.")
