"""Community single-file checkpoints load offline into pipelines that paint like the original model."""

from __future__ import annotations

import os
import pickle
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest
import torch
from diffusers import (
    AutoencoderKL,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from PIL import Image
from safetensors.torch import load_file, save_file
from transformers import CLIPTextConfig, CLIPTextModel

from sfumato.core.api import ModelInvalid, SfumatoError
from sfumato.core.models.checkpoint_kind import identify
from sfumato.core.models.safetensors_header import TensorInfo, read_header
from sfumato.core.models.single_file import load_single_file
from sfumato.core.models.weight_coverage import check_weights_cover_models
from tests.support.ldm_export import ldm_state_dict

SIZE = 64
STEPS = 2
SEED = 1234


def configs_only(pipeline_dir: Path, out: Path) -> Path:
    """The pipeline folder without its weights: what a bundled configuration folder holds."""
    return Path(shutil.copytree(pipeline_dir, out, ignore=shutil.ignore_patterns("*.safetensors", "*.bin")))


@pytest.fixture(scope="module")
def config_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return configs_only(tiny_model_dir, tmp_path_factory.mktemp("configs") / "tiny-sd")


@pytest.fixture(scope="module")
def inpaint_config_dir(tiny_inpaint_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return configs_only(tiny_inpaint_model_dir, tmp_path_factory.mktemp("configs") / "tiny-sd-inpainting")


def generator() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


def painted(pipeline: Any, prompt: str, **inputs: Any) -> np.ndarray:
    """The pipeline's images at the tests' size, steps and seed."""
    result = pipeline(
        prompt,
        num_inference_steps=STEPS,
        height=SIZE,
        width=SIZE,
        generator=generator(),
        output_type="np",
        **inputs,
    )
    return np.asarray(result.images)


def paint(pipeline: Any) -> np.ndarray:
    return painted(pipeline, "a red circle on a blue sky")


def repaint(pipeline: Any) -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    image = Image.fromarray(np.stack([xx * 4, yy * 4, (xx + yy) * 2], axis=-1).astype(np.uint8))
    mask = Image.fromarray(((xx > 16) & (xx < 48) & (yy > 16) & (yy < 48)).astype(np.uint8) * 255)
    return painted(pipeline, "a green tree", image=image, mask_image=mask)


def test_exported_checkpoint_is_identified_as_sd1(
    tiny_checkpoint: Path, tiny_inpaint_checkpoint: Path
) -> None:
    assert identify(read_header(tiny_checkpoint)).config_id == "sd1"
    assert identify(read_header(tiny_inpaint_checkpoint)).config_id == "sd1-inpainting"


@pytest.mark.parametrize(
    ("fixtures", "pipeline_class", "draw"),
    [
        pytest.param(
            ("tiny_model_dir", "tiny_checkpoint", "config_dir"), StableDiffusionPipeline, paint, id="regular"
        ),
        pytest.param(
            ("tiny_inpaint_model_dir", "tiny_inpaint_checkpoint", "inpaint_config_dir"),
            StableDiffusionInpaintPipeline,
            repaint,
            id="inpainting",
        ),
    ],
)
def test_single_file_loads_as_its_pipeline_and_paints_the_same_pixels_as_the_folder(
    request: pytest.FixtureRequest,
    fixtures: tuple[str, str, str],
    pipeline_class: Any,
    draw: Callable[[Any], np.ndarray],
) -> None:
    model_dir, checkpoint, config_dir = (request.getfixturevalue(name) for name in fixtures)
    from_folder = pipeline_class.from_pretrained(
        model_dir, safety_checker=None, requires_safety_checker=False, local_files_only=True
    )
    from_file = load_single_file(checkpoint, config_dir=config_dir)

    assert type(from_file) is pipeline_class
    expected = draw(from_folder)
    assert expected.std() > 0.01  # a real picture, not a flat colour
    np.testing.assert_allclose(draw(from_file), expected, atol=1e-5)


def test_weights_are_converted_to_the_requested_precision(tiny_checkpoint: Path, config_dir: Path) -> None:
    pipeline = load_single_file(tiny_checkpoint, config_dir=config_dir, torch_dtype=torch.float16)
    assert {p.dtype for p in pipeline.unet.parameters()} == {torch.float16}
    assert {p.dtype for p in pipeline.text_encoder.parameters()} == {torch.float16}


# ---- never the network ----------------------------------------------------------------------------


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every attempt to resolve a host name or open a connection is recorded and refused."""
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., NoReturn]:
        def refused(*args: object, **kwargs: object) -> NoReturn:
            attempts.append(f"{what}{args[1:] if what != 'getaddrinfo' else args[:2]}")
            raise OSError(f"network use during a test: {what}")

        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    yield attempts


def test_the_network_trap_catches_connections(network_attempts: list[str]) -> None:
    with pytest.raises(OSError):
        socket.create_connection(("huggingface.co", 443), timeout=1)
    with pytest.raises(OSError), socket.socket() as sock:
        sock.connect(("127.0.0.1", 9))
    assert len(network_attempts) == 2


def test_loading_never_touches_the_network(
    network_attempts: list[str],
    tiny_checkpoint: Path,
    tiny_inpaint_checkpoint: Path,
    config_dir: Path,
    tmp_path: Path,
) -> None:
    load_single_file(tiny_checkpoint, config_dir=config_dir)
    with pytest.raises(SfumatoError) as caught:  # a missing configuration is not looked for online either
        load_single_file(tiny_checkpoint, config_dir=tmp_path / "no-such-config")
    assert "Reinstall Sfumato" in caught.value.message
    with pytest.raises(ModelInvalid):
        load_single_file(tiny_inpaint_checkpoint, config_dir=config_dir)  # wrong configuration for the file
    assert network_attempts == []


def test_without_a_config_folder_the_bundled_one_for_the_kind_is_used(
    network_attempts: list[str], tiny_checkpoint: Path
) -> None:
    pytest.importorskip("sfumato.core.models.configs")
    # The bundled SD 1.x configuration describes the full-size model, which the tiny one does not fit.
    with pytest.raises(ModelInvalid) as caught:
        load_single_file(tiny_checkpoint)
    assert "does not fit the expected layout" in caught.value.message
    assert network_attempts == []


# ---- broken or unsuitable files ---------------------------------------------------------------------


Rewrite = Callable[[dict[str, torch.Tensor]], None]


def rewrite(source: Path, out: Path, change: Rewrite) -> Path:
    tensors = load_file(source)
    change(tensors)
    save_file(tensors, out)
    return out


def refusal(checkpoint: Path, changed_copy: Path, change: Rewrite, config_dir: Path) -> ModelInvalid:
    """Why loading `checkpoint`, saved as `changed_copy` after `change`, is refused."""
    with pytest.raises(ModelInvalid) as caught:
        load_single_file(rewrite(checkpoint, changed_copy, change), config_dir=config_dir)
    return caught.value


def drop_one_weight(tensors: dict[str, torch.Tensor]) -> None:
    del tensors["model.diffusion_model.middle_block.0.in_layers.2.weight"]


def reshape_one_weight(tensors: dict[str, torch.Tensor]) -> None:
    key = "model.diffusion_model.out.2.weight"
    tensors[key] = tensors[key][:, :, :1, :1].contiguous()


def drop_vae(tensors: dict[str, torch.Tensor]) -> None:
    for key in [key for key in tensors if key.startswith("first_stage_model.")]:
        del tensors[key]


@pytest.mark.parametrize(
    ("change", "file_name", "fault"),
    [
        pytest.param(drop_one_weight, "pruned.safetensors", "missing", id="missing weights, not noise"),
        pytest.param(reshape_one_weight, "odd.safetensors", "shape", id="a weight of the wrong shape"),
        pytest.param(drop_vae, "no-vae.safetensors", "VAE", id="no VAE"),
    ],
)
def test_a_broken_checkpoint_is_refused_naming_the_file_and_the_fault(
    tiny_checkpoint: Path, config_dir: Path, tmp_path: Path, change: Rewrite, file_name: str, fault: str
) -> None:
    message = refusal(tiny_checkpoint, tmp_path / file_name, change, config_dir).message
    assert file_name in message
    assert fault in message


def test_an_error_inside_the_weight_reader_is_reported_for_the_file(
    tiny_checkpoint: Path, config_dir: Path, tmp_path: Path
) -> None:
    # Well-formed, and every weight is there, but the reader treats a tensor named "state_dict" as a
    # nested table of weights and fails on it.
    def add_confusing_tensor(tensors: dict[str, torch.Tensor]) -> None:
        tensors["state_dict"] = torch.zeros(1)

    error = refusal(tiny_checkpoint, tmp_path / "confusing.safetensors", add_confusing_tensor, config_dir)
    assert "confusing.safetensors could not be loaded" in error.message
    assert error.__cause__ is not None


def test_a_safetensors_file_with_another_extension_must_be_renamed(
    tiny_checkpoint: Path, config_dir: Path, tmp_path: Path
) -> None:
    misnamed = Path(shutil.copy(tiny_checkpoint, tmp_path / "tiny-sd.ckpt"))
    with pytest.raises(ModelInvalid) as caught:
        load_single_file(misnamed, config_dir=config_dir)
    assert "Rename" in caught.value.message


class _Booby:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


@pytest.mark.parametrize("style", ["pickle", "torch-zip"])
def test_a_pickle_renamed_to_safetensors_is_never_unpickled(
    config_dir: Path, tmp_path: Path, style: str
) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / "innocent.safetensors"
    payload = {"state_dict": {"model.diffusion_model.input_blocks.0.0.weight": _Booby(marker)}}
    if style == "torch-zip":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))

    with pytest.raises(ModelInvalid) as caught:
        load_single_file(path, config_dir=config_dir)
    assert "pickle" in caught.value.message
    assert not marker.exists()


# ---- full-size layouts against the bundled configurations -------------------------------------------


@pytest.mark.parametrize("config_id", ["sd1", "sd1-inpainting", "sd2", "sd2-v", "sd2-inpainting"])
def test_full_size_checkpoint_layouts_are_identified_and_fit_the_bundled_configs(config_id: str) -> None:
    configs = pytest.importorskip("sfumato.core.models.configs")
    folder = configs.config_dir(config_id)
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder, subfolder="unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder, subfolder="vae"))
        text_encoder = CLIPTextModel(CLIPTextConfig.from_pretrained(folder, subfolder="text_encoder"))
    state = ldm_state_dict(
        unet=unet.state_dict(),
        unet_config=unet.config,
        vae=vae.state_dict(),
        vae_config=vae.config,
        text_encoder=text_encoder.state_dict(),
        open_clip=config_id.startswith("sd2"),
    )
    header = {
        key: TensorInfo("F16", tuple(tensor.shape), 0, 2 * tensor.numel()) for key, tensor in state.items()
    }

    kind = identify(header)

    # SD 2.x 512 px and 768 px models cannot be told apart by their weights; the 768 px one is assumed.
    assert kind.config_id == ("sd2-v" if config_id == "sd2" else config_id)
    check_weights_cover_models(header, kind, folder, "full-size.safetensors")
