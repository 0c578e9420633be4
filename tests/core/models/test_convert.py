"""Old pickle files are converted in a separate process that refuses to run any code they carry."""

from __future__ import annotations

import builtins
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sfumato.core.api import BadInput, ModelInvalid, SfumatoError
from sfumato.core.models.convert import convert_legacy, import_legacy
from sfumato.core.models.imports import import_file
from sfumato.core.models.library import ImportKind, list_imports, staging_folder
from sfumato.core.models.source import resolve_model

REFUSAL = "contains code, not just weights; Sfumato will not run it"


class Payload:
    """Unpickling this writes `marker`: what a hostile checkpoint would do, harmlessly."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return builtins.exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",)


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "CODE-RAN"


def test_the_payload_really_runs_when_unpickled_unsafely(marker: Path) -> None:
    pickle.loads(pickle.dumps(Payload(marker)))  # what loading without weights_only would do
    assert marker.read_text() == "code ran"


def hostile_files(folder: Path, marker: Path) -> list[Path]:
    weights = {"model.diffusion_model.input_blocks.0.0.weight": torch.ones(4, 4, 3, 3)}
    zip_ckpt = folder / "model.ckpt"
    torch.save({"state_dict": weights, "callback": Payload(marker)}, zip_ckpt)
    legacy_pt = folder / "embedding.pt"
    torch.save({"string_to_param": {"*": Payload(marker)}}, legacy_pt, _use_new_zipfile_serialization=False)
    weights_bin = folder / "pytorch_model.bin"
    torch.save({**weights, "extra": Payload(marker)}, weights_bin)
    disguised = folder / "model.safetensors"
    torch.save({"state_dict": weights, "callback": Payload(marker)}, disguised)
    return [zip_ckpt, legacy_pt, weights_bin, disguised]


def test_hostile_pickles_are_refused_and_their_code_never_runs(marker: Path, tmp_path: Path) -> None:
    files = hostile_files(tmp_path, marker)
    assert files[1].read_bytes()[:1] == b"\x80" and files[0].read_bytes()[:4] == b"PK\x03\x04"

    def attempt(path: Path) -> str:
        with pytest.raises(ModelInvalid) as refused:
            convert_legacy(path)
        return refused.value.message

    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        messages = dict(zip(files, pool.map(attempt, files), strict=True))

    for path, message in messages.items():
        assert REFUSAL in message and path.name in message, message
    # Named .safetensors, the pickle is not opened by the importer either.
    with pytest.raises(ModelInvalid, match="old-style pickle file"):
        import_file(files[3])
    assert not marker.exists()
    assert list_imports() == []
    assert not any(staging_folder().iterdir())


def test_a_benign_checkpoint_converts_and_imports(tiny_checkpoint: Path, tmp_path: Path) -> None:
    weights = load_file(tiny_checkpoint)
    tied_name = "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"
    weights["lm_head.weight"] = weights[tied_name]  # tied weights share one storage in the pickle
    original = tmp_path / "tiny-model.ckpt"
    torch.save({"state_dict": weights, "global_step": 1000, "epoch": 3}, original)

    record = import_legacy(original)

    assert (record.kind, record.base, record.variant) == (ImportKind.CHECKPOINT, "sd1", "normal")
    assert record.converted_from == str(original.resolve()) and record.name == "tiny-model"
    converted = load_file(record.file)
    assert converted.keys() == weights.keys()
    assert all(torch.equal(converted[key], weights[key]) for key in weights)
    assert original.exists()
    assert resolve_model("tiny-model").path == record.file
    assert not any(staging_folder().iterdir())


def test_a_legacy_format_embedding_converts_to_an_embedding(tmp_path: Path) -> None:
    vectors = torch.randn(2, 768)
    original = tmp_path / "watercolor.pt"
    embedding = {
        "string_to_token": {"*": 265},
        "string_to_param": {"*": vectors},
        "name": "watercolor",
        "step": 500,
    }
    torch.save(embedding, original, _use_new_zipfile_serialization=False)

    record = import_legacy(original)

    assert (record.id, record.base) == ("embedding:watercolor", "sd1")
    assert torch.equal(load_file(record.file)["string_to_param.*"], vectors)


def test_files_that_are_not_pickles_are_not_sent_for_conversion(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    noise = tmp_path / "noise.ckpt"
    noise.write_bytes(b"\x00\x01 not a checkpoint at all")

    with pytest.raises(ModelInvalid, match=r"noise\.ckpt is not a PyTorch checkpoint"):
        convert_legacy(noise)
    with pytest.raises(BadInput, match="already a safetensors file"):
        convert_legacy(tiny_checkpoint)
    with pytest.raises(SfumatoError, match="No file"):
        convert_legacy(tmp_path / "missing.ckpt")
