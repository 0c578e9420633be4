"""Low-rank adapters to train on a frozen model, saved in the kohya/AUTOMATIC1111 file format.

Each adapted layer computes `base(x) + up(down(x)) * alpha / rank`, with `up` starting at zero so
training starts from the model as it is. Convolutions get a convolutional `down` of the layer's own
kernel and a 1×1 `up` (LoCon). The file names each layer the way kohya's scripts do: `lora_unet_`
or `lora_te_`, then the module's path with underscores, then `.lora_down.weight`,
`.lora_up.weight` and `.alpha`.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


class LoraLayer(nn.Module):
    def __init__(self, base: nn.Linear | nn.Conv2d, rank: int) -> None:
        super().__init__()
        self.base = base
        self.rank = rank
        if isinstance(base, nn.Conv2d):
            kernel, stride, padding = base.kernel_size, base.stride, base.padding
            down = nn.Conv2d(base.in_channels, rank, kernel, stride, padding, bias=False)  # type: ignore[arg-type]
            self.down: nn.Linear | nn.Conv2d = down
            self.up: nn.Linear | nn.Conv2d = nn.Conv2d(rank, base.out_channels, 1, bias=False)
        else:
            self.down = nn.Linear(base.in_features, rank, bias=False)
            self.up = nn.Linear(rank, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.down.weight, a=5**0.5)
        nn.init.zeros_(self.up.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.up(self.down(x))


def attach(model: nn.Module, prefix: str, names: Iterable[str], rank: int) -> dict[str, LoraLayer]:
    """Wrap each named Linear or Conv2d of `model` in a LoraLayer; returns them by kohya key."""
    layers = {}
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        layer = LoraLayer(getattr(parent, child), rank)
        setattr(parent, child, layer)
        layers[f"{prefix}_{name.removeprefix('text_model.').replace('.', '_')}"] = layer
    return layers


def parameters(layers: dict[str, LoraLayer]) -> list[nn.Parameter]:
    return [p for layer in layers.values() for p in (*layer.down.parameters(), *layer.up.parameters())]


def kohya_state_dict(layers: dict[str, LoraLayer]) -> dict[str, torch.Tensor]:
    """The adapters as a kohya/A1111 LoRA (alpha = rank, so weight 1 adds exactly what was trained)."""
    tensors = {}
    for key, layer in layers.items():
        tensors[f"{key}.lora_down.weight"] = layer.down.weight.detach().clone().contiguous()
        tensors[f"{key}.lora_up.weight"] = layer.up.weight.detach().clone().contiguous()
        tensors[f"{key}.alpha"] = torch.tensor(float(layer.rank))
    return tensors
