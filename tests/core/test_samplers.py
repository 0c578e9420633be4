"""Samplers by the names artists know from AUTOMATIC1111: each one runs, repeats itself for a seed,
differs from the others, is the scheduler that name means, and keeps the checkpoint's prediction type."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline

from sfumato.core.api import BadInput, ErrorKind, Event, Failed, Finished, Step, Txt2Img
from sfumato.core.devices import pick_device
from sfumato.core.noise_schedules import MAX_SIGMA, last_sigma
from sfumato.core.schedulers import make_scheduler, sampler_names
from sfumato.core.worker import Worker
from tests.core.image_checks import run_on_worker

# AUTOMATIC1111 name → (diffusers scheduler, settings that name implies)
EXPECTED: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "Heun": ("HeunDiscreteScheduler", {}),
    "LMS": ("LMSDiscreteScheduler", {"use_karras_sigmas": False}),
    "LMS Karras": ("LMSDiscreteScheduler", {"use_karras_sigmas": True}),
    "DPM2": ("KDPM2DiscreteScheduler", {}),
    "DPM2 a": ("KDPM2AncestralDiscreteScheduler", {}),
    "DPM++ 2M": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": False},
    ),
    "DPM++ 2M Karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True},
    ),
    "DPM++ 2M SDE": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": False},
    ),
    "DPM++ 2M SDE Karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    ),
    "DPM++ SDE": ("DPMSolverSDEScheduler", {"use_karras_sigmas": False}),
    "DPM++ SDE Karras": ("DPMSolverSDEScheduler", {"use_karras_sigmas": True}),
    "DDIM": ("DDIMScheduler", {}),
    "PLMS": ("PNDMScheduler", {"skip_prk_steps": True}),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "LCM": ("LCMScheduler", {}),
}

NOISE_SCHEDULE = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule")


def job(model: Path, sampler: str, **overrides: Any) -> Txt2Img:
    settings: dict[str, Any] = dict(
        model=str(model), prompt="a red circle", sampler=sampler, steps=3, width=64, height=64, seed=21
    )
    settings.update(overrides)
    return Txt2Img(**settings)


def v_prediction_config(model_dir: Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(
        (model_dir / "scheduler" / "scheduler_config.json").read_text("utf-8")
    )
    config["prediction_type"] = "v_prediction"
    return config


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    with pytest.MonkeyPatch.context() as patch:  # the model hash cache stays out of the real home
        patch.setenv("SFUMATO_HOME", str(tmp_path_factory.mktemp("home")))
        yield Worker(pick_device("cpu"))


@pytest.fixture(scope="module")
def runs(worker: Worker, tiny_model_dir: Path) -> dict[str, list[tuple[Event, bool]]]:
    """Every sampler run twice with one seed: the outcome, and whether the latents the VAE decoded
    were finite (the decode hides NaN as grey, so the pixels alone could not tell)."""
    vae = worker.models.get(str(tiny_model_dir)).components["vae"]
    finite: list[bool] = []

    def check(_module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        finite.append(bool(torch.isfinite(args[0]).all()))

    handle = vae.decoder.register_forward_pre_hook(check)
    outcomes: dict[str, list[tuple[Event, bool]]] = {}
    try:
        for name in sampler_names():
            outcomes[name] = []
            for _ in range(2):
                finite.clear()
                event = run_on_worker(worker, job(tiny_model_dir, name))[-1]
                outcomes[name].append((event, finite == [True]))
    finally:
        handle.remove()
    return outcomes


def test_the_catalogue_is_the_automatic1111_list() -> None:
    assert sorted(sampler_names()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sampler_gives_finite_repeatable_pixels(
    runs: dict[str, list[tuple[Event, bool]]], name: str
) -> None:
    (first, first_finite), (again, again_finite) = runs[name]
    assert isinstance(first, Finished), first
    assert isinstance(again, Finished), again
    assert first_finite and again_finite, "the sampler produced NaN or infinite latents"
    image = first.images[0]
    assert image.shape == (64, 64, 3) and image.std() > 1.0
    assert np.array_equal(image, again.images[0]), "the same seed gave different pixels"
    assert first.recipes[0].sampler == name


def test_different_samplers_give_different_images(runs: dict[str, list[tuple[Event, bool]]]) -> None:
    images = {}
    for name, ((event, _finite), _again) in runs.items():
        assert isinstance(event, Finished), event
        images[name] = event.images[0]
    names = sorted(images)
    same = [
        (a, b) for i, a in enumerate(names) for b in names[i + 1 :] if np.array_equal(images[a], images[b])
    ]
    assert not same


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_scheduler_is_the_one_the_name_means_and_keeps_the_prediction_type(
    tiny_model_dir: Path, name: str
) -> None:
    model_config = v_prediction_config(tiny_model_dir)
    scheduler = make_scheduler(name, model_config)
    class_name, settings = EXPECTED[name]
    assert type(scheduler) is getattr(diffusers, class_name)
    for key, value in settings.items():
        assert scheduler.config.get(key, False) == value, key
    assert scheduler.config.prediction_type == "v_prediction"
    for key in NOISE_SCHEDULE:
        assert scheduler.config[key] == model_config[key], key


@pytest.mark.parametrize("name", ["DDIM", "PLMS", "Euler a", "DPM++ 2M"])
def test_a_model_that_ends_in_pure_noise_is_sampled_from_its_last_timestep(
    tiny_model_dir: Path, name: str
) -> None:
    # Zero-terminal-SNR models say so with trailing spacing; "leading" would start DDIM at 951 of
    # 1000, where such a model has learned to read the layout from the noise instead of the prompt.
    model_config = {**v_prediction_config(tiny_model_dir), "timestep_spacing": "trailing"}
    trailing = make_scheduler(name, model_config)
    trailing.set_timesteps(20)
    assert int(trailing.timesteps[0]) == 999
    sd_style = make_scheduler(name, {**model_config, "timestep_spacing": "leading"})
    assert sd_style.config.timestep_spacing != "trailing"


def test_a_job_uses_the_named_scheduler_on_a_v_prediction_checkpoint(
    tiny_model_dir: Path, tmp_path: Path, worker: Worker
) -> None:
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "tiny-sd-v")
    (model_dir / "scheduler" / "scheduler_config.json").write_text(json.dumps(v_prediction_config(model_dir)))

    finished = run_on_worker(worker, job(model_dir, " dpm++ 2m karras "))[-1]
    assert isinstance(finished, Finished), finished
    assert finished.recipes[0].sampler == "DPM++ 2M Karras"
    used = worker.models.get(str(model_dir)).pipeline(StableDiffusionPipeline).scheduler
    assert isinstance(used, diffusers.DPMSolverMultistepScheduler)
    assert used.config.use_karras_sigmas and used.config.algorithm_type == "dpmsolver++"
    assert used.config.prediction_type == "v_prediction"


def test_unknown_sampler_names_fail_clearly(tiny_model_dir: Path, worker: Worker) -> None:
    with pytest.raises(BadInput, match="Unknown sampler 'Euler z'") as raised:
        make_scheduler("Euler z", v_prediction_config(tiny_model_dir))
    assert "DPM++ 2M Karras" in raised.value.message

    failed = run_on_worker(worker, job(tiny_model_dir, "DPM++ 3M"))[-1]
    assert isinstance(failed, Failed)
    assert failed.kind == ErrorKind.BAD_INPUT
    assert "Unknown sampler 'DPM++ 3M'" in failed.message and "Euler a" in failed.message


@pytest.mark.parametrize("name", ["Euler", "Heun", "DPM2 a", "DPM++ SDE Karras", "PLMS", "UniPC"])
def test_progress_counts_the_steps_the_artist_asked_for(
    worker: Worker, tiny_model_dir: Path, name: str
) -> None:
    events = run_on_worker(worker, job(tiny_model_dir, name, steps=4))
    steps = [(e.step, e.total) for e in events if isinstance(e, Step)]
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_a_schedule_that_ends_in_pure_noise_starts_from_a_bounded_sigma() -> None:
    cosine = make_scheduler("Heun", {"beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 1000})
    assert last_sigma(cosine.alphas_cumprod) == pytest.approx(MAX_SIGMA)
    assert float(cosine.alphas_cumprod[0]) == pytest.approx(0.99996, abs=1e-5)
    assert bool((cosine.alphas_cumprod[1:] < cosine.alphas_cumprod[:-1]).all())


def test_stable_diffusion_schedules_are_left_as_they_are() -> None:
    sd = {
        "beta_schedule": "scaled_linear",
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "num_train_timesteps": 1000,
    }
    for name in ("Euler a", "DDIM", "DPM++ 2M Karras"):
        scheduler = make_scheduler(name, sd)
        assert scheduler.config.trained_betas is None
        assert last_sigma(scheduler.alphas_cumprod) == pytest.approx(14.6, abs=0.05)


def test_ddim_never_clips_latents() -> None:
    # Latents range well beyond [-1, 1]; DDIM's default clips them when a config does not say.
    assert make_scheduler("DDIM", {"beta_schedule": "scaled_linear"}).config.clip_sample is False
