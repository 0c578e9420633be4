"""Turn one pickle checkpoint into a `.safetensors` file, in a short-lived process of its own.

    python -m sfumato.core.models.convert_worker IN OUT

Run only by `convert.py`, never imported by the app or the engine for loading. The file is read with
`torch.load(weights_only=True)`, whose unpickler builds tensors and plain containers and refuses
every other global, so a file that carries code fails instead of running it. There is no fallback to
an unrestricted load. The format is taken from the first bytes, never from the file name.

Exit codes (the parent words the messages): 0 written, 2 wrong arguments, 3 the file holds code,
4 damaged or unreadable, 5 no tensors inside, 6 not a pickle checkpoint.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_HOLDS_CODE = 3
EXIT_UNREADABLE = 4
EXIT_NO_WEIGHTS = 5
EXIT_NOT_PICKLE = 6

ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip) format
PICKLE_PROTOCOL_OPCODE = 0x80  # torch.save's legacy format is a bare pickle stream
_STATE_DICT_KEY = "state_dict"


def pickle_format(prefix: bytes) -> str | None:
    """ "zip" or "legacy" for the two torch.save formats, None for anything else."""
    if prefix.startswith(ZIP_MAGIC):
        return "zip"
    if len(prefix) >= 2 and prefix[0] == PICKLE_PROTOCOL_OPCODE and 2 <= prefix[1] <= 5:
        return "legacy"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m sfumato.core.models.convert_worker IN OUT", file=sys.stderr)
        return EXIT_USAGE
    source, out = Path(argv[0]), Path(argv[1])
    try:
        with source.open("rb") as file:
            kind = pickle_format(file.read(8))
    except OSError as error:
        return _fail(EXIT_UNREADABLE, error)
    if kind is None:
        return EXIT_NOT_PICKLE
    try:
        loaded = _load_weights_only(source, kind)
    except pickle.UnpicklingError as error:
        return _fail(EXIT_HOLDS_CODE, error)
    except Exception as error:
        return _fail(EXIT_UNREADABLE, error)

    tensors = separate_tensors(state_tensors(loaded))
    if not tensors:
        return EXIT_NO_WEIGHTS
    try:
        _write(tensors, out)
    except Exception as error:
        return _fail(EXIT_UNREADABLE, error)
    return EXIT_OK


def _load_weights_only(source: Path, kind: str) -> object:
    import torch

    # torch.load picks its reader by a path's suffix, so a pickle named .safetensors goes in as an
    # open file. mmap keeps a large zip checkpoint out of memory; it needs a path and the zip format.
    if kind == "zip" and source.suffix.lower() != ".safetensors":
        return torch.load(source, map_location="cpu", weights_only=True, mmap=True)
    with source.open("rb") as file:
        return torch.load(file, map_location="cpu", weights_only=True)


def state_tensors(loaded: object) -> dict[str, Any]:
    """The tensors of the state dict (`state_dict` when there is one), nested tables joined with dots."""
    if isinstance(loaded, Mapping) and isinstance(loaded.get(_STATE_DICT_KEY), Mapping):
        loaded = loaded[_STATE_DICT_KEY]
    import torch

    found: dict[str, Any] = {}

    def collect(table: Mapping[Any, Any], prefix: str) -> None:
        for key, value in table.items():
            if not isinstance(key, str):
                continue
            if isinstance(value, torch.Tensor):
                found[prefix + key] = value.detach()
            elif isinstance(value, Mapping):
                collect(value, f"{prefix}{key}.")

    if isinstance(loaded, Mapping):
        collect(loaded, "")
    return found


def separate_tensors(tensors: dict[str, Any]) -> dict[str, Any]:
    """Give each tensor storage of its own: safetensors refuses tied or sliced weights that share it."""
    seen: set[int] = set()
    separate: dict[str, Any] = {}
    for name, tensor in tensors.items():
        storage = tensor.untyped_storage()
        shared = storage.data_ptr() in seen or storage.nbytes() != tensor.nbytes
        seen.add(storage.data_ptr())
        separate[name] = tensor.clone().contiguous() if shared or not tensor.is_contiguous() else tensor
    return separate


def _write(tensors: dict[str, Any], out: Path) -> None:
    from safetensors.torch import save_file

    staged = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(staged), metadata={"format": "pt"})
        os.replace(staged, out)
    finally:
        staged.unlink(missing_ok=True)


def _fail(code: int, error: BaseException) -> int:
    lines = str(error).strip().splitlines()
    print(lines[0] if lines else type(error).__name__, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
