"""Errors that map to HTTP status codes; each service's API renders them in its own body shape."""

from __future__ import annotations


class StratusError(Exception):
    """Base error. ``status`` is the HTTP status, ``title`` its reason phrase."""

    status = 500
    title = "Internal Server Error"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.title)
        self.message = message or self.title


class BadRequest(StratusError):
    status, title = 400, "Bad Request"


class Unauthorized(StratusError):
    status, title = 401, "Unauthorized"


class Forbidden(StratusError):
    status, title = 403, "Forbidden"


class NotFound(StratusError):
    status, title = 404, "Not Found"


class MethodNotAllowed(StratusError):
    status, title = 405, "Method Not Allowed"


class NotAcceptable(StratusError):
    status, title = 406, "Not Acceptable"


class Conflict(StratusError):
    status, title = 409, "Conflict"


class Gone(StratusError):
    status, title = 410, "Gone"


class PayloadTooLarge(StratusError):
    status, title = 413, "Request Entity Too Large"


class UnsupportedMediaType(StratusError):
    status, title = 415, "Unsupported Media Type"


class RangeNotSatisfiable(StratusError):
    status, title = 416, "Requested Range Not Satisfiable"


class ServiceUnavailable(StratusError):
    status, title = 503, "Service Unavailable"

    def __init__(self, message: str | None = None, retry_after: int = 5):
        super().__init__(message)
        self.retry_after = retry_after


STATUS_TITLES = {
    cls.status: cls.title
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        Conflict,
        Gone,
        PayloadTooLarge,
        UnsupportedMediaType,
        RangeNotSatisfiable,
        ServiceUnavailable,
        StratusError,
    )
}
