"""Upscaler models: recognised from their weights alone, run tile by tile, refused in plain words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from sfumato.core.api import Cancelled, Event, ModelInvalid, ModelNotFound, Started, Step, Upscale
from sfumato.core.devices import pick_device
from sfumato.core.upscalers.enlarge import enlarge
from sfumato.core.upscalers.library import installed_upscalers, upscalers_folder
from sfumato.core.upscalers.loading import load_upscaler
from sfumato.core.upscalers.tiles import TILE, upscale_tiled
from sfumato.core.worker import Worker
from tests.support.tiny_upscalers import original_esrgan_names, save_weights, tiny_compact, tiny_rrdbnet

CPU = pick_device("cpu")


def picture(width: int = 40, height: int = 24) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)


def direct(network: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        batch = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
        out = network(batch)[0].permute(1, 2, 0).clamp(0, 1).numpy()
    return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("name", "network", "scale"),
    [
        ("RealESRGAN x4", tiny_rrdbnet(doublings=2), 4),
        ("RealESRGAN x2 (pixel unshuffle)", tiny_rrdbnet(doublings=2, unshuffle=2), 2),
        ("compact realesr-general x4", tiny_compact(scale=4), 4),
        ("compact x2", tiny_compact(scale=2), 2),
    ],
)
def test_an_upscaler_is_recognised_from_its_weights_and_enlarges_by_its_scale(
    tmp_path: Path, name: str, network: torch.nn.Module, scale: int
) -> None:
    path = save_weights(network.state_dict(), tmp_path / "model.safetensors")
    loaded = load_upscaler(path)
    assert loaded.scale == scale, name
    image = picture()
    out = upscale_tiled(loaded, image, scale, device=CPU.device)
    assert out.shape == (24 * scale, 40 * scale, 3)
    assert np.array_equal(out, direct(network, image))  # one tile: exactly what the network makes


@pytest.mark.parametrize("doublings", [1, 2])
def test_original_esrgan_layout_like_4x_ultrasharp_loads_to_the_same_network(
    tmp_path: Path, doublings: int
) -> None:
    network = tiny_rrdbnet(doublings=doublings, seed=3)
    path = save_weights(original_esrgan_names(network), tmp_path / "4x-UltraSharp.safetensors")
    loaded = load_upscaler(path)
    assert loaded.scale == 2**doublings
    image = picture(16, 16)
    assert np.array_equal(
        upscale_tiled(loaded, image, loaded.scale, device=CPU.device), direct(network, image)
    )


def test_tiles_blend_into_the_whole_picture_without_seams(tmp_path: Path) -> None:
    network = tiny_compact(scale=2)
    image = picture(64, 48)
    whole = direct(network, image).astype(int)
    tiled = upscale_tiled(network, image, 2, device=CPU.device, tile=32, overlap=16).astype(int)
    assert tiled.shape == whole.shape
    # The compact network sees 4 pixels around each one, as far as the outer quarter of the overlap.
    assert np.abs(tiled - whole).max() <= 1


def test_enlarging_reaches_the_exact_size_asked_with_a_model_or_with_lanczos(tmp_path: Path) -> None:
    path = save_weights(tiny_compact(scale=4).state_dict(), tmp_path / "x4.safetensors")
    image = picture(32, 16)
    assert enlarge(image, (64, 32), str(path), CPU).shape == (32, 64, 3)  # a 4x model asked for 2x
    assert enlarge(image, (128, 64), "", CPU).shape == (64, 128, 3)
    assert enlarge(image, (128, 64), "lanczos", CPU).shape == (64, 128, 3)


def test_malformed_upscaler_files_are_refused_in_plain_words(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ModelInvalid, match=r"damaged\.safetensors"):
        load_upscaler(damaged)
    foreign = save_weights({"encoder.weight": torch.zeros(4, 4)}, tmp_path / "vae.safetensors")
    with pytest.raises(ModelInvalid, match="not an upscaler Sfumato knows"):
        load_upscaler(foreign)
    weights = tiny_rrdbnet().state_dict()
    weights["conv_hr.weight"] = torch.zeros(3, 3, 3, 3)
    mismatched = save_weights(weights, tmp_path / "mismatched.safetensors")
    with pytest.raises(ModelInvalid, match=r"mismatched\.safetensors is not a usable upscaler"):
        load_upscaler(mismatched)
    with pytest.raises(ModelNotFound, match="no upscaler 'missing-x4'"):
        enlarge(picture(), (80, 48), "missing-x4", CPU)


def test_a_pth_upscaler_is_converted_safely_once_and_then_used(tmp_path: Path) -> None:
    network = tiny_compact(scale=2)
    pickled = tmp_path / "RealESRGAN-tiny.pth"
    torch.save(network.state_dict(), pickled)
    image = picture(16, 16)
    assert np.array_equal(enlarge(image, (32, 32), str(pickled), CPU), direct(network, image))
    converted = upscalers_folder() / "RealESRGAN-tiny.safetensors"
    assert converted.is_file()  # the next use opens the converted copy, not the pickle
    assert "RealESRGAN-tiny" in installed_upscalers()


def test_an_upscale_job_reports_each_tile_and_a_cancel_stops_it_between_tiles(tmp_path: Path) -> None:
    path = save_weights(tiny_compact(scale=2).state_dict(), tmp_path / "x2.safetensors")
    image = np.random.default_rng(3).integers(0, 256, (TILE + 8, TILE + 8, 3), dtype=np.uint8)
    job = Upscale(
        prompt="", model="", init=image, upscaler=str(path), width=2 * (TILE + 8), height=2 * (TILE + 8)
    )
    events: list[Event] = []
    Worker(CPU).run("job", job, events.append, lambda: any(isinstance(event, Step) for event in events))
    assert [type(event) for event in events] == [Started, Step, Cancelled]
    assert (events[1].step, events[1].total) == (1, 4)  # type: ignore[union-attr]
