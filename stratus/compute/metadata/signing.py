"""The proxy -> metadata API contract: ``X-Instance-ID-Signature`` = hex HMAC-SHA256(secret, instance id)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.datastructures import Headers

from stratus.core.exceptions import BadRequest, Forbidden

INSTANCE_HEADER = "X-Instance-ID"
TENANT_HEADER = "X-Tenant-ID"
SIGNATURE_HEADER = "X-Instance-ID-Signature"
FORWARDED_HEADER = "X-Forwarded-For"


def sign(secret: str, instance_id: str) -> str:
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Requester:
    """Who a verified request speaks for: the instance, its project and the guest's address (if given)."""

    instance_id: str
    tenant_id: str
    address: str | None


def _one(headers: Headers, name: str) -> str:
    values = headers.getlist(name)
    if not values:
        raise BadRequest(f"{name} header is missing from request.")
    if len(values) > 1:
        raise BadRequest(f"Multiple {name} headers found within request.")
    return values[0]


def verify(headers: Headers, secret: str) -> Requester:
    """Check the signed headers as Nova's metadata handler does: 400 when missing, 403 when wrong.

    An empty secret refuses every request: an unsigned proxy request cannot be trusted.
    """
    instance_id = _one(headers, INSTANCE_HEADER)
    signature = _one(headers, SIGNATURE_HEADER)
    tenant_id = _one(headers, TENANT_HEADER)
    if not secret:
        raise Forbidden("The metadata service has no shared secret configured.")
    if not hmac.compare_digest(sign(secret, instance_id).encode(), signature.encode()):
        raise Forbidden("Invalid proxy request signature.")
    forwarded = headers.get(FORWARDED_HEADER)
    address = forwarded.split(",")[0].strip() if forwarded else None
    return Requester(instance_id=instance_id, tenant_id=tenant_id, address=address or None)
