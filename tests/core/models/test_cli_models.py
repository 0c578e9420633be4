"""`sfumato models ...` as an artist uses it in a terminal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sfumato.core.cli import main
from sfumato.core.cli.commands import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from sfumato.core.formatting import format_bytes
from sfumato.core.metadata import read_recipe
from sfumato.core.models.addon_library import demo_addons_dir, prompt_addons
from sfumato.core.paths import data_dir
from sfumato.core.upscalers.library import upscaler_file, upscalers_folder
from tests.core.downloads.repos import DECOYS, child_environment
from tests.core.models.addon_files import a1111_embedding, kohya_lora
from tests.core.models.conftest import go_offline
from tests.core.test_upscaler_catalog import tiny_ultrasharp
from tests.support.fake_hub import FakeHub, FakeRepo

UNET = "unet/diffusion_pytorch_model.safetensors"
VAE = "vae/diffusion_pytorch_model.safetensors"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["models", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, str]]:
    """`sfumato models list`'s table, each row by its ID, read by the columns of the header."""
    table = run(capsys, "list")[1].split("\n\n")[0].splitlines()
    header = table[0]
    starts = [header.index(column) for column in header.split()]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    rows = [
        {name: line[start:end].strip() for name, (start, end) in zip(header.split(), bounds, strict=True)}
        for line in table[1:]
    ]
    return {row["ID"]: row for row in rows}


