"""Domain-specific configuration (``/v3/domains/{id}/config``): identity back-end options per domain.

As in Keystone only the ``identity`` and ``ldap`` groups may be set, with a known list of options; the
LDAP password is stored but never shown. Stratus keeps every domain's users in SQL: the options are
recorded for clients that read them, not acted upon.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest, Forbidden, NotFound
from stratus.identity import models
from stratus.identity.resources.common import get_or_404

DEFAULTS: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost",
        "user": None,
        "suffix": "cn=example,cn=com",
        "query_scope": "one",
        "page_size": 0,
        "user_tree_dn": None,
        "user_filter": None,
        "user_objectclass": "inetOrgPerson",
        "user_id_attribute": "cn",
        "user_name_attribute": "sn",
        "user_mail_attribute": "mail",
        "user_enabled_attribute": "enabled",
        "group_tree_dn": None,
        "group_filter": None,
        "group_objectclass": "groupOfNames",
        "group_id_attribute": "cn",
        "group_name_attribute": "ou",
        "group_member_attribute": "member",
        "group_desc_attribute": "description",
        "use_tls": False,
        "tls_req_cert": "demand",
    },
}
"""The options a domain may set, with the defaults ``GET /v3/domains/config/default`` shows."""
SENSITIVE = {"ldap": {"password"}}
"""Options that may be set but are never returned."""


def _check_group(group: str) -> None:
    if group not in DEFAULTS:
        raise Forbidden(f"Invalid domain specific configuration: group {group!r} is not one of identity, ldap.")


def _check_option(group: str, option: str) -> None:
    _check_group(group)
    if option not in DEFAULTS[group] and option not in SENSITIVE.get(group, ()):
        raise Forbidden(f"Invalid domain specific configuration: option {option!r} is not allowed in {group}.")


def validate(config: Any) -> dict[str, dict[str, Any]]:
    """``{group: {option: value}}`` with known groups and options; anything else is a 400/403."""
    if not isinstance(config, dict) or not config:
        raise BadRequest("'config' must be a non-empty object of groups.")
    for group, options in config.items():
        if not isinstance(options, dict) or not options:
            raise BadRequest(f"Config group {group!r} must be a non-empty object of options.")
        for option in options:
            _check_option(group, option)
    return {g: dict(o) for g, o in config.items()}


def visible(config: dict[str, dict[str, Any]], group: str | None = None, option: str | None = None) -> dict[str, Any]:
    """What the API shows: sensitive options left out; one group, or one option, on request."""
    shown = {g: {k: v for k, v in o.items() if k not in SENSITIVE.get(g, ())} for g, o in config.items()}
    if group is None:
        return shown
    if group not in shown:
        raise NotFound(f"Could not find config group {group}.")
    if option is None:
        return {group: shown[group]}
    if option not in shown[group]:
        raise NotFound(f"Could not find config option {option} in group {group}.")
    return {option: shown[group][option]}


def default(group: str | None = None, option: str | None = None) -> dict[str, Any]:
    if group is not None:
        _check_group(group)
    if option is not None:
        _check_option(group or "", option)
    return visible(DEFAULTS, group, option)


def get(session: Session, domain_id: str) -> models.DomainConfig:
    get_or_404(session, models.Domain, domain_id)
    row = session.get(models.DomainConfig, domain_id)
    if row is None:
        raise NotFound(f"Could not find domain config for domain {domain_id}.")
    return row


def replace(session: Session, domain_id: str, config: Any) -> bool:
    """Set the whole config (``PUT``); True when the domain had none before."""
    get_or_404(session, models.Domain, domain_id)
    config = validate(config)
    row = session.get(models.DomainConfig, domain_id)
    created = row is None
    if row is None:
        session.add(models.DomainConfig(domain_id=domain_id, config=config))
    else:
        row.config = config
    session.flush()
    return created


def update(session: Session, domain_id: str, config: Any, group: str | None = None, option: str | None = None) -> None:
    """Merge options into the config (``PATCH``), optionally limited to one group or one option."""
    row = get(session, domain_id)
    if option is not None:
        assert group is not None
        if not isinstance(config, dict) or set(config) != {option}:
            raise BadRequest(f"The body must set exactly the option {option}.")
        config = {group: config}
    elif group is not None and (not isinstance(config, dict) or set(config) != {group}):
        raise BadRequest(f"The body must set options of the group {group} only.")
    changes = validate(config)
    merged = {g: dict(o) for g, o in row.config.items()}
    for g, options in changes.items():
        if (group is not None) and g not in merged:
            raise NotFound(f"Could not find config group {g}.")
        if option is not None and option not in merged.get(g, {}):
            raise NotFound(f"Could not find config option {option} in group {g}.")
        merged.setdefault(g, {}).update(options)
    row.config = merged
    session.flush()


def delete(session: Session, domain_id: str, group: str | None = None, option: str | None = None) -> None:
    row = get(session, domain_id)
    if group is None:
        session.delete(row)
        session.flush()
        return
    merged = {g: dict(o) for g, o in row.config.items()}
    if group not in merged:
        raise NotFound(f"Could not find config group {group}.")
    if option is None:
        del merged[group]
    elif option in merged[group]:
        del merged[group][option]
        if not merged[group]:
            del merged[group]
    else:
        raise NotFound(f"Could not find config option {option} in group {group}.")
    row.config = merged
    session.flush()
