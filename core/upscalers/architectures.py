"""The ESRGAN-family networks Sfumato runs, with the parameter names their published weights use.

RRDBNet is ESRGAN's generator (RealESRGAN x4plus/x2plus, 4x-UltraSharp and most community ESRGAN
models); SRVGGNetCompact is RealESRGAN's small "realesr-general" network. Both are rebuilt here,
rather than taken from spandrel, because spandrel requires torchvision, which Sfumato never installs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_LEAK = 0.2
_RESIDUAL_SCALE = 0.2


def _conv(channels_in: int, channels_out: int) -> nn.Conv2d:
    return nn.Conv2d(channels_in, channels_out, 3, 1, 1)


class ResidualDenseBlock(nn.Module):
    def __init__(self, features: int, growth: int) -> None:
        super().__init__()
        self.conv1 = _conv(features, growth)
        self.conv2 = _conv(features + growth, growth)
        self.conv3 = _conv(features + 2 * growth, growth)
        self.conv4 = _conv(features + 3 * growth, growth)
        self.conv5 = _conv(features + 4 * growth, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        found = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            found.append(F.leaky_relu(conv(torch.cat(found, 1)), _LEAK))
        return self.conv5(torch.cat(found, 1)) * _RESIDUAL_SCALE + x


class RRDB(nn.Module):
    def __init__(self, features: int, growth: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(features, growth)
        self.rdb2 = ResidualDenseBlock(features, growth)
        self.rdb3 = ResidualDenseBlock(features, growth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * _RESIDUAL_SCALE + x


class RRDBNet(nn.Module):
    """`unshuffle` folds 2×2 (or 4×4) pixels into channels first, as RealESRGAN's x2 (x1) models do;
    each of the `doublings` nearest-neighbour doublings is followed by a convolution."""

    def __init__(
        self,
        *,
        features: int,
        blocks: int,
        growth: int,
        doublings: int,
        unshuffle: int = 1,
        channels: int = 3,
    ) -> None:
        super().__init__()
        self.unshuffle = unshuffle
        self.doublings = doublings
        self.conv_first = _conv(channels * unshuffle * unshuffle, features)
        self.body = nn.Sequential(*(RRDB(features, growth) for _ in range(blocks)))
        self.conv_body = _conv(features, features)
        for index in range(1, doublings + 1):
            self.add_module(f"conv_up{index}", _conv(features, features))
        self.conv_hr = _conv(features, features)
        self.conv_last = _conv(features, channels)

    @property
    def scale(self) -> int:
        return int(2**self.doublings // self.unshuffle)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.unshuffle)
        feature = self.conv_first(x)
        feature = feature + self.conv_body(self.body(feature))
        for index in range(1, self.doublings + 1):
            conv = getattr(self, f"conv_up{index}")
            feature = F.leaky_relu(conv(F.interpolate(feature, scale_factor=2, mode="nearest")), _LEAK)
        return self.conv_last(F.leaky_relu(self.conv_hr(feature), _LEAK))


class SRVGGNetCompact(nn.Module):
    """A plain stack of convolutions with PReLU between them; the last one makes scale² sub-pixels
    per channel, shuffled into place and added to a nearest-neighbour enlargement of the input."""

    def __init__(self, *, features: int, convolutions: int, scale: int, channels: int = 3) -> None:
        super().__init__()
        self.scale = scale
        layers: list[nn.Module] = [_conv(channels, features), nn.PReLU(features)]
        for _ in range(convolutions):
            layers += [_conv(features, features), nn.PReLU(features)]
        layers.append(_conv(features, channels * scale * scale))
        self.body = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        return F.pixel_shuffle(out, self.scale) + F.interpolate(x, scale_factor=self.scale, mode="nearest")


UpscalerNetwork = RRDBNet | SRVGGNetCompact
