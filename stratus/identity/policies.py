"""Identity's policy rules (names as in Keystone), with admin / member / reader personas."""

from __future__ import annotations

from stratus.core.context import RequestContext
from stratus.core.policy import ADMIN, ALWAYS, OWNER, READER, Check, Rule, target_matches


def _system_scoped(ctx: RequestContext, _target: object) -> bool:
    return ctx.system_scope == "all"


SYSTEM_SCOPED = Check(_system_scoped, "system_scope:all")
SYSTEM_READER = READER & SYSTEM_SCOPED
"""A reader on the system (Keystone's ``system_reader``): reads everything."""
DOMAIN_READER = READER & target_matches("domain_id", "domain_id")
"""A reader with a token scoped to the target's domain (as upstream: a project token is not enough)."""
PROJECT_USER = target_matches("project_id", "project_id")
"""Any role on the target project."""
ADMIN_OR_DOMAIN_READER = ADMIN | SYSTEM_READER | DOMAIN_READER
TOKEN_DOMAIN = target_matches("id", "domain_id") | target_matches("id", "project_domain_id")
"""The target is the domain the token is scoped to, or the domain of its project."""


def _rules(names: str, check: Check, description: str = "") -> list[Rule]:
    return [Rule(f"identity:{n}", check, description) for n in names.split()]


RULES: list[Rule] = [
    *_rules("list_domains", ADMIN | SYSTEM_READER),
    *_rules("create_domain update_domain delete_domain", ADMIN),
    *_rules(
        "get_domain",
        ADMIN | SYSTEM_READER | target_matches("id", "domain_id") | target_matches("id", "project_domain_id"),
    ),
    *_rules("list_projects", ADMIN_OR_DOMAIN_READER),
    *_rules("get_project", ADMIN_OR_DOMAIN_READER | target_matches("id", "project_id")),
    *_rules("create_project update_project delete_project", ADMIN),
    *_rules("list_project_tags get_project_tag", ADMIN_OR_DOMAIN_READER | PROJECT_USER),
    *_rules("update_project_tags delete_project_tags create_project_tag delete_project_tag", ADMIN),
    *_rules("list_user_projects list_groups_for_user", ADMIN | SYSTEM_READER | OWNER),
    *_rules("list_users", ADMIN_OR_DOMAIN_READER),
    *_rules("get_user", ADMIN_OR_DOMAIN_READER | target_matches("id", "user_id")),
    *_rules("create_user update_user delete_user", ADMIN),
    *_rules("change_password", ALWAYS, "Unenforced, as in Keystone: the original password is the proof."),
    *_rules("list_groups get_group list_users_in_group check_user_in_group", ADMIN_OR_DOMAIN_READER),
    *_rules("create_group update_group delete_group add_user_to_group remove_user_from_group", ADMIN),
    *_rules("list_roles get_role", ADMIN | READER),
    *_rules("create_role update_role delete_role", ADMIN),
    *_rules("list_implied_roles get_implied_role list_role_inference_rules", ADMIN | READER),
    *_rules("create_implied_role delete_implied_role", ADMIN),
    *_rules("list_role_assignments", ADMIN_OR_DOMAIN_READER),
    *_rules("list_grants check_grant", ADMIN_OR_DOMAIN_READER),
    *_rules("create_grant revoke_grant", ADMIN),
    *_rules("list_system_grants_for_user check_system_grant_for_user", ADMIN | SYSTEM_READER | OWNER),
    *_rules("list_system_grants_for_group check_system_grant_for_group", ADMIN | SYSTEM_READER),
    *_rules("create_system_grant_for_user revoke_system_grant_for_user", ADMIN),
    *_rules("create_system_grant_for_group revoke_system_grant_for_group", ADMIN),
    *_rules("list_regions get_region", ALWAYS),
    *_rules("create_region update_region delete_region", ADMIN),
    *_rules("list_services get_service list_endpoints get_endpoint", ADMIN | READER),
    *_rules("create_service update_service delete_service", ADMIN),
    *_rules("create_endpoint update_endpoint delete_endpoint", ADMIN),
    *_rules("list_application_credentials get_application_credential", ADMIN | SYSTEM_READER | OWNER),
    *_rules("create_application_credential delete_application_credential", ADMIN | OWNER),
    *_rules("get_credential list_credentials", ADMIN | SYSTEM_READER | OWNER, "Target user_id owns the credential."),
    *_rules("create_credential update_credential delete_credential", ADMIN | OWNER),
    *_rules("ec2_get_credential ec2_list_credentials", ADMIN | SYSTEM_READER | OWNER),
    *_rules("ec2_create_credential ec2_delete_credential", ADMIN | OWNER),
    *_rules("list_policies get_policy", ADMIN | SYSTEM_READER),
    *_rules("create_policy update_policy delete_policy", ADMIN),
    *_rules("list_endpoint_groups get_endpoint_group", ADMIN | SYSTEM_READER),
    *_rules("list_endpoints_associated_with_endpoint_group", ADMIN | SYSTEM_READER),
    *_rules("create_endpoint_group update_endpoint_group delete_endpoint_group", ADMIN),
    *_rules("list_consumers get_consumer", ADMIN | SYSTEM_READER),
    *_rules("create_consumer update_consumer delete_consumer", ADMIN),
    *_rules("get_domain_config get_domain_config_default", ADMIN | SYSTEM_READER),
    *_rules("create_domain_config update_domain_config delete_domain_config", ADMIN),
    *_rules("validate_token check_token revoke_token", ADMIN | OWNER, "Target user_id is the token subject."),
    *_rules("get_auth_catalog get_auth_projects get_auth_domains get_auth_system", ALWAYS),
]
