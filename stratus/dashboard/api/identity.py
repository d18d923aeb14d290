"""Identity v3 calls the dashboard makes: log in, scope, revoke; and the admin views' projects, users, roles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from stratus.dashboard.api.base import Http, ServiceApi


@dataclass
class TokenInfo:
    """What a token response tells the dashboard (the token itself stays in the session, never in a page)."""

    token: str
    user_id: str
    user_name: str
    domain_name: str
    expires: float
    project_id: str = ""
    project_name: str = ""
    roles: list[str] = field(default_factory=list)
    catalog: list[dict[str, Any]] = field(default_factory=list)


def _expires(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _token_info(token: str, body: dict[str, Any]) -> TokenInfo:
    doc = body["token"]
    project = doc.get("project") or {}
    return TokenInfo(
        token=token,
        user_id=doc["user"]["id"],
        user_name=doc["user"]["name"],
        domain_name=(doc["user"].get("domain") or {}).get("name", ""),
        expires=_expires(doc["expires_at"]),
        project_id=project.get("id", ""),
        project_name=project.get("name", ""),
        roles=[r["name"] for r in doc.get("roles", [])],
        catalog=doc.get("catalog", []),
    )


class Auth:
    """Token calls at the identity root (``http://host:5000``), made before there is a catalog."""

    def __init__(self, http: Http, identity_root: str):
        self._http = http
        self._url = identity_root.rstrip("/") + "/v3/auth/tokens"
        self._projects_url = identity_root.rstrip("/") + "/v3/auth/projects"

    def _issue(self, auth: dict[str, Any]) -> TokenInfo:
        resp = self._http.request("identity", "POST", self._url, json={"auth": auth})
        return _token_info(resp.headers["X-Subject-Token"], resp.json())

    def password(self, user: str, password: str, domain: str) -> TokenInfo:
        """An unscoped token (Keystone scopes it to the user's default project if there is one)."""
        ident = {"methods": ["password"], "password": {"user": {"name": user, "domain": {"name": domain}}}}
        ident["password"]["user"]["password"] = password
        return self._issue({"identity": ident})

    def rescope(self, token: str, project_id: str) -> TokenInfo:
        """A token for ``project_id`` made from ``token`` (the project switcher)."""
        ident = {"methods": ["token"], "token": {"id": token}}
        return self._issue({"identity": ident, "scope": {"project": {"id": project_id}}})

    def projects(self, token: str) -> list[dict[str, Any]]:
        """Projects the token's user has a role on."""
        return self._http.json("identity", "GET", self._projects_url, token=token)["projects"]  # type: ignore[no-any-return]

    def revoke(self, token: str) -> None:
        """Revoke ``token`` (authenticating with itself); an already invalid token is not an error."""
        self._http.request(
            "identity", "DELETE", self._url, token=token, headers={"X-Subject-Token": token}, ok_statuses=(401, 404)
        )


class IdentityAdmin(ServiceApi):
    """The admin views' identity calls (catalog endpoint ``.../v3``)."""

    service = "identity"

    def projects(self) -> list[dict[str, Any]]:
        return self._call("GET", "/projects")["projects"]  # type: ignore[no-any-return]

    def create_project(self, name: str, description: str, domain_id: str = "default") -> dict[str, Any]:
        body = {"project": {"name": name, "description": description, "domain_id": domain_id, "enabled": True}}
        return self._call("POST", "/projects", json=body)["project"]  # type: ignore[no-any-return]

    def users(self) -> list[dict[str, Any]]:
        return self._call("GET", "/users")["users"]  # type: ignore[no-any-return]

    def create_user(
        self, name: str, password: str, email: str, default_project_id: str | None, domain_id: str = "default"
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"name": name, "password": password, "domain_id": domain_id, "enabled": True}
        if email:
            user["email"] = email
        if default_project_id:
            user["default_project_id"] = default_project_id
        return self._call("POST", "/users", json={"user": user})["user"]  # type: ignore[no-any-return]

    def roles(self) -> list[dict[str, Any]]:
        return self._call("GET", "/roles")["roles"]  # type: ignore[no-any-return]

    def grant(self, project_id: str, user_id: str, role_id: str) -> None:
        self._call("PUT", f"/projects/{self._seg(project_id)}/users/{self._seg(user_id)}/roles/{self._seg(role_id)}")

    def revoke_grant(self, project_id: str, user_id: str, role_id: str) -> None:
        self._call("DELETE", f"/projects/{self._seg(project_id)}/users/{self._seg(user_id)}/roles/{self._seg(role_id)}")

    def role_assignments(self) -> list[dict[str, Any]]:
        """Direct project assignments of users, with names."""
        params = {"include_names": "true"}
        return self._call("GET", "/role_assignments", params=params)["role_assignments"]  # type: ignore[no-any-return]
