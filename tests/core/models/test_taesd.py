"""TAESD, the catalog's preview decoder: downloaded like a model (only what the engine loads), listed as
a preview decoder, and then used by the engine for full-size live previews."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderTiny

from sfumato.core.api import Failed, Finished, Step, Txt2Img
from sfumato.core.cli.commands import EXIT_OK
from sfumato.core.engine import Engine
from sfumato.core.models.catalog import entry
from sfumato.core.models.download import cached_snapshot, download, plan_download
from sfumato.core.models.inventory import find_installed, list_installed
from sfumato.core.models.source import installed_snapshot
from tests.core.engine_helpers import run_events, terminal
from tests.support.fake_hub import FakeHub, FakeRepo

TAESD = "madebyollin/taesd"
DECOYS = {
    "taesd_decoder.pth": b"pickled decoder",
    "taesd_decoder.safetensors": b"another decoder layout",
    "diffusion_pytorch_model.bin": b"pickled weights",
    "README.md": b"# TAESD",
}


@pytest.fixture(scope="module")
def tiny_taesd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny AutoencoderTiny with random weights, saved the way the real repository has it."""
    torch.manual_seed(0)
    decoder = AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
    )
    folder = tmp_path_factory.mktemp("taesd")
    decoder.save_pretrained(folder, safe_serialization=True)
    return folder


def serve_taesd(hub: FakeHub, folder: Path, repo_id: str = TAESD) -> None:
    hub.add(FakeRepo.from_folder(repo_id, folder, extra=DECOYS))


def fetch_taesd(repo_id: str = TAESD) -> Path:
    return download(plan_download(repo_id), on_progress=lambda progress: None, cancel=threading.Event())


def test_only_the_config_and_safetensors_weights_are_downloaded(
    hub: FakeHub, hf_cache: Path, tiny_taesd_dir: Path
) -> None:
    serve_taesd(hub, tiny_taesd_dir)
    plan = plan_download(TAESD)
    assert sorted(file.path for file in plan.files) == ["config.json", "diffusion_pytorch_model.safetensors"]

    snapshot = fetch_taesd()
    fetched = {request.target for request in hub.log if request.method == "GET" and request.status == 200}
    assert not fetched & set(DECOYS)
    assert sorted(path.name for path in snapshot.iterdir()) == [
        "config.json",
        "diffusion_pytorch_model.safetensors",
    ]
    assert cached_snapshot(TAESD) == snapshot
    decoder = AutoencoderTiny.from_pretrained(snapshot, local_files_only=True)
    assert decoder.decode(torch.zeros(1, 4, 8, 8)).sample.shape == (1, 3, 64, 64)

    model = find_installed("taesd")
    assert (model.kind, model.status, model.repo_id) == ("preview-decoder", "ready", TAESD)


def test_other_single_models_are_still_refused(hub: FakeHub, hf_cache: Path, tiny_model_dir: Path) -> None:
    hub.add(FakeRepo.from_folder("someone/just-a-unet", tiny_model_dir / "unet"))
    with pytest.raises(Exception, match="not a Stable Diffusion model in diffusers format"):
        plan_download("someone/just-a-unet")


def test_a_decoder_from_outside_the_catalog_is_listed_as_a_preview_decoder(
    hub: FakeHub, hf_cache: Path, tiny_taesd_dir: Path
) -> None:
    serve_taesd(hub, tiny_taesd_dir, "someone/taesd-copy")
    fetch_taesd("someone/taesd-copy")
    [model] = [model for model in list_installed() if model.repo_id == "someone/taesd-copy"]
    assert model.kind == "preview-decoder"


def test_the_cli_downloads_taesd(
    hub: FakeHub, hf_cache: Path, tiny_taesd_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sfumato.core.cli import main

    serve_taesd(hub, tiny_taesd_dir)
    assert main(["models", "download", "taesd", "--no-fp16"]) == EXIT_OK
    assert "Live previews use it" in capsys.readouterr().out
    assert installed_snapshot(TAESD).name == entry("taesd").revision  # the catalog's commit


async def preview_shapes(engine: Engine, model_dir: Path) -> list[tuple[int, ...]]:
    job = Txt2Img(model=str(model_dir), prompt="a red circle", steps=2, width=64, height=64, seed=3)
    events = await run_events(engine, job)
    assert isinstance(terminal(events), Finished)
    return [event.preview.shape for event in events if isinstance(event, Step) and event.preview is not None]


async def test_previews_are_full_size_once_taesd_is_installed(
    hub: FakeHub, hf_cache: Path, tiny_taesd_dir: Path, tiny_model_dir: Path, tmp_path: Path, engine: Engine
) -> None:
    assert await preview_shapes(engine, tiny_model_dir) == [(8, 8, 3)] * 2

    serve_taesd(hub, tiny_taesd_dir)
    fetch_taesd()
    # Another model (the same one, copied) makes the engine load again and find the decoder.
    again = shutil.copytree(tiny_model_dir, tmp_path / "again")
    assert await preview_shapes(engine, again) == [(64, 64, 3)] * 2

    job = Txt2Img(model="taesd", prompt="a red circle", steps=2, width=64, height=64)
    failed = terminal(await run_events(engine, job))
    assert isinstance(failed, Failed) and "preview decoder" in failed.message
