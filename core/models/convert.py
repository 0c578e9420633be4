"""Converting old pickle files (`.ckpt`, `.pt`, `.pth`, `.bin`) to `.safetensors`, then importing them.

Unpickling can run code hidden in the file, so it never happens in this process: a separate
short-lived process (`convert_worker`) reads the file with torch's weights-only unpickler and writes
the tensors out. That process starts in isolated mode (no current folder or PYTHON* variables on its
import path) from an empty folder. Its result is checked here like any downloaded file before use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sfumato.core.api import BadInput, ModelInvalid, ModelNotFound
from sfumato.core.models import convert_worker
from sfumato.core.models.imports import import_file
from sfumato.core.models.library import WEIGHTS_SUFFIX, ImportedModel, staging_folder
from sfumato.core.models.safetensors_header import read_header

WORKER_MODULE = "sfumato.core.models.convert_worker"
TIMEOUT_SECONDS = 30 * 60
# Both would change how torch.load treats `weights_only`; the worker decides that itself.
_SCRUBBED_VARIABLES = ("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_WEIGHTS_ONLY_LOAD")


def convert_legacy(path: Path) -> Path:
    """Convert and import `path`; returns the imported `.safetensors` file."""
    return import_legacy(path).file


def import_legacy(path: Path) -> ImportedModel:
    """Convert `path` safely and import the result as the checkpoint, embedding or LoRA it holds."""
    path = Path(path).expanduser()
    staged = staging_folder() / f"{uuid.uuid4().hex}{WEIGHTS_SUFFIX}"
    try:
        convert_to_safetensors(path, staged)
        return import_file(staged, converted_from=path, owned=True)
    finally:
        staged.unlink(missing_ok=True)


def convert_to_safetensors(source: Path, out: Path) -> Path:
    """Write the tensors of pickle checkpoint `source` to `out`, checked; refuses files that hold code."""
    name = source.name
    if not source.exists():
        raise ModelNotFound(f"No file at '{source}'.")
    if not source.is_file():
        raise BadInput(f"'{source}' is a folder, not a checkpoint file.")
    try:
        with source.open("rb") as file:
            prefix = file.read(9)
    except OSError as error:
        raise ModelInvalid(f"{name} could not be read ({error.strerror or error}).") from None
    if len(prefix) == 9 and prefix[8:9] == b"{":
        raise BadInput(f"{name} is already a safetensors file; import it with `sfumato models import`.")
    if convert_worker.pickle_format(prefix) is None:
        raise ModelInvalid(
            f"{name} is not a PyTorch checkpoint (.ckpt/.pt/.pth/.bin saved by torch), so there is "
            "nothing to convert."
        )
    code, detail = _run_worker(source, out)
    if code != convert_worker.EXIT_OK:
        out.unlink(missing_ok=True)
        raise _refusal(code, name, detail)
    read_header(out)
    return out


def _run_worker(source: Path, out: Path) -> tuple[int, str]:
    environment = {key: value for key, value in os.environ.items() if key not in _SCRUBBED_VARIABLES}
    command = [sys.executable, "-I", "-m", WORKER_MODULE, str(source.resolve()), str(out.resolve())]
    with tempfile.TemporaryDirectory(prefix="sfumato-convert-") as empty_folder:
        try:
            done = subprocess.run(
                command,
                cwd=empty_folder,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return -1, f"it took longer than {TIMEOUT_SECONDS // 60} minutes"
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def _refusal(code: int, name: str, detail: str) -> ModelInvalid:
    if code == convert_worker.EXIT_HOLDS_CODE:
        return ModelInvalid(
            f"{name} contains code, not just weights; Sfumato will not run it. Nothing was converted. "
            "Look for a .safetensors version of this model from a source you trust."
        )
    if code == convert_worker.EXIT_NO_WEIGHTS:
        return ModelInvalid(f"{name} holds no model weights, so there is nothing to convert.")
    if code == convert_worker.EXIT_NOT_PICKLE:
        return ModelInvalid(f"{name} is not a PyTorch checkpoint, so there is nothing to convert.")
    reason = f" ({detail})" if detail else ""
    return ModelInvalid(
        f"{name} could not be converted: it is damaged or not a model checkpoint{reason}. Download it again."
    )
