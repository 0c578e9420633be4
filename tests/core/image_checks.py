"""Helpers for checking generated pictures: test images, reach around a mask, running a job in-process."""

from __future__ import annotations

import numpy as np

from sfumato.core.api import TERMINAL_EVENTS, Event, Job
from sfumato.core.worker import Worker


def textured_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A colour gradient with fine grain, so any repainted pixel is unlikely to match by chance."""
    ys, xs = np.mgrid[0:height, 0:width]
    gradient = np.stack([xs * 200 / width + 20, ys * 200 / height + 20, np.full(xs.shape, 120.0)], axis=-1)
    grain = np.random.default_rng(seed).normal(0.0, 12.0, (height, width, 3))
    return np.clip(gradient + grain, 0, 255).astype(np.uint8)


def near(mask: np.ndarray, radius: int) -> np.ndarray:
    """True where a pixel lies within `radius` pixels (a square reach) of a nonzero mask pixel."""
    hit = mask > 0
    height, width = hit.shape
    padded = np.pad(hit, radius)
    reach = np.zeros_like(hit)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            reach |= padded[dy : dy + height, dx : dx + width]
    return reach


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """True where any channel of a pixel differs."""
    return np.any(before != after, axis=-1)


def run_on_worker(worker: Worker, job: Job) -> list[Event]:
    """Run `job` on `worker` in this thread and return its events, ending with the terminal one."""
    events: list[Event] = []
    worker.run("job", job, events.append, lambda: False)
    assert isinstance(events[-1], TERMINAL_EVENTS)
    return events
