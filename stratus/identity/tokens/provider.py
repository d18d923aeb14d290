"""Issuing, validating and revoking Fernet tokens."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.api.auth import context_from_token_body
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Forbidden, NotFound, Unauthorized
from stratus.identity import conf, revocation
from stratus.identity.assignments import effective_role_ids
from stratus.identity.models import Domain, Project, RevocationEvent, User
from stratus.identity.tokens import keys, methods
from stratus.identity.tokens.methods import AUTH_FAILED, Authenticated, obj, text
from stratus.identity.tokens.payload import MalformedToken, TokenData, pack, unpack
from stratus.identity.tokens.render import token_document

if TYPE_CHECKING:
    from stratus.identity.service import IdentityService

TOKEN_NOT_FOUND = "Could not recognize Fernet token"


@dataclass(frozen=True)
class Scope:
    """What a token is scoped to: a project, a domain, the system, or nothing (unscoped)."""

    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False

    @property
    def scoped(self) -> bool:
        return bool(self.project_id or self.domain_id or self.system)


def new_audit_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


class TokenProvider:
    """Everything about tokens; also the validator the identity API authenticates requests with."""

    def __init__(self, service: IdentityService):
        self._service = service
        self._conf = service.conf
        self.keyring = keys.KeyRing(conf.key_repository(service.config, service.conf))

    @property
    def validator(self) -> TokenProvider:
        return self

    # -- issue ---------------------------------------------------------------------------------

    def authenticate(self, body: Any, *, include_catalog: bool = True) -> tuple[str, dict[str, Any]]:
        """``POST /v3/auth/tokens``: returns (token id, token document)."""
        auth = obj(obj(body, "").get("auth"), "auth")
        identity = obj(auth.get("identity"), "auth.identity")
        method_names = identity.get("methods")
        if not isinstance(method_names, list) or not method_names or not all(isinstance(m, str) for m in method_names):
            raise BadRequest("'auth.identity.methods' must be a non-empty list of strings.")
        with self._service.db.reader() as session:
            who = self._run_methods(session, identity, method_names)
            scope = self._resolve_scope(session, auth.get("scope"), who)
            return self._issue(session, who, scope, include_catalog)

    def _run_methods(self, session: Session, identity: dict[str, Any], names: list[str]) -> Authenticated:
        results: list[Authenticated] = []
        for name in dict.fromkeys(names):
            part = obj(identity.get(name), f"auth.identity.{name}")
            if name == "password":
                results.append(methods.password(session, part))
            elif name == "token":
                results.append(self._token_method(session, part))
            elif name == "application_credential":
                results.append(methods.application_credential(session, part))
            else:
                raise Unauthorized(f"Attempted to authenticate with an unsupported method: {name}.")
        if len({r.user_id for r in results}) != 1:
            raise Unauthorized(AUTH_FAILED)
        first = results[0]
        merged = tuple(dict.fromkeys(m for r in results for m in r.methods))
        parent = next((r for r in results if r.parent_audit_ids), None)
        cred = next((r.application_credential for r in results if r.application_credential), None)
        return Authenticated(
            user_id=first.user_id,
            methods=merged,
            expires_at=parent.expires_at if parent else None,
            parent_audit_ids=parent.parent_audit_ids if parent else (),
            application_credential=cred,
            parent_project_id=parent.parent_project_id if parent else None,
            parent_domain_id=parent.parent_domain_id if parent else None,
            parent_system=parent.parent_system if parent else False,
        )

    def _token_method(self, session: Session, part: dict[str, Any]) -> Authenticated:
        token_id = text(part, "id", "auth.identity.token") or ""
        try:
            data = self._check(session, token_id)
        except NotFound:
            raise Unauthorized(AUTH_FAILED) from None
        if data.application_credential_id:
            raise Forbidden("Application credential tokens cannot be used to obtain new tokens.")
        return Authenticated(
            user_id=data.user_id,
            methods=tuple(dict.fromkeys((*data.methods, "token"))),
            expires_at=data.expires_at,
            parent_audit_ids=data.audit_ids,
            parent_project_id=data.project_id,
            parent_domain_id=data.domain_id,
            parent_system=data.system,
        )

    def _resolve_scope(self, session: Session, scope: Any, who: Authenticated) -> Scope:
        cred = who.application_credential
        if scope is None:
            if cred is not None:
                return Scope(project_id=cred.project_id)
            if who.parent_audit_ids:
                return Scope(who.parent_project_id, who.parent_domain_id, who.parent_system)
            user = session.get(User, who.user_id)
            if user is not None and user.default_project_id:
                project = session.get(Project, user.default_project_id)
                if project is not None and project.enabled and self._roles(session, who, Scope(project.id)):
                    return Scope(project_id=project.id)
            return Scope()
        if scope == "unscoped":
            return Scope()
        scope = obj(scope, "auth.scope")
        if "project" in scope:
            project = self._find_project(session, obj(scope["project"], "auth.scope.project"))
            if cred is not None and project.id != cred.project_id:
                raise Unauthorized(AUTH_FAILED)
            if not self._roles(session, who, Scope(project_id=project.id)):
                raise Unauthorized(f"User {who.user_id} has no access to project {project.id}")
            return Scope(project_id=project.id)
        if "domain" in scope:
            if cred is not None:
                raise Unauthorized("Application credentials cannot request a domain scope.")
            domain = methods.find_domain(session, obj(scope["domain"], "auth.scope.domain"), "auth.scope.domain")
            if not self._roles(session, who, Scope(domain_id=domain.id)):
                raise Unauthorized(f"User {who.user_id} has no access to domain {domain.id}")
            return Scope(domain_id=domain.id)
        if "system" in scope:
            system = obj(scope["system"], "auth.scope.system")
            if system.get("all") is not True:
                raise BadRequest("'auth.scope.system' must be {\"all\": true}.")
            if cred is not None:
                raise Unauthorized("Application credentials cannot request a system scope.")
            if not self._roles(session, who, Scope(system=True)):
                raise Unauthorized(f"User {who.user_id} has no access to the system")
            return Scope(system=True)
        raise BadRequest("'auth.scope' must name a project, a domain or the system.")

    def _find_project(self, session: Session, ref: dict[str, Any]) -> Project:
        project_id = text(ref, "id", "auth.scope.project", required=False)
        if project_id is not None:
            project = session.get(Project, project_id)
        else:
            name = text(ref, "name", "auth.scope.project")
            domain = methods.find_domain(session, obj(ref.get("domain"), "auth.scope.project.domain"), "domain")
            stmt = sa.select(Project).where(Project.name == name, Project.domain_id == domain.id)
            project = session.scalars(stmt).first()
        if project is None:
            raise Unauthorized(AUTH_FAILED)
        domain_row = session.get(Domain, project.domain_id)
        if not project.enabled or domain_row is None or not domain_row.enabled:
            raise Unauthorized(f"Project {project.id} is disabled.")
        return project

    def _roles(self, session: Session, who: Authenticated, scope: Scope) -> set[str]:
        """The user's effective roles on the scope (none when unscoped), limited by an application credential."""
        if not scope.scoped:
            return set()
        roles = effective_role_ids(
            session, who.user_id, project_id=scope.project_id, domain_id=scope.domain_id, system=scope.system
        )
        if who.application_credential is not None:
            roles &= set(who.application_credential.role_ids)
        return roles

    def _issue(self, session: Session, who: Authenticated, scope: Scope, catalog: bool) -> tuple[str, dict[str, Any]]:
        now = utcnow()
        expires = now + dt.timedelta(seconds=self._conf.token_expiration)
        if who.expires_at is not None:
            expires = min(expires, who.expires_at)
        audit_ids = (new_audit_id(), *who.parent_audit_ids[-1:])
        cred = who.application_credential
        if cred is not None and cred.expires_at is not None:
            expires = min(expires, cred.expires_at)
        data = TokenData(
            user_id=who.user_id,
            methods=who.methods,
            expires_at=expires,
            audit_ids=audit_ids,
            project_id=scope.project_id,
            domain_id=scope.domain_id,
            application_credential_id=cred.id if cred else None,
            issued_at=now,
            system=scope.system,
        )
        token_id = pack(self.keyring.fernet(), data)
        roles = self._roles(session, who, scope)
        return token_id, token_document(session, data, roles, include_catalog=catalog)

    # -- validate ------------------------------------------------------------------------------

    def _check(self, session: Session, token_id: str, *, allow_expired: bool = False) -> TokenData:
        """Decrypt and check expiry, revocation, and that user and scope are still valid."""
        try:
            data = unpack(self.keyring.fernet(), token_id)
        except MalformedToken:
            raise NotFound(TOKEN_NOT_FOUND) from None
        now = utcnow()
        window = dt.timedelta(seconds=self._conf.allow_expired_window if allow_expired else 0)
        if data.expires_at + window <= now:
            raise NotFound("The token has expired.")
        if self._is_revoked(session, data):
            raise NotFound("The token has been revoked.")
        user = session.get(User, data.user_id)
        if user is None or not user.enabled:
            raise NotFound("The token's user is disabled or was deleted.")
        if data.project_id:
            project = session.get(Project, data.project_id)
            if project is None or not project.enabled:
                raise NotFound("The token's project is disabled or was deleted.")
        if data.domain_id:
            domain = session.get(Domain, data.domain_id)
            if domain is None or not domain.enabled:
                raise NotFound("The token's domain is disabled or was deleted.")
        return data

    def _is_revoked(self, session: Session, data: TokenData) -> bool:
        E = RevocationEvent
        matches = sa.and_(
            sa.or_(E.audit_id.is_(None), E.audit_id.in_(data.audit_ids)),
            sa.or_(E.user_id.is_(None), E.user_id == data.user_id),
            sa.or_(E.project_id.is_(None), E.project_id == data.project_id),
            sa.or_(E.domain_id.is_(None), E.domain_id == data.domain_id),
            sa.or_(
                E.application_credential_id.is_(None), E.application_credential_id == data.application_credential_id
            ),
        )
        stmt = sa.select(E.id).where(E.issued_before >= data.issued_at, matches).limit(1)
        return session.scalar(stmt) is not None

    def document(self, token_id: str, *, allow_expired: bool = False, include_catalog: bool = True) -> dict[str, Any]:
        """The token document for a valid token (``GET /v3/auth/tokens``); NotFound otherwise."""
        with self._service.db.reader() as session:
            data = self._check(session, token_id, allow_expired=allow_expired)
            who = self._as_authenticated(session, data)
            roles = self._roles(session, who, Scope(data.project_id, data.domain_id, data.system))
            if data.scoped and not roles:
                raise NotFound("The token's user no longer has a role on its scope.")
            return token_document(session, data, roles, include_catalog=include_catalog)

    def _as_authenticated(self, session: Session, data: TokenData) -> Authenticated:
        from stratus.identity.models import ApplicationCredential

        cred = (
            session.get(ApplicationCredential, data.application_credential_id)
            if data.application_credential_id
            else None
        )
        if data.application_credential_id and cred is None:
            raise NotFound("The token's application credential was deleted.")
        return Authenticated(user_id=data.user_id, methods=data.methods, application_credential=cred)

    def validate(self, token: str) -> RequestContext:
        """The request context for ``X-Auth-Token`` (401 when the token is not valid)."""
        try:
            body = self.document(token, include_catalog=False)
        except NotFound:
            raise Unauthorized("The request you have made requires authentication.") from None
        return context_from_token_body(body, token)

    def revoke(self, token_id: str) -> None:
        """``DELETE /v3/auth/tokens``: revoke this token (by its audit id)."""
        with self._service.db.session() as session:
            data = self._check(session, token_id)
            revocation.revoke(session, audit_id=data.audit_id)
        self._service.announce_revocation()
