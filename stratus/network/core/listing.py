"""List queries over rendered resources: filters, ``fields``, sorting and marker pagination with links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from stratus.network.errors import NeutronBadRequest, not_found

CONTROL = frozenset({"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"})
IGNORED_FILTERS = frozenset({"tags", "tags-any", "not-tags", "not-tags-any", "shared"})


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _matches(item: dict[str, Any], key: str, wanted: list[str]) -> bool:
    value = item.get(key)
    if key == "fixed_ips":
        return _fixed_ips_match(value or [], wanted)
    if isinstance(value, list):
        return any(_as_text(v) in wanted for v in value)
    text = _as_text(value)
    return text.lower() in {w.lower() for w in wanted} if isinstance(value, bool) else text in wanted


def _fixed_ips_match(allocations: list[dict[str, Any]], wanted: list[str]) -> bool:
    """``fixed_ips=ip_address=X`` / ``subnet_id=Y`` / ``ip_address_substr=Z`` (ip-substring-filtering):
    one allocation must match every given key (any of the values given for a key)."""
    conditions: dict[str, list[str]] = {}
    for item in wanted:
        key, sep, value = item.partition("=")
        if not sep:
            raise NeutronBadRequest(f"Invalid input for fixed_ips. Reason: '{item}' is not of the form <key>=[value].")
        if key in ("ip_address", "subnet_id", "ip_address_substr"):  # other keys are ignored, as Neutron does
            conditions.setdefault(key, []).append(value)

    def matches(alloc: dict[str, Any]) -> bool:
        for key, values in conditions.items():
            if key == "ip_address_substr":
                if not any(v in alloc.get("ip_address", "") for v in values):
                    return False
            elif alloc.get(key) not in values:
                return False
        return True

    return any(matches(a) for a in allocations)


def _filters(params: list[tuple[str, str]], known: set[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in params:
        if key in CONTROL or key in IGNORED_FILTERS and key not in known:
            continue
        if key not in known:
            raise NeutronBadRequest(f"['{key}'] is invalid attribute for filtering")
        out.setdefault(key, []).append(value)
    return out


def _sort_key(keys: list[tuple[str, bool]]) -> Any:
    def key(item: dict[str, Any]) -> tuple[Any, ...]:
        return tuple((item.get(k) is not None, _as_text(item.get(k))) for k, _ in keys)

    return key


def _sort(items: list[dict[str, Any]], params: list[tuple[str, str]], known: set[str]) -> list[dict[str, Any]]:
    keys = [v for k, v in params if k == "sort_key"]
    dirs = [v for k, v in params if k == "sort_dir"]
    if dirs and len(dirs) != len(keys):
        raise NeutronBadRequest("The number of sort_keys and sort_dirs must be same")
    for key in keys:
        if key not in known:
            raise NeutronBadRequest(f"{key} is an invalid attribute for sort_key")
    for d in dirs:
        if d not in ("asc", "desc"):
            raise NeutronBadRequest(f"{d} is an invalid value for sort_dir, valid value is 'asc' and 'desc'")
    order = [(k, (dirs[i] if dirs else "asc") == "desc") for i, k in enumerate(keys)]
    order.append(("id", order[-1][1] if order else False))
    for key, reverse in reversed(order):  # stable sorts, least significant key first
        items = sorted(items, key=_sort_key([(key, reverse)]), reverse=reverse)
    return items


def _limit(params: list[tuple[str, str]], limit_max: int) -> int | None:
    raw = [v for k, v in params if k == "limit"]
    if not raw:
        return None
    try:
        limit = int(raw[-1])
    except ValueError:
        raise NeutronBadRequest(f"Limit must be an integer 0 or greater and not '{raw[-1]}'") from None
    if limit < 0:
        raise NeutronBadRequest(f"Limit must be an integer 0 or greater and not '{raw[-1]}'")
    return min(limit, limit_max) if limit else None


def select_fields(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k in fields} if fields else item


def query(
    items: list[dict[str, Any]], params: list[tuple[str, str]], *, collection: str, path: str, limit_max: int
) -> dict[str, Any]:
    """The list document ``{collection: [...], collection_links: [...]}`` for query ``params``."""
    known = set(items[0]) if items else set()
    known |= {"id", "name", "project_id", "tenant_id", "status", "description"} | _extra_known(collection)
    for key, wanted in _filters(params, known).items():
        items = [i for i in items if _matches(i, key, wanted)]
    items = _sort(items, params, known)
    limit = _limit(params, limit_max)
    marker = next((v for k, v in reversed(params) if k == "marker"), None)
    reverse = any(k == "page_reverse" and v.lower() == "true" for k, v in params)
    links: list[dict[str, str]] = []
    if marker is not None:
        pos = next((n for n, i in enumerate(items) if i["id"] == marker), None)
        if pos is None:
            raise not_found("Marker", marker)
        items = items[:pos] if reverse else items[pos + 1 :]
    if limit is not None:
        more = len(items) > limit
        page = items[-limit:] if reverse else items[:limit]
        kept = [(k, v) for k, v in params if k not in ("marker", "page_reverse", "limit")] + [("limit", str(limit))]
        if page and (more or reverse and marker):
            links.append({"rel": "next", "href": f"{path}?{urlencode([*kept, ('marker', page[-1]['id'])])}"})
        if page and (marker or reverse and more):
            prev = [*kept, ("marker", page[0]["id"]), ("page_reverse", "True")]
            links.append({"rel": "previous", "href": f"{path}?{urlencode(prev)}"})
        items = page
    fields = [v for k, v in params if k == "fields"]
    doc: dict[str, Any] = {collection: [select_fields(i, fields) for i in items]}
    if links:
        doc[f"{collection}_links"] = links
    return doc


def _extra_known(collection: str) -> set[str]:
    return {
        "ports": {"network_id", "device_id", "device_owner", "mac_address", "fixed_ips", "binding:host_id"},
        "subnets": {"network_id", "cidr", "ip_version", "gateway_ip", "enable_dhcp"},
        "networks": {"shared", "router:external", "admin_state_up", "mtu"},
        "floatingips": {"floating_network_id", "port_id", "router_id", "floating_ip_address", "fixed_ip_address"},
        "security_group_rules": {"security_group_id", "direction", "ethertype", "protocol", "remote_group_id"},
        "agents": {"agent_type", "binary", "host", "alive", "admin_state_up", "availability_zone", "topic"},
    }.get(collection, set())
