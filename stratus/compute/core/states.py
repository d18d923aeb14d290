"""Nova's vm_state / task_state values and the API ``status`` they map to."""

from __future__ import annotations

ACTIVE, BUILDING, STOPPED, PAUSED, SUSPENDED = "active", "building", "stopped", "paused", "suspended"
RESIZED, ERROR, DELETED, SOFT_DELETED, RESCUED = "resized", "error", "deleted", "soft_deleted", "rescued"
SHELVED, SHELVED_OFFLOADED = "shelved", "shelved_offloaded"

SCHEDULING, SPAWNING, DELETING = "scheduling", "spawning", "deleting"
POWERING_OFF, POWERING_ON, REBOOTING, REBOOTING_HARD = "powering-off", "powering-on", "rebooting", "rebooting_hard"
PAUSING, UNPAUSING, SUSPENDING, RESUMING = "pausing", "unpausing", "suspending", "resuming"
REBUILDING, RESIZE_PREP, RESIZE_REVERTING, RESIZE_CONFIRMING = (
    "rebuilding",
    "resize_prep",
    "resize_reverting",
    "resize_confirming",
)
IMAGE_SNAPSHOT, IMAGE_BACKUP = "image_snapshot", "image_backup"

_TASK_STATUS = {
    REBOOTING: "REBOOT",
    "reboot_pending": "REBOOT",
    "reboot_started": "REBOOT",
    REBOOTING_HARD: "HARD_REBOOT",
    "reboot_pending_hard": "HARD_REBOOT",
    "reboot_started_hard": "HARD_REBOOT",
    REBUILDING: "REBUILD",
    "rebuild_block_device_mapping": "REBUILD",
    "rebuild_spawning": "REBUILD",
    RESIZE_PREP: "RESIZE",
    "resize_migrating": "RESIZE",
    "resize_migrated": "RESIZE",
    "resize_finish": "RESIZE",
    "migrating": "MIGRATING",
    "updating_password": "PASSWORD",
}
_VM_STATUS = {
    ACTIVE: "ACTIVE",
    BUILDING: "BUILD",
    STOPPED: "SHUTOFF",
    PAUSED: "PAUSED",
    SUSPENDED: "SUSPENDED",
    RESIZED: "VERIFY_RESIZE",
    ERROR: "ERROR",
    DELETED: "DELETED",
    SOFT_DELETED: "SOFT_DELETED",
    RESCUED: "RESCUE",
    SHELVED: "SHELVED",
    SHELVED_OFFLOADED: "SHELVED_OFFLOADED",
}
# Which task states change the status shown for a vm_state (Nova's _STATE_MAP, abridged).
_TASK_OVERRIDES = {
    ACTIVE: set(_TASK_STATUS),
    STOPPED: {RESIZE_PREP, "resize_migrating", "resize_migrated", "resize_finish", REBUILDING, REBOOTING_HARD},
    PAUSED: {"migrating", REBOOTING_HARD},
    SUSPENDED: {REBOOTING_HARD},
    ERROR: {REBUILDING, "rebuild_spawning"},
}


def status_of(vm_state: str, task_state: str | None) -> str:
    """The API status of a server, as Nova derives it."""
    if vm_state == RESIZED and task_state == RESIZE_REVERTING:
        return "REVERT_RESIZE"
    if task_state and task_state in _TASK_OVERRIDES.get(vm_state, ()):
        return _TASK_STATUS[task_state]
    return _VM_STATUS.get(vm_state, "UNKNOWN")


def vm_states_for_status(status: str) -> tuple[set[str], set[str] | None] | None:
    """(vm_states, task_states or None for any) matching a ``status`` filter; None if unknown."""
    status = status.upper()
    tasks = {t for t, s in _TASK_STATUS.items() if s == status}
    if tasks:
        return set(_TASK_OVERRIDES), tasks
    if status == "REVERT_RESIZE":
        return {RESIZED}, {RESIZE_REVERTING}
    vms = {v for v, s in _VM_STATUS.items() if s == status}
    return (vms, None) if vms else None
