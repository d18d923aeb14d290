"""Identity's policy rules (names as in Keystone), with admin / member / reader personas."""

from __future__ import annotations

from stratus.core.policy import ADMIN, ALWAYS, OWNER, READER, Check, Rule, target_matches

DOMAIN_READER = READER & target_matches("domain_id", "domain_id")
"""A reader with a token scoped to the target's domain (as upstream: a project token is not enough)."""
PROJECT_USER = target_matches("project_id", "project_id")
"""Any role on the target project."""
ADMIN_OR_DOMAIN_READER = ADMIN | DOMAIN_READER


def _rules(names: str, check: Check, description: str = "") -> list[Rule]:
    return [Rule(f"identity:{n}", check, description) for n in names.split()]


RULES: list[Rule] = [
    *_rules("list_domains create_domain update_domain delete_domain", ADMIN),
    *_rules("get_domain", ADMIN | target_matches("id", "domain_id") | target_matches("id", "project_domain_id")),
    *_rules("list_projects", ADMIN_OR_DOMAIN_READER),
    *_rules("get_project", ADMIN_OR_DOMAIN_READER | target_matches("id", "project_id")),
    *_rules("create_project update_project delete_project", ADMIN),
    *_rules("list_user_projects list_groups_for_user", ADMIN | OWNER),
    *_rules("list_users", ADMIN_OR_DOMAIN_READER),
    *_rules("get_user", ADMIN_OR_DOMAIN_READER | target_matches("id", "user_id")),
    *_rules("create_user update_user delete_user", ADMIN),
    *_rules("change_password", OWNER, "Users change their own password."),
    *_rules("list_groups get_group list_users_in_group check_user_in_group", ADMIN_OR_DOMAIN_READER),
    *_rules("create_group update_group delete_group add_user_to_group remove_user_from_group", ADMIN),
    *_rules("list_roles get_role", ADMIN | READER),
    *_rules("create_role update_role delete_role", ADMIN),
    *_rules("list_implied_roles get_implied_role list_role_inference_rules", ADMIN | READER),
    *_rules("create_implied_role delete_implied_role", ADMIN),
    *_rules("list_role_assignments", ADMIN_OR_DOMAIN_READER),
    *_rules("list_grants check_grant", ADMIN_OR_DOMAIN_READER),
    *_rules("create_grant revoke_grant", ADMIN),
    *_rules("list_regions get_region", ALWAYS),
    *_rules("create_region update_region delete_region", ADMIN),
    *_rules("list_services get_service list_endpoints get_endpoint", ADMIN | READER),
    *_rules("create_service update_service delete_service", ADMIN),
    *_rules("create_endpoint update_endpoint delete_endpoint", ADMIN),
    *_rules("list_application_credentials get_application_credential", ADMIN | OWNER),
    *_rules("create_application_credential delete_application_credential", ADMIN | OWNER),
    *_rules("validate_token check_token revoke_token", ADMIN | OWNER, "Target user_id is the token subject."),
    *_rules("get_auth_catalog get_auth_projects get_auth_domains", ALWAYS),
]
