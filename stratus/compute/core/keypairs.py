"""Key pairs: per user; imported (ssh or x509) or generated (ssh, before 2.92)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from stratus.compute import models
from stratus.compute.core import quotas
from stratus.compute.core.base import Deps, paginate
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Conflict, NotFound

NAME_RE = re.compile(r"^[a-zA-Z0-9 _.@-]+$")


def ssh_fingerprint(public_key: str) -> str:
    """MD5 of the key blob, colon-separated (as ``ssh-keygen -E md5 -l``).

    Any key cryptography cannot load is the client's error (400), whatever it raises: ValueError for a
    malformed blob, UnsupportedAlgorithm for an unknown key type such as ``not a key``.
    """
    try:
        load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.split()[1])
    except (ValueError, IndexError, UnicodeError, TypeError, UnsupportedAlgorithm):
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def x509_fingerprint(certificate: str) -> str:
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except (ValueError, UnicodeError, UnsupportedAlgorithm):
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER), usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 40, 2))


def generate() -> tuple[str, str]:
    """(private key PEM, OpenSSH public key) of a new 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, public + " Generated-by-Stratus"


def generate_x509(user_id: str) -> tuple[str, str]:
    """(private key PEM, certificate PEM): Nova's self-signed WinRM client certificate for ``user_id``."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
    upn = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")  # Microsoft User Principal Name
    upn_value = f"{user_id}@localhost".encode()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.OtherName(upn, b"\x0c" + bytes([len(upn_value)]) + upn_value)]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


class KeyPairManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _owner(self, ctx: RequestContext, rule: str, user_id: str | None) -> str:
        owner = user_id or ctx.user_id
        self.deps.enforcer.enforce(ctx, f"os_compute_api:os-keypairs:{rule}", {"user_id": owner})
        return owner

    def list(self, ctx: RequestContext, user_id: str | None, limit: Any, marker: str | None) -> list[models.KeyPair]:
        owner = self._owner(ctx, "index", user_id)
        with self.deps.db.reader() as session:
            query = sa.select(models.KeyPair).where(models.KeyPair.user_id == owner).order_by(models.KeyPair.name)
            rows = list(session.scalars(query))
        return paginate(rows, lambda k: k.name, limit, marker, self.deps.conf.max_limit)

    def show(self, ctx: RequestContext, name: str, user_id: str | None = None) -> models.KeyPair:
        owner = self._owner(ctx, "show", user_id)
        with self.deps.db.reader() as session:
            return self._get(session, owner, name)

    @staticmethod
    def _get(session: Any, owner: str, name: str) -> models.KeyPair:
        row = session.scalar(
            sa.select(models.KeyPair).where(models.KeyPair.user_id == owner, models.KeyPair.name == name)
        )
        if row is None:
            raise NotFound(f"Keypair {name} not found for user {owner}")
        return row

    def create(
        self, ctx: RequestContext, body: dict[str, Any], *, allow_generate: bool = True
    ) -> tuple[models.KeyPair, str | None]:
        """Import or generate a key pair; returns it and the private key if generated."""
        owner = self._owner(ctx, "create", body.get("user_id"))
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 255 or not NAME_RE.match(name):
            raise BadRequest(
                "Keypair data is invalid: Keypair name contains unsafe characters or has an invalid length"
            )
        key_type = body.get("type", "ssh")
        if key_type not in ("ssh", "x509"):
            raise BadRequest(f"Invalid input for field/attribute type. Value: {key_type}. Must be 'ssh' or 'x509'.")
        public_key, private_key = body.get("public_key"), None
        if public_key is None:
            if not allow_generate:
                raise BadRequest("Invalid input for field/attribute keypair. 'public_key' is a required property")
            private_key, public_key = generate() if key_type == "ssh" else generate_x509(owner)
        if not isinstance(public_key, str) or not public_key.strip():
            raise BadRequest("Keypair data is invalid: failed to generate fingerprint")
        fingerprint = x509_fingerprint(public_key) if key_type == "x509" else ssh_fingerprint(public_key)
        with self.deps.db.session() as session:
            quotas.lock_project(session, f"user:{owner}")
            limit = quotas.limits(session, self.deps.conf, ctx.project_id or "")["key_pairs"]
            count = (
                session.scalar(sa.select(sa.func.count(models.KeyPair.id)).where(models.KeyPair.user_id == owner)) or 0
            )
            if 0 <= limit <= count:
                raise quotas.OverQuota("Quota exceeded, too many key pairs.")
            if session.scalar(
                sa.select(models.KeyPair.id).where(models.KeyPair.user_id == owner, models.KeyPair.name == name)
            ):
                raise Conflict(f"Key pair '{name}' already exists.")
            row = models.KeyPair(
                name=name, user_id=owner, fingerprint=fingerprint, public_key=public_key, type=key_type
            )
            session.add(row)
            session.flush()
        return row, private_key

    def delete(self, ctx: RequestContext, name: str, user_id: str | None = None) -> None:
        owner = self._owner(ctx, "delete", user_id)
        with self.deps.db.session() as session:
            session.delete(self._get(session, owner, name))

    def find_for_boot(self, session: Any, ctx: RequestContext, name: str) -> models.KeyPair:
        """The caller's key pair ``name`` for a new server, else 400."""
        row = session.scalar(
            sa.select(models.KeyPair).where(models.KeyPair.user_id == ctx.user_id, models.KeyPair.name == name)
        )
        if row is None:
            raise BadRequest("Invalid key_name provided.")
        return row
