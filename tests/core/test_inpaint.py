"""Inpainting as an artist relies on it, with a regular checkpoint (latent blending) and a 9-channel
inpainting one: only the masked area and its feather change, every other pixel stays bit-identical."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from sfumato.core.api import ErrorKind, Failed, Finished, Inpaint, Mode, Step
from sfumato.core.devices import pick_device
from sfumato.core.engine import Engine
from sfumato.core.worker import Worker
from tests.core.engine_helpers import run_events, run_to_finish, terminal
from tests.core.image_checks import changed, near, run_on_worker, textured_image

MODELS = ["tiny_model_dir", "tiny_inpaint_model_dir"]


@pytest.fixture(params=MODELS, ids=["regular", "inpainting"])
def model_dir(request: pytest.FixtureRequest) -> Path:
    path: Path = request.getfixturevalue(request.param)
    return path


def blob_mask(height: int, width: int, centre: tuple[int, int], radius: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    mask = np.zeros((height, width), np.uint8)
    mask[(ys - centre[0]) ** 2 + (xs - centre[1]) ** 2 <= radius**2] = 255
    return mask


def inpaint_job(model: Path, init: np.ndarray, mask: np.ndarray, **overrides: Any) -> Inpaint:
    settings: dict[str, Any] = dict(
        model=str(model), prompt="a red circle", init=init, mask=mask, steps=3, width=64, height=64, seed=3
    )
    settings.update(overrides)
    return Inpaint(**settings)


def assert_repainted(init: np.ndarray, result: np.ndarray, mask: np.ndarray, blur: int) -> None:
    """Bit-identical beyond the feather; clearly changed inside the mask."""
    far = ~near(mask, blur)
    assert not changed(init, result)[far].any(), "pixels away from the mask changed"
    inside = mask > 0
    assert changed(init, result)[inside].mean() > 0.9
    assert np.abs(result.astype(np.int16) - init)[inside].mean() > 10


async def test_only_the_masked_area_and_its_feather_change(engine: Engine, model_dir: Path) -> None:
    init = textured_image(64, 64)
    mask = blob_mask(64, 64, (30, 34), 12)
    finished = await run_to_finish(engine, inpaint_job(model_dir, init, mask, mask_blur=4))
    result = finished.images[0]
    assert result.shape == init.shape
    assert_repainted(init, result, mask, blur=4)
    recipe = finished.recipes[0]
    assert recipe.mode == Mode.INPAINT and recipe.mask_blur == 4 and recipe.strength == 1.0


async def test_mask_blur_zero_gives_a_hard_edge(engine: Engine, model_dir: Path) -> None:
    init = textured_image(64, 64, seed=1)
    mask = blob_mask(64, 64, (32, 32), 14)
    ring_outside = near(mask, 2) & (mask == 0)

    hard = (await run_to_finish(engine, inpaint_job(model_dir, init, mask, mask_blur=0))).images[0]
    assert not changed(init, hard)[mask == 0].any(), "a pixel outside a hard mask changed"
    # The mask's own edge pixels are repainted fully, not blended with the original.
    edge_inside = near(mask == 0, 1) & (mask > 0)
    assert changed(init, hard)[edge_inside].mean() > 0.9

    soft = (await run_to_finish(engine, inpaint_job(model_dir, init, mask, mask_blur=6))).images[0]
    assert changed(init, soft)[ring_outside].mean() > 0.9, "a feathered mask should blend past its edge"


async def test_only_masked_area_repaints_a_crop_at_full_resolution(engine: Engine, model_dir: Path) -> None:
    init = textured_image(96, 128, seed=2)
    mask = np.zeros((96, 128), np.uint8)
    mask[20:32, 84:96] = 255
    job = inpaint_job(model_dir, init, mask, mask_blur=4, only_masked=True, padding=8)
    events = await run_events(engine, job)
    finished = terminal(events)
    assert isinstance(finished, Finished), finished
    result = finished.images[0]
    assert result.shape == init.shape
    assert_repainted(init, result, mask, blur=4)
    # The small crop was generated at the job's 64×64, not at its own size: previews show 8×8 latents.
    previews = [e.preview for e in events if isinstance(e, Step)]
    assert previews and all(p is not None and p.shape == (8, 8, 3) for p in previews)


async def test_a_whole_picture_inpaint_generates_at_the_picture_size(engine: Engine, model_dir: Path) -> None:
    init = textured_image(96, 128, seed=2)
    mask = np.zeros((96, 128), np.uint8)
    mask[20:32, 84:96] = 255
    # In one pass: with hires fix a picture this far above the tiny model's 64 px starts smaller.
    job = replace(inpaint_job(model_dir, init, mask, mask_blur=4), hires="off")
    events = await run_events(engine, job)
    assert isinstance(terminal(events), Finished)
    previews = [e.preview for e in events if isinstance(e, Step)]
    assert previews and all(p is not None and p.shape == (12, 16, 3) for p in previews)


async def test_sizes_that_are_not_multiples_of_8_work(engine: Engine, model_dir: Path) -> None:
    init = textured_image(50, 70, seed=4)
    mask = blob_mask(50, 70, (25, 40), 10)
    result = (await run_to_finish(engine, inpaint_job(model_dir, init, mask, mask_blur=3))).images[0]
    assert result.shape == (50, 70, 3)
    assert_repainted(init, result, mask, blur=3)


@pytest.mark.parametrize(
    ("mask", "words"),
    [
        (np.full((32, 32), 255, np.uint8), "The mask is 32×32 but the image is 64×48"),
        (np.zeros((48, 64), np.uint8), "The mask is empty"),
    ],
    ids=["wrong-size", "empty"],
)
async def test_unusable_masks_are_refused_in_plain_words(
    engine: Engine, tiny_model_dir: Path, mask: np.ndarray, words: str
) -> None:
    failed = terminal(await run_events(engine, inpaint_job(tiny_model_dir, textured_image(48, 64), mask)))
    assert isinstance(failed, Failed)
    assert failed.kind == ErrorKind.BAD_INPUT and words in failed.message


@pytest.mark.parametrize(("model", "channels"), [("tiny_model_dir", 4), ("tiny_inpaint_model_dir", 9)])
def test_the_checkpoint_kind_is_detected_and_its_unet_sees_the_mask(
    model: str, channels: int, request: pytest.FixtureRequest
) -> None:
    """An inpainting checkpoint's UNet gets latents + mask + masked image (9 channels); a regular
    one gets plain latents (4) and the mask is applied by blending latents instead."""
    model_dir: Path = request.getfixturevalue(model)
    worker = Worker(pick_device("cpu"))
    loaded = worker.models.get(str(model_dir))
    assert loaded.inpainting == (channels == 9)
    seen: set[int] = set()

    def record(_module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        seen.add(int(args[0].shape[1]))

    handle = loaded.components["unet"].register_forward_pre_hook(record)
    try:
        init = textured_image(64, 64)
        events = run_on_worker(worker, inpaint_job(model_dir, init, blob_mask(64, 64, (32, 32), 10)))
    finally:
        handle.remove()
    assert isinstance(events[-1], Finished), events[-1]
    assert seen == {channels}
