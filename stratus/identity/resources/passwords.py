"""Password hashing with bcrypt (cost from ``[identity] password_hash_rounds``)."""

from __future__ import annotations

import bcrypt

from stratus.core.exceptions import BadRequest

MAX_PASSWORD_LENGTH = 4096
BCRYPT_MAX_BYTES = 72
"""bcrypt reads at most 72 bytes; longer passwords are truncated the same way on hash and check."""


def _secret(password: str) -> bytes:
    return password.encode("utf-8")[:BCRYPT_MAX_BYTES]


def hash_password(password: str, rounds: int) -> str:
    """A bcrypt hash of ``password``; 400 for an empty or over-long password."""
    if not password:
        raise BadRequest("Invalid input for field 'password': it must not be empty.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(f"Invalid input for field 'password': longer than {MAX_PASSWORD_LENGTH} characters.")
    return bcrypt.hashpw(_secret(password), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches the stored hash (False for users without a password)."""
    if not password_hash or not password or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return bcrypt.checkpw(_secret(password), password_hash.encode("ascii"))
    except ValueError:
        return False
