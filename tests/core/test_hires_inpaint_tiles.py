"""A large picture from a 9-channel inpainting checkpoint goes through its hires pass with the picture
and its masked copy encoded by the VAE in tiles, like every other large picture, so it fits the
memory a tiled decode does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from sfumato.core.api import Finished, Inpaint, Job, Txt2Img
from sfumato.core.devices import pick_device
from sfumato.core.worker import Worker
from tests.core.image_checks import changed, run_on_worker, textured_image

WIDTH, HEIGHT = 384, 64  # 6 × the tiny model's 64 px: a hires pass with two stages
TILE_PIXELS = 128  # the tiny model's VAE tile: twice its 8-latent window, 8 px a latent
WHOLE_UP_TO = 2 * TILE_PIXELS  # a picture up to two tiles a side is encoded in one piece


def large_job(kind: str, model: Path) -> Job:
    settings: dict[str, Any] = dict(model=str(model), prompt="a red circle", steps=2, seed=5)
    if kind == "txt2img":
        return Txt2Img(**settings, width=WIDTH, height=HEIGHT)
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[16:48, 150:230] = 255
    return Inpaint(
        **settings, init=textured_image(HEIGHT, WIDTH), mask=mask, mask_blur=2, width=WIDTH, height=HEIGHT
    )


@pytest.mark.parametrize("kind", ["txt2img", "inpaint"])
def test_a_large_inpainting_checkpoint_picture_is_encoded_in_tiles(
    kind: str, tiny_inpaint_model_dir: Path
) -> None:
    worker = Worker(pick_device("cpu"))
    loaded = worker.models.get(str(tiny_inpaint_model_dir))
    encoded: list[tuple[int, int]] = []

    def record(_module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        encoded.append((int(args[0].shape[2]), int(args[0].shape[3])))

    job = large_job(kind, tiny_inpaint_model_dir)
    handle = loaded.components["vae"].encoder.register_forward_pre_hook(record)
    try:
        events = run_on_worker(worker, job)
    finally:
        handle.remove()
    finished = events[-1]
    assert isinstance(finished, Finished), finished
    assert finished.images[0].shape == (HEIGHT, WIDTH, 3)
    assert max(side for size in encoded for side in size) <= WHOLE_UP_TO, encoded
    assert (HEIGHT, TILE_PIXELS) in encoded  # the full frame, tile by tile
    if isinstance(job, Inpaint):
        repainted = changed(job.init, finished.images[0])
        assert repainted[job.mask > 0].mean() > 0.9 and not repainted[:, :100].any()
