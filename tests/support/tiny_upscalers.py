"""Tiny randomly initialised ESRGAN-family upscalers, saved as real safetensors files the way their
authors publish them (RealESRGAN's names, the original ESRGAN names, the compact network's)."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from safetensors.torch import save_file

from sfumato.core.upscalers.architectures import RRDBNet, SRVGGNetCompact


def tiny_rrdbnet(*, doublings: int = 2, unshuffle: int = 1, seed: int = 0) -> RRDBNet:
    torch.manual_seed(seed)
    return RRDBNet(features=8, blocks=2, growth=4, doublings=doublings, unshuffle=unshuffle).eval()


def tiny_compact(*, scale: int = 4, seed: int = 0) -> SRVGGNetCompact:
    torch.manual_seed(seed)
    return SRVGGNetCompact(features=8, convolutions=2, scale=scale).eval()


def original_esrgan_names(network: RRDBNet) -> dict[str, torch.Tensor]:
    """The weights under the original ESRGAN names (model.0, model.1.sub.N.RDBk.convj.0, model.3, ...)."""
    blocks = len(network.body)
    renamed = {}
    for key, tensor in network.state_dict().items():
        if block := re.fullmatch(r"body\.(\d+)\.rdb(\d)\.conv(\d)\.(weight|bias)", key):
            number, rdb, conv, kind = block.groups()
            renamed[f"model.1.sub.{number}.RDB{rdb}.conv{conv}.0.{kind}"] = tensor
            continue
        layer, kind = key.rsplit(".", 1)
        if layer == "conv_body":
            renamed[f"model.1.sub.{blocks}.{kind}"] = tensor
            continue
        doubling = re.fullmatch(r"conv_up(\d+)", layer)
        index = {
            "conv_first": 0,
            "conv_hr": 3 * network.doublings + 2,
            "conv_last": 3 * network.doublings + 4,
        }.get(layer, 3 * int(doubling[1]) if doubling else -1)
        renamed[f"model.{index}.{kind}"] = tensor
    return renamed


def save_weights(weights: dict[str, torch.Tensor], path: Path) -> Path:
    save_file({key: tensor.contiguous() for key, tensor in weights.items()}, str(path))
    return path
