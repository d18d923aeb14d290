"""Token revocation events (as Keystone's revoke API): recorded in the database, then announced.

A token is revoked when an event matches it: every non-null field of the event equals the
token's, and the token was issued before ``issued_before``. After the transaction commits, the
caller announces the event on the bus (``IdentityService.announce_revocation``) so every API's
token cache is flushed at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from stratus.core.db import utcnow
from stratus.identity.models import RevocationEvent


def revoke(
    session: Session,
    *,
    audit_id: str | None = None,
    user_id: str | None = None,
    project_id: str | None = None,
    domain_id: str | None = None,
    application_credential_id: str | None = None,
    issued_before: dt.datetime | None = None,
) -> RevocationEvent:
    """Record a revocation event in the caller's transaction."""
    event = RevocationEvent(
        audit_id=audit_id,
        user_id=user_id,
        project_id=project_id,
        domain_id=domain_id,
        application_credential_id=application_credential_id,
        issued_before=issued_before or utcnow(),
    )
    session.add(event)
    return event
