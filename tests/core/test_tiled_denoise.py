"""Latents larger than the model's window are denoised as overlapping windows whose predictions are
blended with feathered weights (MultiDiffusion), so no seam shows where windows meet, and a large
frame is drawn at the native size first and then refined (hires fix)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers import UNet2DConditionModel
from PIL import Image

from sfumato.core.api import Txt2Img
from sfumato.core.demo import DEMO_MODEL_ID, demo_model_dir
from sfumato.core.engine import Engine
from sfumato.core.hires_plan import plan_hires
from sfumato.core.tasks.tiled_denoise import Tiling, tiled_forward, windows

WINDOW = 16  # the demo model's, in latent pixels
PROMPT = "a large yellow triangle in the center on a blue background"


@pytest.fixture(scope="module")
def unet() -> UNet2DConditionModel:
    return UNet2DConditionModel.from_pretrained(demo_model_dir() / "unet").eval()


def border_steps(predicted: torch.Tensor, tiling: Tiling) -> tuple[float, float]:
    """The mean jump in the prediction between neighbouring columns where a window begins, and
    between all other neighbouring columns."""
    jumps = (predicted[..., 1:] - predicted[..., :-1]).abs().mean(dim=(0, 1, 2))
    starts = {cols.start for _, cols in windows(predicted.shape[2], predicted.shape[3], tiling)} - {0}
    at_borders = [float(jumps[start - 1]) for start in starts]
    elsewhere = [float(jump) for index, jump in enumerate(jumps) if index + 1 not in starts]
    return float(np.mean(at_borders)), float(np.mean(elsewhere))


def predict(unet: UNet2DConditionModel, tiling: Tiling) -> torch.Tensor:
    generator = torch.Generator().manual_seed(3)
    latents = torch.randn(2, 4, WINDOW, 72, generator=generator)  # wider than TILING_MARGIN windows
    text = torch.randn(2, 77, 64, generator=generator)
    with torch.inference_mode():
        predicted: torch.Tensor = tiled_forward(unet.forward, tiling)(
            latents, torch.tensor(700), encoder_hidden_states=text, return_dict=False
        )[0]
    return predicted


def test_feathered_windows_leave_no_seam_where_a_naive_tiling_shows_one(unet: UNet2DConditionModel) -> None:
    feathered = Tiling.for_window(WINDOW, at_once=4)
    naive = Tiling(window=WINDOW, overlap=feathered.overlap, feathered=False)

    seam, elsewhere = border_steps(predict(unet, feathered), feathered)
    naive_seam, naive_elsewhere = border_steps(predict(unet, naive), naive)

    assert seam < 1.15 * elsewhere, (seam, elsewhere)
    assert naive_seam > 1.3 * naive_elsewhere, (naive_seam, naive_elsewhere)


def test_windows_cover_a_wide_latent_edge_to_edge_with_overlap() -> None:
    tiling = Tiling.for_window(WINDOW)
    cut = windows(16, 64, tiling)
    covered = np.zeros((16, 64), int)
    for rows, cols in cut:
        covered[rows, cols] += 1
    assert covered.min() >= 1 and covered.max() == 2
    assert all(cols.stop - cols.start == WINDOW for _, cols in cut)


def test_a_frame_far_larger_than_native_is_planned_as_a_hires_fix_keeping_its_aspect() -> None:
    assert plan_hires("auto", 64, 64, 64) is None
    assert plan_hires("auto", 72, 72, 64) is None  # within the margin: one pass
    square = plan_hires("auto", 512, 512, 64)
    assert square is not None and (square.first_width, square.first_height, square.recorded) == (64, 64, "8")
    wide = plan_hires("auto", 256, 64, 64)
    assert wide is not None and (wide.first_width, wide.first_height) == (128, 32)
    assert plan_hires("off", 512, 512, 64) is None
    fixed = plan_hires("2", 256, 256, 64)
    assert fixed is not None and (fixed.first_width, fixed.recorded) == (128, "2")


def test_a_large_factor_is_climbed_in_hires_passes_of_at_most_4x() -> None:
    quadruple = plan_hires("auto", 256, 256, 64)
    assert quadruple is not None and quadruple.stage_sizes(256, 256) == [(256, 256)]
    eightfold = plan_hires("auto", 512, 512, 64)
    assert eightfold is not None and eightfold.stage_sizes(512, 512) == [(184, 184), (512, 512)]
    double = plan_hires("auto", 256, 64, 64)
    assert double is not None and double.stage_sizes(256, 64) == [(256, 64)]


def smaller(image: np.ndarray, side: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BOX), np.float32)


async def test_a_large_frame_keeps_the_native_composition_and_records_its_hires_pass(engine: Engine) -> None:
    def job(side: int, hires: str) -> Txt2Img:
        return Txt2Img(
            model=DEMO_MODEL_ID, prompt=PROMPT, steps=8, seed=11, width=side, height=side, hires=hires
        )

    native = (await engine.run(job(64, "auto"))).images[0].astype(np.float32)
    large = await engine.run(job(128, "auto"))
    one_pass = (await engine.run(job(128, "off"))).images[0]

    assert large.images[0].shape == (128, 128, 3)
    assert large.recipes[0].hires == "2" and large.recipes[0].hires_strength == 0.5
    kept = np.abs(smaller(large.images[0], 64) - native).mean()
    drifted = np.abs(smaller(one_pass, 64) - native).mean()
    assert kept < 0.7 * drifted, (kept, drifted)
