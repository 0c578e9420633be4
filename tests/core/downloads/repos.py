"""Repositories the download tests serve, and small helpers around them."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from tests.support.fake_hub import FakeHub, FakeRepo

TINY_REPO = "sfumato-test/tiny-sd"
SCHEDULER = "scheduler/scheduler_config.json"
NEWER_COMMIT = "c0ffee" + "0" * 34


def noise(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


# Files a real Stable Diffusion repository carries next to the diffusers pipeline, none of which the
# pipeline needs (the tiny model's model_index.json sets safety_checker and feature_extractor to null).
DECOYS = {
    "README.md": b"# tiny\n",
    "v1-5.safetensors": noise(30_000, 1),
    "model.ckpt": noise(20_000, 2),
    "v1-5-pruned-emaonly.fp16.safetensors": noise(10_000, 3),
    "unet/diffusion_pytorch_model.bin": noise(20_000, 4),
    "unet/diffusion_pytorch_model.fp16.safetensors": noise(25_000, 5),
    "unet/diffusion_pytorch_model.non_ema.safetensors": noise(20_000, 6),
    "unet/diffusion_flax_model.msgpack": noise(5_000, 7),
    "text_encoder/pytorch_model.bin": noise(20_000, 8),
    "text_encoder/flax_model.msgpack": noise(5_000, 9),
    "text_encoder/model.fp16.safetensors": noise(15_000, 10),
    "vae/diffusion_pytorch_model.pt": noise(5_000, 11),
    "onnx/unet/model.onnx": noise(5_000, 12),
    "safety_checker/config.json": b"{}",
    "safety_checker/model.safetensors": noise(8_000, 13),
    "feature_extractor/preprocessor_config.json": b"{}",
}


def pipeline_files(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def child_environment(hub: FakeHub, cache: Path) -> dict[str, str]:
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(cache), "HF_HOME": str(cache.parent)}
    env.update(HF_HUB_OFFLINE="0", HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1")
    env.pop("HF_TOKEN", None)
    return env


def moved_on(hub: FakeHub, repo_id: str, tiny_model_dir: Path) -> tuple[FakeRepo, FakeRepo]:
    """Serve `repo_id` at its first commit (a catalog repository's recorded one), then move `main` on
    to a newer commit whose scheduler settings changed."""
    first = hub.add(FakeRepo.from_folder(repo_id, tiny_model_dir))
    scheduler = json.loads((tiny_model_dir / SCHEDULER).read_text("utf-8"))
    changed = json.dumps({**scheduler, "steps_offset": 7}).encode()
    newer = hub.add(
        FakeRepo.from_folder(repo_id, tiny_model_dir, extra={SCHEDULER: changed}, commit=NEWER_COMMIT)
    )
    assert first.files[SCHEDULER].content != newer.files[SCHEDULER].content
    return first, newer
