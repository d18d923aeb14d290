"""Compute's policy rules, named as Nova names them (``os_compute_api:...``).

Personas: ``admin`` (any project), ``member`` (write in its own project), ``reader`` (read in its
own project). Targets carry ``project_id`` (the server's or quota's project) and, for key pairs,
``user_id``. A server of another project is a 404 before policy is asked (see core.servers).
"""

from __future__ import annotations

from stratus.core.policy import ADMIN, ALWAYS, MEMBER, PROJECT_MEMBER, PROJECT_READER, READER, Check, Rule, role

ANY_READER = ADMIN | MEMBER | READER
OWN_USER = ADMIN | ((MEMBER | READER) & Check(lambda c, t: t.get("user_id") == c.user_id, "user_id:%(user_id)s"))
OWN_USER_MEMBER = ADMIN | (MEMBER & Check(lambda c, t: t.get("user_id") == c.user_id, "user_id:%(user_id)s"))


def _rules(prefix: str, names: str, check: Check, description: str = "") -> list[Rule]:
    return [Rule(f"os_compute_api:{prefix}{n}", check, description) for n in names.split()]


RULES: list[Rule] = [
    *_rules("servers:", "index detail show", PROJECT_READER),
    *_rules("servers:", "create update delete", PROJECT_MEMBER),
    *_rules("servers:", "start stop reboot rebuild resize confirm_resize revert_resize create_image", PROJECT_MEMBER),
    *_rules("servers:", "index:get_all_tenants detail:get_all_tenants allow_all_filters", ADMIN),
    *_rules("servers:", "create:forced_host show:host_status", ADMIN, "Admin-only details and host targeting."),
    *_rules("servers:", "restore force_delete", PROJECT_MEMBER),
    *_rules("os-admin-actions:", "reset_state", ADMIN, "Force a server's state to active or error."),
    *_rules("os-migrate-server:", "migrate", ADMIN, "Cold-migrate a server to another host."),
    *_rules("os-migrate-server:", "migrate_live", ADMIN, "Live-migrate a server to another host."),
    *_rules("", "os-evacuate", ADMIN, "Rebuild a server whose host is down on another host."),
    *_rules("os-migrations:", "index", ADMIN, "List migration records of every project."),
    *_rules("os-server-external-events:", "create", ADMIN, "Events about servers from other services."),
    *_rules("os-lock-server:", "lock unlock", PROJECT_MEMBER),
    *_rules("os-lock-server:", "unlock:unlock_override", ADMIN, "Unlock a server an admin locked."),
    *_rules("os-pause-server:", "pause unpause", PROJECT_MEMBER),
    *_rules("os-suspend-server:", "suspend resume", PROJECT_MEMBER),
    *_rules("", "os-console-output os-create-backup", PROJECT_MEMBER),
    *_rules("server-metadata:", "index show", PROJECT_READER),
    *_rules("server-metadata:", "create update update_all delete", PROJECT_MEMBER),
    *_rules("os-instance-actions:", "list show events", PROJECT_READER),
    *_rules("os-attach-interfaces:", "list show", PROJECT_READER),
    *_rules("ips:", "index show", PROJECT_READER),
    *_rules("os-server-tags:", "index show", PROJECT_READER),
    *_rules("os-security-groups:", "get show list", PROJECT_READER),
    *_rules("os-security-groups:", "create update delete rule:create rule:delete add remove", PROJECT_MEMBER),
    *_rules("os-floating-ips:", "list show", PROJECT_READER),
    *_rules("os-floating-ips:", "create delete add remove", PROJECT_MEMBER),
    *_rules("os-floating-ip-pools:", "list", ANY_READER),
    *_rules("os-networks:", "list view", PROJECT_READER),
    *_rules("os-tenant-networks:", "list show", PROJECT_READER),
    *_rules("os-server-tags:", "update update_all delete delete_all", PROJECT_MEMBER),
    *_rules("os-instance-actions:", "events:details", ADMIN, "Event tracebacks and hosts."),
    *_rules("", "os-extended-server-attributes", ADMIN, "OS-EXT-SRV-ATTR fields of a server."),
    *_rules("os-flavor-manage:", "create update delete", ADMIN),
    *_rules("os-flavor-extra-specs:", "index show", ANY_READER),
    *_rules("os-flavor-extra-specs:", "create update delete", ADMIN),
    *_rules("os-flavor-access:", "add_tenant_access remove_tenant_access", ADMIN),
    *_rules("", "os-flavor-access", ADMIN, "List the projects a private flavor is shared with."),
    *_rules("flavors:", "index show", ALWAYS),
    *_rules("os-keypairs:", "index show", OWN_USER),
    *_rules("os-keypairs:", "create delete", OWN_USER_MEMBER),
    *_rules("os-server-groups:", "index show", PROJECT_READER),
    *_rules("os-server-groups:", "create delete", PROJECT_MEMBER),
    *_rules("os-server-groups:", "index:all_projects", ADMIN),
    *_rules("os-availability-zone:", "list", ALWAYS),
    *_rules("os-availability-zone:", "detail", ADMIN),
    *_rules("os-aggregates:", "index show create update delete add_host remove_host set_metadata", ADMIN),
    *_rules("os-hypervisors:", "list list-detail show statistics servers uptime", ADMIN),
    *_rules("os-server-diagnostics:", "show", ADMIN),
    *_rules("os-services:", "list update delete", ADMIN),
    *_rules("os-hosts:", "list show update startup shutdown reboot", ADMIN),
    *_rules("os-instance-usage-audit-log:", "list", ADMIN),
    *_rules("", "limits extensions images", ALWAYS),
    *_rules("os-simple-tenant-usage:", "show", PROJECT_READER),
    *_rules("os-simple-tenant-usage:", "list", ADMIN),
    *_rules("limits:", "other_project", ADMIN),
    *_rules("os-quota-sets:", "show detail", PROJECT_READER),
    *_rules("os-quota-sets:", "defaults", ALWAYS),
    *_rules("os-quota-sets:", "update delete", role("admin")),
    *_rules("os-quota-class-sets:", "show update", ADMIN),
]
