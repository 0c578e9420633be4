"""Opening an upscaler model: a checked safetensors file in, a ready network out."""

from __future__ import annotations

from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file

from sfumato.core.api import ModelInvalid
from sfumato.core.models.safetensors_header import read_header
from sfumato.core.upscalers.architectures import UpscalerNetwork
from sfumato.core.upscalers.detect import build_upscaler


def load_upscaler(path: Path) -> UpscalerNetwork:
    """The upscaler network in safetensors file `path`; ModelInvalid when the file is damaged or holds
    no upscaler Sfumato knows. The network's `scale` says how many times it enlarges."""
    read_header(path)  # a damaged or foreign file is refused here, with the reason, before loading
    try:
        weights = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise ModelInvalid(f"{path.name} could not be read as an upscaler ({error}).") from None
    return build_upscaler(weights, path.name)
