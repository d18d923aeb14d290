"""An instance's files on the host: ``<state_dir>/instances/<uuid>/`` and what each file is for.

``disk.qcow2`` is the root disk (an overlay on a cached base image), ``console.log`` the serial
console, ``instance.json`` what the driver must remember across agent restarts (base image, its
format, the power state the user asked for: the host-reboot recovery restarts 'running' guests),
and ``*.resize`` the previous disk and domain kept until a resize is confirmed or reverted.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

INTENT_RUNNING, INTENT_STOPPED, INTENT_SUSPENDED = "running", "stopped", "suspended"


@dataclass
class InstanceRecord:
    image_id: str = ""
    image_format: str = "qcow2"
    intent: str = INTENT_RUNNING


class InstanceDir:
    def __init__(self, instances_root: Path, uuid: str):
        self.path = instances_root / uuid

    @property
    def disk(self) -> Path:
        return self.path / "disk.qcow2"

    @property
    def console(self) -> Path:
        return self.path / "console.log"

    @property
    def record_file(self) -> Path:
        return self.path / "instance.json"

    @property
    def old_disk(self) -> Path:
        return self.path / "disk.qcow2.resize"

    @property
    def old_domain(self) -> Path:
        return self.path / "domain.xml.resize"

    def exists(self) -> bool:
        return self.path.is_dir()

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def read(self) -> InstanceRecord | None:
        try:
            data = json.loads(self.record_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return InstanceRecord(**{k: v for k, v in data.items() if k in InstanceRecord.__dataclass_fields__})

    def write(self, record: InstanceRecord) -> None:
        """Atomically replace ``instance.json``."""
        self.create()
        temp = self.record_file.with_name(".instance.json.tmp")
        temp.write_text(json.dumps(asdict(record)))
        os.replace(temp, self.record_file)

    def set_intent(self, intent: str) -> None:
        record = self.read()
        if record is not None and record.intent != intent:
            record.intent = intent
            self.write(record)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def drop_resize_backup(self) -> None:
        self.old_disk.unlink(missing_ok=True)
        self.old_domain.unlink(missing_ok=True)


def images_in_use(instances_root: Path) -> set[str]:
    """Base image ids referenced by any instance directory (the image cache keeps these)."""
    used: set[str] = set()
    if not instances_root.is_dir():
        return used
    for child in instances_root.iterdir():
        record = InstanceDir(instances_root, child.name).read()
        if record is not None and record.image_id:
            used.add(record.image_id)
    return used
