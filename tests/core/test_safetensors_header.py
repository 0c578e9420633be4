"""A model file's header is checked against the file before anything trusts it."""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from sfumato.core.api import ErrorKind, ModelInvalid, ModelNotFound
from sfumato.core.models.safetensors_header import read_header, read_metadata


def _tensors() -> dict[str, torch.Tensor]:
    return {
        "weight": torch.arange(12, dtype=torch.float32).reshape(3, 4),
        "bias": torch.ones(4, dtype=torch.float16),
        "steps": torch.tensor([7], dtype=torch.int64),
    }


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "good.safetensors"
    save_file(_tensors(), path, metadata={"format": "pt", "title": "test"})
    return path


def _write_raw(path: Path, header: object, data: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def _assert_corrupt(path: Path) -> str:
    with pytest.raises(ModelInvalid) as caught:
        read_header(path)
    message = caught.value.message
    assert caught.value.kind is ErrorKind.MODEL_INVALID
    assert path.name in message
    assert "corrupt or incomplete" in message
    assert "Download or export it again" in message
    return message


def test_reads_names_dtypes_shapes_and_sizes_of_a_real_file(good_file: Path) -> None:
    header = read_header(good_file)

    assert set(header) == set(_tensors())
    for name, tensor in _tensors().items():
        info = header[name]
        assert info.shape == tuple(tensor.shape)
        assert info.nbytes == tensor.numel() * tensor.element_size()
    assert header["weight"].dtype == "F32"
    assert header["bias"].dtype == "F16"
    assert read_metadata(good_file) == {"format": "pt", "title": "test"}


def test_offsets_point_at_the_right_bytes(good_file: Path) -> None:
    info = read_header(good_file)["weight"]
    raw = good_file.read_bytes()
    data_start = 8 + struct.unpack("<Q", raw[:8])[0]

    values = torch.frombuffer(
        bytearray(raw[data_start + info.start : data_start + info.end]), dtype=torch.float32
    )
    assert torch.equal(values.reshape(info.shape), _tensors()["weight"])


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    assert "empty" in _assert_corrupt(path)


def test_file_shorter_than_the_length_field(tmp_path: Path) -> None:
    path = tmp_path / "tiny.safetensors"
    path.write_bytes(b"\x05\x00\x00")
    _assert_corrupt(path)


@pytest.mark.parametrize("keep", [0.99, 0.5])
def test_truncated_download(good_file: Path, keep: float) -> None:
    raw = good_file.read_bytes()
    good_file.write_bytes(raw[: int(len(raw) * keep)])
    _assert_corrupt(good_file)


def test_header_length_beyond_the_file(tmp_path: Path) -> None:
    path = tmp_path / "liar.safetensors"
    path.write_bytes(struct.pack("<Q", 10_000) + b'{"a": 1}')
    assert "10,000" in _assert_corrupt(path)


def test_absurd_header_length_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", 150_000_000) + b"{")
        file.truncate(
            160_000_000
        )  # sparse: the header would fit in the file, but no model needs one this big
    _assert_corrupt(path)


@pytest.mark.parametrize(
    "header_bytes",
    [b"\xff\xfe\x00garbage", b"{not json at all", b"[1, 2, 3]", b"  "],
    ids=["not-utf8", "not-json", "not-a-table", "blank"],
)
def test_garbage_header(tmp_path: Path, header_bytes: bytes) -> None:
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(struct.pack("<Q", len(header_bytes)) + header_bytes + b"\0" * 16)
    _assert_corrupt(path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.safetensors"
    path.write_bytes(bytes(range(7, 250)) * 40)
    _assert_corrupt(path)


@pytest.mark.parametrize(
    ("entry", "data_size"),
    [
        ({"dtype": "F32", "shape": [4], "data_offsets": [0, 1_000_000]}, 16),
        ({"dtype": "F32", "shape": [4], "data_offsets": [8, 4]}, 16),
        ({"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}, 12),
        ({"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}, 16),
        ({"dtype": "F32", "shape": [True, 4], "data_offsets": [0, 16]}, 16),
        ({"dtype": "Q5_K", "shape": [4], "data_offsets": [0, 16]}, 16),
        ({"dtype": "F32", "shape": [4]}, 16),
        ({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, 20),
        ("just a string", 16),
    ],
    ids=[
        "offsets-beyond-file",
        "offsets-backwards",
        "size-disagrees-with-shape",
        "negative-dimension",
        "boolean-dimension",
        "unknown-dtype",
        "no-offsets",
        "bytes-belonging-to-no-tensor",
        "entry-not-a-table",
    ],
)
def test_inconsistent_tensor_entries(tmp_path: Path, entry: object, data_size: int) -> None:
    path = _write_raw(tmp_path / "bad.safetensors", {"t": entry}, b"\0" * data_size)
    _assert_corrupt(path)


def test_overlapping_tensors(tmp_path: Path) -> None:
    header = {
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
    }
    path = _write_raw(tmp_path / "overlap.safetensors", header, b"\0" * 24)
    assert "'b'" in _assert_corrupt(path)


def test_metadata_must_be_text(tmp_path: Path) -> None:
    header = {
        "__metadata__": {"steps": 1000},
        "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
    }
    path = _write_raw(tmp_path / "meta.safetensors", header, b"\0" * 4)
    _assert_corrupt(path)


def test_header_made_by_hand_that_is_consistent_is_accepted(tmp_path: Path) -> None:
    header = {
        "b": {"dtype": "BF16", "shape": [2, 0], "data_offsets": [8, 8]},
        "a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},
    }
    path = _write_raw(tmp_path / "hand.safetensors", header, b"\1" * 8)
    assert {name: info.shape for name, info in read_header(path).items()} == {"a": (8,), "b": (2, 0)}


# ---- pickles are recognised by their first bytes and never opened ------------------------------


class _Booby:
    """Unpickling this creates `marker`: proof that the file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def write_booby_trapped_pickle(path: Path, marker: Path, style: str) -> Path:
    payload = {"state_dict": {"model.diffusion_model.x": _Booby(marker)}}
    if style == "torch-zip":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=int(style.removeprefix("protocol-"))))
    return path


@pytest.mark.parametrize("style", ["protocol-2", "protocol-4", "protocol-5", "torch-zip"])
@pytest.mark.parametrize("name", ["renamed.safetensors", "model.ckpt"])
def test_pickle_checkpoint_is_refused_without_unpickling(tmp_path: Path, style: str, name: str) -> None:
    marker = tmp_path / "unpickled"
    path = write_booby_trapped_pickle(tmp_path / name, marker, style)

    with pytest.raises(ModelInvalid) as caught:
        read_header(path)

    assert name in caught.value.message
    assert "pickle" in caught.value.message
    assert "convert" in caught.value.message
    assert not marker.exists()


def test_safetensors_whose_length_starts_like_a_pickle_is_still_read(tmp_path: Path) -> None:
    # A header of 0x280 bytes makes the file start with b"\x80\x02", the opening of a protocol-2 pickle.
    entry = {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}
    raw = json.dumps({"a": entry}).encode()
    raw += b" " * (0x280 - len(raw))
    path = tmp_path / "lookalike.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0")

    assert path.read_bytes()[:2] == b"\x80\x02"
    assert read_header(path)["a"].shape == (1,)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound) as caught:
        read_header(tmp_path / "gone.safetensors")
    assert "gone.safetensors" in caught.value.message


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "F32", "shape": [10**3999, 10**3999], "data_offsets": [0, 16]},
        {"dtype": "F32", "shape": ["9" * 5000], "data_offsets": [0, 16]},
        {"dtype": "F32" * 2000, "shape": [4], "data_offsets": [0, 16]},
    ],
    ids=["4000-digit-dimensions", "5000-digit-text-dimension", "6000-character-dtype"],
)
def test_errors_quote_no_more_than_a_line_of_a_huge_header_value(tmp_path: Path, entry: object) -> None:
    path = _write_raw(tmp_path / "huge.safetensors", {"t" * 3000: entry}, b"\0" * 16)
    message = _assert_corrupt(path)
    assert len(message) < 700 and "\n" not in message
