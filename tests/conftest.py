"""Shared fixtures: tiny real models built once per test session, a fake hub, and a hermetic environment."""

from __future__ import annotations

import os
import tempfile

# Tiny models gain nothing from threads, and spinning OpenMP threads slow everything down when
# the test run shares its cores (this also reaches engine processes the tests start).
os.environ["OMP_NUM_THREADS"] = "1"

# No test may reach a network or a real hub, or see the developer's own model cache and settings,
# and Qt must never need a screen.
_SESSION_HOME = tempfile.mkdtemp(prefix="sfumato-tests-")
os.environ["HF_HOME"] = os.path.join(_SESSION_HOME, "huggingface")
os.environ.pop("HF_HUB_CACHE", None)
os.environ["SFUMATO_HOME"] = os.path.join(_SESSION_HOME, "sfumato")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_XET"] = "1"

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from tests.support.fake_hub import FakeHub, point_client_at  # noqa: E402
from tests.support.ldm_export import export_ldm_checkpoint  # noqa: E402
from tests.support.tiny_models import build_tiny_pipeline  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SD 1.x-style txt2img pipeline folder (diffusers layout, safetensors)."""
    return build_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="session")
def tiny_inpaint_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny 9-channel inpainting pipeline folder."""
    return build_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-sd-inpainting", inpainting=True)


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model as a community-style single-file checkpoint (LDM layout)."""
    return export_ldm_checkpoint(tiny_model_dir, tmp_path_factory.mktemp("ckpt") / "tiny-sd.safetensors")


@pytest.fixture(scope="session")
def tiny_inpaint_checkpoint(tiny_inpaint_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny inpainting model as a single-file checkpoint."""
    out = tmp_path_factory.mktemp("ckpt") / "tiny-inpainting.safetensors"
    return export_ldm_checkpoint(tiny_inpaint_model_dir, out)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    """A fake Hugging Face hub on 127.0.0.1."""
    with FakeHub() as fake_hub:
        yield fake_hub


@pytest.fixture
def hf_cache(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """huggingface_hub pointed (through the environment, as a user would) at the fake hub and a new cache."""
    return point_client_at(hub, tmp_path / "hf-home", monkeypatch)


def _has_gpu() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps and mps.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `gpu` run only where CUDA or Apple Metal exists, and say so when skipped."""
    if _has_gpu():
        return
    skip = pytest.mark.skip(reason="needs a CUDA or Apple Metal GPU; this computer has none")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