def test_download_list_verify_and_remove(
    hub: FakeHub, hf_cache: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = hub.add(FakeRepo.from_folder("prompthero/openjourney", tiny_model_dir))
    total = sum(len(file.content) for path, file in repo.files.items())

    code, out, err = run(capsys, "download", "openjourney")

    assert code == EXIT_OK, err
    assert f"12 files, {format_bytes(total)} (version {repo.commit[:10]})" in err
    assert "100%" in err.splitlines()[-1]
    assert "Use it with `sfumato generate --model openjourney`" in out

    code, out, _ = run(capsys, "list")
    header, row = out.splitlines()[:2]
    assert header.split() == ["ID", "NAME", "KIND", "BASE", "SIZE", "STATUS"]
    assert row.split() == [
        "openjourney",
        "OpenJourney",
        "checkpoint",
        "SD",
        "1.x",
        *format_bytes(total).split(),
        "ready",
    ]
    assert out.splitlines()[1].index("OpenJourney") == header.index("NAME")

    code, out, _ = run(capsys, "verify", "openjourney")
    assert (code, out.strip()) == (EXIT_OK, "openjourney: all 12 files are intact.")

    vae_blob = hf_cache / "models--prompthero--openjourney" / "blobs" / repo.files[VAE].sha256
    vae_blob.write_bytes(vae_blob.read_bytes()[:-1] + b"!")
    code, out, err = run(capsys, "verify", "openjourney")
    assert code == EXIT_FAILED
    assert out.startswith(f"{VAE}: the contents changed") and "1 of 12 files have problems" in err

    code, _, err = run(capsys, "remove", "demo")
    assert code == EXIT_BAD_INPUT and "demo model comes with Sfumato and cannot be removed" in err
    code, out, _ = run(capsys, "remove", "openjourney")
    assert code == EXIT_OK and out.startswith(f"Removed openjourney; {format_bytes(total)} freed")
    checkpoints = [row["ID"] for row in listed(capsys).values() if row["KIND"] == "checkpoint"]
    assert checkpoints == ["demo"]  # the built-in demo model always stays


def test_download_problems_get_their_own_messages(
    hub: FakeHub, hf_cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add(FakeRepo("someone/checkpoint-only", {"model.safetensors": b"0" * 100}))
    expectations = {
        "someone/missing": "Couldn't find the model “someone/missing” on Hugging Face",
        "someone/checkpoint-only": "is not a Stable Diffusion model in diffusers format",
        "not a name!": "is not a Hugging Face model name",
    }
    for model_id, message in expectations.items():
        code, _, err = run(capsys, "download", model_id)
        assert code == EXIT_BAD_INPUT and err.count("sfumato: error:") == 1 and message in err, err

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = run(capsys, "download", "someone/missing")
    assert code == EXIT_FAILED and "offline mode is on" in err


def test_a_catalog_entry_that_cannot_be_downloaded_says_why_without_asking_the_hub(
    hub: FakeHub, hf_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "list")
    assert "robo-diffusion" not in out.split("ready to download:")[1].splitlines()[0]
    assert "not downloadable as published" in out and "robo-diffusion" in out

    code, _, err = run(capsys, "download", "robo-diffusion")
    assert code == EXIT_BAD_INPUT and err.count("sfumato: error:") == 1
    assert "Robo Diffusion can't be downloaded. Its published UNet is only a pickle (.bin)" in err
    assert not hub.log, "the hub was asked about a model the catalog knows it cannot serve"


def test_import_decides_from_the_contents_and_convert_imports_the_result(
    user_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lora = kohya_lora(tmp_path / "ink style.safetensors", 768)
    pickled = tmp_path / "watercolor.pt"
    torch.save({"string_to_param": {"*": torch.randn(2, 768)}, "name": "watercolor"}, pickled)

    code, out, _ = run(capsys, "import", str(user_checkpoint))
    assert code == EXIT_OK and out.startswith("Imported checkpoint My-Model-v2: SD 1.x, hash ")
    assert "sfumato generate --model My-Model-v2" in out
    code, out, _ = run(capsys, "import", str(lora))
    assert code == EXIT_OK and out.startswith("Imported LoRA lora:ink-style: SD 1.x")

    code, _, err = run(capsys, "import", str(pickled))
    assert code == EXIT_BAD_INPUT and f"sfumato models convert {pickled}" in err
    code, out, _ = run(capsys, "convert", str(pickled))
    assert code == EXIT_OK
    assert out.startswith(f"Imported embedding embedding:watercolor (converted from {pickled}): SD 1.x")

    listing = run(capsys, "list")[1]
    assert [line.split()[0] for line in listing.splitlines()[1:4]] == [
        "My-Model-v2",
        "embedding:watercolor",
        "lora:ink-style",
    ]


def test_list_shows_loras_embeddings_and_upscalers_by_the_names_prompts_and_upscale_take(
    hub: FakeHub, hf_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "import", str(kohya_lora(tmp_path / "ink style.safetensors", 768)))
    run(capsys, "import", str(a1111_embedding(tmp_path / "watercolor.safetensors", 1024)))
    own = upscalers_folder() / "my-4x.safetensors"
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_bytes(tiny_ultrasharp())
    served = tiny_ultrasharp()
    hub.add(FakeRepo("polypo/RealESRGAN_x4_safetensors", {"model.safetensors": served}))
    assert run(capsys, "download", "realesrgan-x4")[0] == EXIT_OK

    rows = listed(capsys)

    def shown(model_id: str) -> tuple[str, ...]:
        row = rows[model_id]
        return row["NAME"], row["KIND"], row["BASE"], row["SIZE"], row["STATUS"]

    shipped = demo_addons_dir()
    bar = shipped / "loras" / "demo-bar.safetensors"
    lora_size = format_bytes((data_dir() / "models" / "loras" / "ink-style.safetensors").stat().st_size)
    assert shown("lora:ink-style")[:4] == ("ink-style", "lora", "SD 1.x", lora_size)
    assert shown("lora:ink-style")[4].startswith("ready")  # hard-linked to the artist's file: shared
    assert shown("embedding:watercolor")[1:3] == ("embedding", "SD 2.x")
    for kind, name, folder in (
        ("lora", "demo-bar", "loras"),
        ("embedding", "sfumato-emblem", "embeddings"),
    ):
        size = format_bytes((shipped / folder / f"{name}.safetensors").stat().st_size)
        assert shown(f"{kind}:{name}") == (name, kind, "64-wide", size, "ready, comes with Sfumato")
    assert shown("realesrgan-x4") == (
        "Real-ESRGAN x4",
        "upscaler (4x)",
        "any",
        format_bytes(len(served)),
        "ready",
    )
    assert shown("4x-ultrasharp")[1:] == ("upscaler (4x)", "any", "66.9 MB", "not downloaded")
    assert shown("my-4x") == ("my-4x", "upscaler", "any", format_bytes(own.stat().st_size), "ready")
    assert rows["demo"]["BASE"] == "64-wide"  # the demo model's add-ons fit it

    # Each NAME shown is the one a prompt takes, and each upscaler ID the one `--upscaler` takes.
    for model_id in ("lora:ink-style", "lora:demo-bar"):
        used = prompt_addons(f"a cat <lora:{rows[model_id]['NAME']}:0.5>", "").loras
        assert [lora.addon.name for lora in used] == [rows[model_id]["NAME"]]
    for model_id in ("embedding:watercolor", "embedding:sfumato-emblem"):
        embeddings = prompt_addons(f"a cat, {rows[model_id]['NAME']}", "").embeddings
        assert [addon.name for addon in embeddings] == [rows[model_id]["NAME"]]
    assert upscaler_file("realesrgan-x4").read_bytes() == served and upscaler_file("my-4x") == own

    code, _, err = run(capsys, "remove", "lora:demo-bar")
    assert code == EXIT_BAD_INPUT and "comes with Sfumato and cannot be removed" in err
    assert bar.is_file()


def test_ctrl_c_stops_a_download_and_keeps_what_arrived(
    hub: FakeHub, hf_cache: Path, tiny_model_dir: Path
) -> None:
    repo = hub.add(FakeRepo.from_folder("someone/painterly", tiny_model_dir))
    partial = hf_cache / "models--someone--painterly" / "blobs" / f"{repo.files[UNET].sha256}.incomplete"
    hub.bytes_per_second = 400_000
    child = subprocess.Popen(
        [sys.executable, "-m", "sfumato.core", "models", "download", "someone/painterly"],
        env=child_environment(hub, hf_cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_size > 0):
            assert child.poll() is None and time.monotonic() < deadline, "the download never started"
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()

    message = err.decode()
    assert child.returncode == EXIT_INTERRUPTED, message
    assert "sfumato: error: Download of “someone/painterly” cancelled" in message
    assert "Traceback" not in message and out == b""
    assert partial.exists() and 0 < partial.stat().st_size < len(repo.files[UNET].content)
    assert not os.path.exists(
        hf_cache / "models--someone--painterly" / "snapshots" / repo.commit / "model_index.json"
    )


def test_a_downloaded_catalog_model_generates_offline_by_its_id(
    hub: FakeHub,
    hf_cache: Path,
    tiny_model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub.add(FakeRepo.from_folder("prompthero/openjourney", tiny_model_dir))
    assert run(capsys, "download", "openjourney")[0] == EXIT_OK
    go_offline(hub, monkeypatch)

    out = tmp_path / "journey.png"
    argv = ["generate", "--model", "openjourney", "--prompt", "a lighthouse", "--width", "64",
            "--height", "64", "--steps", "2", "--seed", "5", "--out", str(out), "--in-process"]  # fmt: skip
    code = main(argv)
    assert code == EXIT_OK, capsys.readouterr().err
    recipe = read_recipe(out)
    assert recipe is not None and recipe.seed == 5 and recipe.model


@pytest.mark.parametrize(
    ("flags", "half"),
    [([], False), (["--fp16"], True), (["--no-fp16"], False)],
)
def test_half_precision_weights_come_when_the_engine_would_use_them(
    hub: FakeHub,
    hf_cache: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    half: bool,
) -> None:
    # This machine has no GPU, so by default the engine runs in float32 and takes the full weights.
    hub.add(FakeRepo.from_folder("prompthero/openjourney", tiny_model_dir, extra=DECOYS))
    assert run(capsys, "download", "openjourney", *flags)[0] == EXIT_OK
    fetched = {request.target or "" for request in hub.log if request.method == "GET"}
    assert ("unet/diffusion_pytorch_model.fp16.safetensors" in fetched) is half
