"""Policy: small composable checks, rules declared per service in ``<service>/policies.py``.

The three personas are roles, as in upstream's default policies: ``admin`` (everything, in any
project), ``member`` (write within its own project) and ``reader`` (read within its own project).
Roles imply each other (admin > member > reader); the identity service expands implied roles into
the token, so a check for ``reader`` also passes for a member or an admin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stratus.core.context import RequestContext
from stratus.core.exceptions import Forbidden

Target = Mapping[str, Any]


class Check:
    """A predicate over (context, target); combine with ``&`` and ``|``."""

    def __init__(self, fn: Callable[[RequestContext, Target], bool], text: str):
        self._fn = fn
        self.text = text

    def __call__(self, ctx: RequestContext, target: Target) -> bool:
        return self._fn(ctx, target)

    def __and__(self, other: Check) -> Check:
        return Check(lambda c, t: self(c, t) and other(c, t), f"({self.text} and {other.text})")

    def __or__(self, other: Check) -> Check:
        return Check(lambda c, t: self(c, t) or other(c, t), f"({self.text} or {other.text})")

    def __repr__(self) -> str:
        return f"Check({self.text})"


def role(name: str) -> Check:
    return Check(lambda ctx, _t: name in ctx.roles, f"role:{name}")


def target_matches(target_key: str, ctx_attr: str) -> Check:
    """True when ``target[target_key]`` equals the context attribute (e.g. project_id)."""

    def check(ctx: RequestContext, target: Target) -> bool:
        value = getattr(ctx, ctx_attr)
        return value is not None and target.get(target_key) == value

    return Check(check, f"{target_key}:%({ctx_attr})s")


ALWAYS = Check(lambda _c, _t: True, "@")
NEVER = Check(lambda _c, _t: False, "!")
ADMIN = role("admin")
MEMBER = role("member")
READER = role("reader")
PROJECT_SCOPED = target_matches("project_id", "project_id")
OWNER = target_matches("user_id", "user_id")
ADMIN_OR_OWNER = ADMIN | OWNER
PROJECT_MEMBER = ADMIN | (MEMBER & PROJECT_SCOPED)
PROJECT_READER = ADMIN | (READER & PROJECT_SCOPED)


@dataclass(frozen=True)
class Rule:
    name: str
    check: Check
    description: str = ""


class Enforcer:
    """Holds the rules of one or more services and enforces them by name."""

    def __init__(self, rules: Iterable[Rule] = ()):
        self._rules: dict[str, Rule] = {}
        self.register(rules)

    def register(self, rules: Iterable[Rule]) -> None:
        for rule in rules:
            if rule.name in self._rules:
                raise ValueError(f"policy rule {rule.name} registered twice")
            self._rules[rule.name] = rule

    def rules(self) -> list[Rule]:
        return list(self._rules.values())

    def authorize(self, ctx: RequestContext, name: str, target: Target | None = None) -> bool:
        try:
            rule = self._rules[name]
        except KeyError:
            raise LookupError(f"no policy rule named {name}") from None
        return rule.check(ctx, target or {})

    def enforce(self, ctx: RequestContext, name: str, target: Target | None = None) -> None:
        if not self.authorize(ctx, name, target):
            raise Forbidden(f"You are not authorized to perform the requested action: {name}.")
