"""The render folder: keyframe PNGs and `zoom.json`, the list of finished keyframes and what made
them, so that a cancelled or crashed render carries on from the last finished keyframe.

A keyframe on disk is reused when it and every keyframe before it were made from the same settings as
now and its file is unchanged; the first one that differs, and all after it, are made again. Every
file is written under a temporary name and then moved into place, so a crash leaves either the old
or the new version, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sfumato.core.api import BadInput, Recipe
from sfumato.core.atomic import write_atomically
from sfumato.core.imaging import load_image
from sfumato.core.metadata import save_png

log = logging.getLogger(__name__)

MANIFEST_NAME = "zoom.json"
FORMAT = 1


def keyframe_name(index: int) -> str:
    return f"keyframe-{index:03d}.png"


@dataclass(frozen=True)
class StoredKeyframe:
    file: str
    sha256: str
    record: dict[str, Any]


@dataclass
class Manifest:
    seed: int
    keyframes: list[StoredKeyframe] = field(default_factory=list)

    def to_json(self) -> str:
        keyframes = [{"file": k.file, "sha256": k.sha256, "record": k.record} for k in self.keyframes]
        return json.dumps({"format": FORMAT, "seed": self.seed, "keyframes": keyframes}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a zoom manifest of a known format")
        keyframes = [
            StoredKeyframe(str(k["file"]), str(k["sha256"]), dict(k["record"])) for k in data["keyframes"]
        ]
        return cls(int(data["seed"]), keyframes)


class RenderFolder:
    """A zoom's keyframes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_NAME

    def prepare(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise BadInput(f'The keyframe folder "{self.path}" is a file; choose a folder.')
        try:
            self.path.mkdir(parents=False, exist_ok=True)
        except FileNotFoundError:
            raise BadInput(
                f'The keyframe folder "{self.path}" cannot be made: "{self.path.parent}" does not exist.'
            ) from None
        except OSError as error:
            raise BadInput(f'The keyframe folder "{self.path}" cannot be made: {error.strerror}.') from error

    def load(self) -> Manifest | None:
        """The manifest of an earlier render, or None when there is none (or it cannot be read)."""
        try:
            return Manifest.from_json(self.manifest_path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("ignoring the unreadable zoom manifest %s: %s", self.manifest_path, error)
            return None

    def save(self, manifest: Manifest) -> None:
        write_atomically(self.manifest_path, manifest.to_json().encode("utf-8"))

    def reusable(self, manifest: Manifest, records: list[dict[str, Any]]) -> list[np.ndarray]:
        """The stored keyframes that can be kept, in order: the longest run from keyframe 0 whose
        records equal `records` and whose files are unchanged."""
        images: list[np.ndarray] = []
        for stored, record in zip(manifest.keyframes, records, strict=False):
            path = self.path / stored.file
            if stored.record != record or not path.is_file() or _file_digest(path) != stored.sha256:
                break
            try:
                images.append(load_image(path))
            except BadInput:
                break
        return images

    def add_keyframe(
        self, manifest: Manifest, image: np.ndarray, recipe: Recipe | None, record: dict[str, Any]
    ) -> Path:
        """Save the next keyframe's PNG, then list it in the manifest."""
        path = self.path / keyframe_name(len(manifest.keyframes))
        save_png(path, image, recipe)
        manifest.keyframes.append(StoredKeyframe(path.name, _file_digest(path), record))
        self.save(manifest)
        return path

    def remove_stale(self, manifest: Manifest, keep: int) -> None:
        """Forget keyframes from `keep` on, and delete their files."""
        for stored in manifest.keyframes[keep:]:
            with contextlib.suppress(OSError):
                (self.path / stored.file).unlink(missing_ok=True)
        del manifest.keyframes[keep:]
        self.save(manifest)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
