"""Refusing to start a download that cannot fit on the disk."""

from __future__ import annotations

import shutil
from pathlib import Path

from sfumato.core.models import hub_errors

# Left free on top of the model itself, so finishing a download never fills the disk to the brim.
SPARE_BYTES = 200 * 1000 * 1000


def free_bytes(folder: Path) -> int:
    """Free space on the drive that holds (or will hold) `folder`."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage(Path.cwd()).free


def ensure_room(repo_id: str, folder: Path, needed: int) -> None:
    if needed <= 0:
        return
    free = free_bytes(folder)
    if free < needed + SPARE_BYTES:
        raise hub_errors.not_enough_disk_space(repo_id, str(folder), needed + SPARE_BYTES, free)
