"""What a Fernet token carries (msgpack inside Fernet), and how it is packed.

The payload keeps its own microsecond ``issued_at`` (Fernet's timestamp has whole seconds), so
a token issued just after a revocation event in the same second is not mistaken as revoked.
Like Keystone, roles and names are not in the token: they are looked up at validation time, so
a removed role takes effect at once. The token string is Fernet's URL-safe base64 with the
``=`` padding stripped (as Keystone does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import msgpack
from cryptography.fernet import InvalidToken, MultiFernet

VERSION = 1
METHOD_BITS = {"password": 1, "token": 2, "application_credential": 4}


class MalformedToken(Exception):
    """The token cannot be decrypted or decoded."""


@dataclass(frozen=True)
class TokenData:
    user_id: str
    methods: tuple[str, ...]
    expires_at: dt.datetime  # naive UTC
    audit_ids: tuple[str, ...]
    project_id: str | None = None
    domain_id: str | None = None
    application_credential_id: str | None = None
    issued_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
    system: bool = False  # scoped to the system ("all"), Keystone's third kind of scope

    @property
    def scoped(self) -> bool:
        return bool(self.project_id or self.domain_id or self.system)

    @property
    def audit_id(self) -> str:
        return self.audit_ids[0]

    @property
    def audit_chain_id(self) -> str:
        return self.audit_ids[-1]


def _methods_to_int(methods: tuple[str, ...]) -> int:
    return sum(METHOD_BITS[m] for m in set(methods))


def _int_to_methods(value: int) -> tuple[str, ...]:
    return tuple(name for name, bit in METHOD_BITS.items() if value & bit)


def pack(fernet: MultiFernet, data: TokenData) -> str:
    body = [
        VERSION,
        data.user_id,
        _methods_to_int(data.methods),
        data.project_id,
        data.domain_id,
        data.expires_at.replace(tzinfo=dt.UTC).timestamp(),
        list(data.audit_ids),
        data.application_credential_id,
        data.issued_at.replace(tzinfo=dt.UTC).timestamp(),
        data.system,
    ]
    return fernet.encrypt(msgpack.packb(body)).decode().rstrip("=")


def unpack(fernet: MultiFernet, token: str) -> TokenData:
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = padded.encode("ascii")
        plain = fernet.decrypt(raw)
        fields = msgpack.unpackb(plain)
        version, user_id, methods, project_id, domain_id, expires, audit_ids, app_cred, issued = fields[:9]
        system = bool(fields[9]) if len(fields) > 9 else False  # tokens issued before system scope existed
    except (InvalidToken, UnicodeEncodeError, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise MalformedToken(str(exc)) from exc
    if version != VERSION:
        raise MalformedToken(f"unknown token payload version {version}")
    return TokenData(
        user_id=user_id,
        methods=_int_to_methods(methods),
        expires_at=dt.datetime.fromtimestamp(expires, dt.UTC).replace(tzinfo=None),
        audit_ids=tuple(audit_ids),
        project_id=project_id,
        domain_id=domain_id,
        application_credential_id=app_cred,
        issued_at=dt.datetime.fromtimestamp(issued, dt.UTC).replace(tzinfo=None),
        system=system,
    )
