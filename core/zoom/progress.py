"""What a zoom render reports while it works: keyframes made or reused, and frames encoded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KeyframeReused:
    """Keyframe `index` (0-based) of `count` was already on disk from an earlier run."""

    index: int
    count: int
    path: Path


@dataclass(frozen=True)
class KeyframeStep:
    """Denoising step `step` (1-based) of `steps` for keyframe `index` of `count`."""

    index: int
    count: int
    step: int
    steps: int


@dataclass(frozen=True)
class KeyframeFinished:
    index: int
    count: int
    path: Path


@dataclass(frozen=True)
class FrameEncoded:
    """Video frame `frame` (1-based) of `frames` has been rendered and encoded."""

    frame: int
    frames: int


ZoomProgress = KeyframeReused | KeyframeStep | KeyframeFinished | FrameEncoded
OnProgress = Callable[[ZoomProgress], None]


def ignore_progress(_event: ZoomProgress) -> None:
    pass
