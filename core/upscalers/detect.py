"""Which upscaler network a set of weights is for, read from the tensors' names and shapes.

Two RRDBNet layouts are in circulation: RealESRGAN's (`conv_first`, `body.N.rdb1.conv1`, ...) and the
original ESRGAN one that 4x-UltraSharp and most community models use (`model.0`, `model.1.sub.N.RDB1.conv1.0`,
...). The old names are mapped onto the new ones, so one network class serves both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch

from sfumato.core.api import ModelInvalid
from sfumato.core.upscalers.architectures import RRDBNet, SRVGGNetCompact, UpscalerNetwork

_OLD_BLOCK = re.compile(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)")
_OLD_TOP = re.compile(r"model\.(\d+)\.(weight|bias)")
_NEW_BLOCK = re.compile(r"body\.(\d+)\.rdb1\.conv1\.weight")
_COMPACT_LAYER = re.compile(r"body\.(\d+)\.weight")
_CHANNELS = 3

Weights = Mapping[str, torch.Tensor]


def build_upscaler(weights: Weights, name: str) -> UpscalerNetwork:
    """The network these weights belong to, with the weights loaded; ModelInvalid when they fit none."""
    if "conv_first.weight" in weights:
        return _loaded(_realesrgan(weights, name), dict(weights), name)
    if "model.0.weight" in weights:
        renamed = _renamed_old_layout(weights, name)
        return _loaded(_realesrgan(renamed, name), renamed, name)
    if "body.0.weight" in weights and "body.1.weight" in weights:
        return _loaded(_compact(weights, name), dict(weights), name)
    raise ModelInvalid(
        f"{name} is not an upscaler Sfumato knows: it supports ESRGAN / RealESRGAN (RRDBNet, e.g. "
        '4x-UltraSharp) and RealESRGAN\'s compact "realesr-general" models.'
    )


def _realesrgan(weights: Weights, name: str) -> RRDBNet:
    first = _shape(weights, "conv_first.weight", name)
    features, channels_in = first[0], first[1]
    unshuffle = math.isqrt(channels_in // _CHANNELS)
    blocks = 1 + max((int(m[1]) for key in weights if (m := _NEW_BLOCK.fullmatch(key))), default=-1)
    doublings = sum(1 for key in weights if re.fullmatch(r"conv_up\d+\.weight", key))
    if blocks == 0 or unshuffle * unshuffle * _CHANNELS != channels_in or doublings == 0:
        raise _not_an_upscaler(name, "its layers do not form an RRDBNet")
    growth = _shape(weights, "body.0.rdb1.conv1.weight", name)[0]
    return RRDBNet(features=features, blocks=blocks, growth=growth, doublings=doublings, unshuffle=unshuffle)


def _renamed_old_layout(weights: Weights, name: str) -> dict[str, torch.Tensor]:
    """Original ESRGAN names as RealESRGAN's: model.0 is the first convolution, model.1 the body
    (its last convolution is `sub.<blocks>`), then one convolution per doubling, the HR and the last."""
    top = sorted({int(m[1]) for key in weights if (m := _OLD_TOP.fullmatch(key))} - {1})
    if len(top) < 4 or top[0] != 0:
        raise _not_an_upscaler(name, "its layers do not form an ESRGAN network")
    tail = {top[-2]: "conv_hr", top[-1]: "conv_last"}
    tail.update({index: f"conv_up{n}" for n, index in enumerate(top[1:-2], start=1)})
    tail[0] = "conv_first"
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in weights.items():
        if block := _OLD_BLOCK.fullmatch(key):
            number, rdb, conv, kind = block.groups()
            renamed[f"body.{number}.rdb{rdb}.conv{conv}.{kind}"] = tensor
        elif body := re.fullmatch(r"model\.1\.sub\.(\d+)\.(weight|bias)", key):
            renamed[f"conv_body.{body[2]}"] = tensor
        elif (old := _OLD_TOP.fullmatch(key)) and int(old[1]) in tail:
            renamed[f"{tail[int(old[1])]}.{old[2]}"] = tensor
        else:
            raise _not_an_upscaler(name, f"it has a layer ESRGAN does not ({key})")
    return renamed


def _compact(weights: Weights, name: str) -> SRVGGNetCompact:
    indexes = sorted(int(m[1]) for key in weights if (m := _COMPACT_LAYER.fullmatch(key)))
    last = _shape(weights, f"body.{indexes[-1]}.weight", name)
    first = _shape(weights, "body.0.weight", name)
    scale = math.isqrt(last[0] // _CHANNELS)
    convolutions = (indexes[-1] - 2) // 2
    if len(last) != 4 or scale * scale * _CHANNELS != last[0] or indexes != list(range(indexes[-1] + 1)):
        raise _not_an_upscaler(name, "its layers do not form a compact RealESRGAN network")
    return SRVGGNetCompact(features=first[0], convolutions=convolutions, scale=scale)


def _shape(weights: Weights, key: str, name: str) -> tuple[int, ...]:
    if key not in weights:
        raise _not_an_upscaler(name, f"the layer {key} is missing")
    return tuple(weights[key].shape)


def _loaded(network: UpscalerNetwork, weights: dict[str, torch.Tensor], name: str) -> UpscalerNetwork:
    try:
        network.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[-1].strip()
        raise _not_an_upscaler(name, f"its weights do not fit the network ({first_line})") from None
    network.eval().requires_grad_(False)
    return network


def _not_an_upscaler(name: str, why: str) -> ModelInvalid:
    return ModelInvalid(f"{name} is not a usable upscaler model: {why}.")
