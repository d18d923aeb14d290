"""Image's policy rules (Glance's names, prefixed ``image:``) for the admin / member / reader personas.

Whether a caller may *see* an image at all (owner, public, community, member of a shared image)
is decided by the visibility rules in ``core``; an image the caller cannot see is a 404. These
rules decide what a caller who sees it may do. Targets carry ``project_id`` = the image owner and
``member_id`` = the member project (member calls).
"""

from __future__ import annotations

from stratus.core.policy import ADMIN, MEMBER, READER, Check, Rule, target_matches

ANY_READER = ADMIN | MEMBER | READER
"""Every persona can read (the identity service normally expands implied roles already)."""
OWNER_MEMBER = ADMIN | (MEMBER & target_matches("project_id", "project_id"))
"""Admin, or a member of the project that owns the image."""
MEMBER_PROJECT = ADMIN | (MEMBER & target_matches("member_id", "project_id"))
"""Admin, or a member of the project the image is shared with."""


def _rules(names: str, check: Check, description: str = "") -> list[Rule]:
    return [Rule(f"image:{n}", check, description) for n in names.split()]


RULES: list[Rule] = [
    *_rules("get_image get_images download_image get_member get_members", ANY_READER),
    *_rules("add_image", OWNER_MEMBER, "Target project_id is the owner the new image gets."),
    *_rules("modify_image delete_image upload_image deactivate reactivate", OWNER_MEMBER),
    *_rules("add_member delete_member communitize_image", OWNER_MEMBER),
    *_rules("modify_member", MEMBER_PROJECT, "Only the member project accepts or rejects a share."),
    *_rules("publicize_image", ADMIN, "Making an image public is admin-only, as in Glance."),
    *_rules("set_image_owner", ADMIN, "Giving an image to another project."),
]
