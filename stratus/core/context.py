"""Who is making a request: the validated token's identity, scope and roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RequestContext:
    """Built by the auth middleware from a validated token; passed to policy and services."""

    user_id: str
    user_name: str = ""
    user_domain_id: str = ""
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    system_scope: str | None = None  # "all" for a system-scoped token
    roles: frozenset[str] = field(default_factory=frozenset)
    token: str = field(default="", repr=False)
    request_id: str = ""
    audit_ids: tuple[str, ...] = ()
    expires_at: datetime | None = None
    methods: tuple[str, ...] = ()
    application_credential_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_role(self, role: str) -> bool:
        return role in self.roles
