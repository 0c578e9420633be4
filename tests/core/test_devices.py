"""Where models run, and what an artist sees when the GPU runs out of memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from sfumato.core.api import BadInput, ErrorKind, Failed, Finished, Txt2Img
from sfumato.core.devices import is_out_of_memory, pick_device
from sfumato.core.worker import Worker
from tests.core.image_checks import run_on_worker


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


HAS_CUDA = torch.cuda.is_available()
HAS_MPS = _mps_available()
needs_no_cuda = pytest.mark.skipif(HAS_CUDA, reason="this computer has a CUDA GPU")
needs_no_mps = pytest.mark.skipif(HAS_MPS, reason="this computer has Apple Metal")


@pytest.fixture(autouse=True)
def _no_device_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SFUMATO_DEVICE", raising=False)


def test_the_cpu_runs_in_float32() -> None:
    choice = pick_device("cpu")
    assert choice.device.type == "cpu" and choice.dtype == torch.float32


@needs_no_cuda
@needs_no_mps
def test_auto_picks_the_cpu_without_a_gpu() -> None:
    assert pick_device("auto").device.type == "cpu"
    assert pick_device(None).device.type == "cpu"


def test_sfumato_device_overrides_the_automatic_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFUMATO_DEVICE", "CPU")
    assert pick_device("auto").device.type == "cpu"
    assert pick_device().device.type == "cpu"
    monkeypatch.setenv("SFUMATO_DEVICE", "gpu")
    with pytest.raises(BadInput, match="SFUMATO_DEVICE"):
        pick_device("auto")
    # A device named in the settings is what the artist chose; the variable only replaces "auto".
    assert pick_device("cpu").device.type == "cpu"


@needs_no_cuda
def test_sfumato_device_asking_for_a_missing_gpu_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFUMATO_DEVICE", "cuda")
    with pytest.raises(BadInput, match="CUDA"):
        pick_device("auto")


@needs_no_cuda
def test_asking_for_cuda_without_one_says_so() -> None:
    with pytest.raises(BadInput) as raised:
        pick_device("cuda")
    assert "NVIDIA GPU (CUDA)" in raised.value.message and "'cpu'" in raised.value.message
    assert raised.value.kind == ErrorKind.BAD_INPUT


@needs_no_mps
def test_asking_for_mps_without_it_says_so() -> None:
    with pytest.raises(BadInput) as raised:
        pick_device("mps")
    assert "Apple Metal (MPS)" in raised.value.message and "'cpu'" in raised.value.message


def test_an_unknown_device_lists_the_choices() -> None:
    with pytest.raises(BadInput, match=r"Unknown device 'tpu'.*auto, cuda, mps, cpu"):
        pick_device("tpu")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
        (RuntimeError("MPS backend out of memory (MPS allocated: 17.50 GB, max allowed: 18.13 GB)."), True),
        (RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x768 and 1024x320)"), False),
        (RuntimeError("Expected all tensors to be on the same device"), False),
        (ValueError("not enough values to unpack"), False),
    ],
    ids=["cuda", "mps", "shapes", "devices", "other"],
)
def test_out_of_memory_is_recognised(error: BaseException, expected: bool) -> None:
    assert is_out_of_memory(error) is expected


def test_a_job_always_out_of_gpu_memory_fails_plainly_and_the_next_succeeds(
    tiny_model_dir: Path,
) -> None:
    """The GPU's edge cannot be reached on a CPU, so the UNet raises what CUDA raises there, at every
    memory tier; once that stops, the same worker draws again."""
    worker = Worker(pick_device("cpu"))
    unet = worker.models.get(str(tiny_model_dir)).components["unet"]
    out_of_memory = True

    def run_out_of_memory(_module: torch.nn.Module, _args: tuple[Any, ...]) -> None:
        if out_of_memory:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    handle = unet.register_forward_pre_hook(run_out_of_memory)
    job = Txt2Img(model=str(tiny_model_dir), prompt="a red circle", steps=3, width=64, height=64, seed=1)
    try:
        failed = run_on_worker(worker, job)[-1]
        out_of_memory = False
        after = run_on_worker(worker, job)[-1]
    finally:
        handle.remove()

    assert isinstance(failed, Failed) and failed.kind == ErrorKind.OUT_OF_MEMORY
    assert "smaller frame" in failed.message
    assert isinstance(after, Finished) and after.images[0].shape == (64, 64, 3)
