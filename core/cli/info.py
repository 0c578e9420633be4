"""`sfumato info`: versions, the device Sfumato would use, and where it keeps its files.

Nothing here loads a model, so it answers in the time it takes to import torch.
"""

from __future__ import annotations

import argparse
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sfumato.core import __version__
from sfumato.core.api import DEVICE_CHOICES
from sfumato.core.cli.commands import EXIT_OK, Commands
from sfumato.core.memory_tiers import MEMORY_CHOICES


def register(commands: Commands) -> None:
    parser = commands.add(
        "info",
        summary="show versions, the device in use and where Sfumato keeps its files",
        handler=show_info,
    )
    parser.add_argument(
        "--device", choices=DEVICE_CHOICES, default="auto", help="the device to describe, default auto"
    )
    parser.add_argument(
        "--memory",
        choices=MEMORY_CHOICES,
        default="auto",
        help="the memory setting to describe, default auto",
    )
    parser.add_argument(
        "--speed", choices=("default", "fast"), default="default", help="the speed profile to describe"
    )


def info_rows(device: str = "auto", memory: str = "auto", speed: str = "default") -> list[tuple[str, str]]:
    """(label, value) pairs describing this installation."""
    import torch

    from sfumato.core.devices import pick_device
    from sfumato.core.models.acceleration import SPEED_WORDS, check_speed
    from sfumato.core.models.hub_cache import hub_cache_dir
    from sfumato.core.models.memory_setup import typical_tier
    from sfumato.core.paths import cache_dir, config_dir, data_dir
    from sfumato.core.precision import describe_precision

    choice = pick_device(device)
    tier = typical_tier(choice.device, memory)
    return [
        ("Sfumato", __version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("torch", torch.__version__),
        ("diffusers", _installed_version("diffusers")),
        ("transformers", _installed_version("transformers")),
        ("huggingface_hub", _installed_version("huggingface_hub")),
        ("Device", f"{choice.name} ({choice.device.type}, {str(choice.dtype).removeprefix('torch.')})"),
        ("Precision", describe_precision(choice.dtype)),
        ("CUDA available", _yes_no(torch.cuda.is_available())),
        ("MPS available", _yes_no(_mps_available(torch))),
        ("Memory tier", f"{tier.tier.value} ({memory}; SD 1.5 at 512×512): {tier.reason}"),
        ("Speed profile", SPEED_WORDS[check_speed(speed)]),
        ("Data folder", str(data_dir())),
        ("Cache folder", str(cache_dir())),
        ("Config folder", str(config_dir())),
        ("Hugging Face cache", str(hub_cache_dir())),
    ]


def show_info(args: argparse.Namespace) -> int:
    rows = info_rows(args.device, args.memory, args.speed)
    width = max(len(label) for label, _ in rows) + 1
    for label, value in rows:
        print(f"{label + ':':<{width}} {value}")
    return EXIT_OK


def _installed_version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _mps_available(torch: Any) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
