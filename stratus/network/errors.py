"""Neutron's error types: each carries the ``type`` shown in ``{"NeutronError": {"type": ...}}``."""

from __future__ import annotations

from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound, StratusError

DEFAULT_TYPES = {400: "HTTPBadRequest", 401: "HTTPUnauthorized", 403: "HTTPForbidden", 404: "HTTPNotFound"}
DEFAULT_TYPES.update({405: "HTTPMethodNotAllowed", 409: "HTTPConflict", 413: "HTTPRequestEntityTooLarge"})


def error_type(exc: StratusError) -> str:
    return getattr(exc, "type", None) or DEFAULT_TYPES.get(exc.status, "NeutronException")


class NeutronBadRequest(BadRequest):
    type = "BadRequest"


class InvalidInput(BadRequest):
    type = "InvalidInput"

    def __init__(self, message: str):
        super().__init__(f"Invalid input for operation: {message}")


class NeutronNotFound(NotFound):
    type = "NotFound"


class NeutronConflict(Conflict):
    type = "Conflict"


class PolicyNotAuthorized(Forbidden):
    type = "PolicyNotAuthorized"


NOT_FOUND_MESSAGES = {
    "FloatingIP": "Floating IP {} could not be found",
    "SecurityGroup": "Security group {} does not exist",
    "SecurityGroupRule": "Security group rule {} does not exist",
}


def not_found(kind: str, ident: str) -> NotFound:
    """``NetworkNotFound`` etc. (type ``<kind>NotFound``), with Neutron's message."""
    err = NeutronNotFound(
        NOT_FOUND_MESSAGES.get(kind, "{kind} {ident} could not be found.").format(ident, kind=kind, ident=ident)
    )
    err.type = f"{kind}NotFound"  # type: ignore[attr-defined]
    return err


def conflict(kind: str, message: str) -> Conflict:
    err = NeutronConflict(message)
    err.type = kind  # type: ignore[attr-defined]
    return err


def bad_request(kind: str, message: str) -> BadRequest:
    err = NeutronBadRequest(message)
    err.type = kind  # type: ignore[attr-defined]
    return err
