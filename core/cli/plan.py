"""Turning `sfumato generate` arguments into a job, checking cheaply everything that can be checked
before the engine starts: option combinations, sizes, files, the model and the output folder."""

from __future__ import annotations

import argparse
import errno
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sfumato.core.api import BadInput, Img2Img, Inpaint, Job, ModelInvalid, Outpaint, Txt2Img
from sfumato.core.cli.arguments import request_options
from sfumato.core.cli.commands import UsageError
from sfumato.core.cli.left_out import fill_left_out
from sfumato.core.imaging import load_image, load_mask
from sfumato.core.limits import (
    SIZE_STEP,
    check_batch,
    check_cfg,
    check_mask_blur,
    check_seed,
    check_side,
    check_size,
    check_steps,
    quoted,
)
from sfumato.core.models.addon_library import checked_prompt_addons
from sfumato.core.models.checkpoint_kind import identify
from sfumato.core.models.safetensors_header import read_header
from sfumato.core.models.source import SourceKind, resolve_model
from sfumato.core.prompt_syntax import parse_weighted
from sfumato.core.schedulers import find_sampler

PNG_SUFFIX = ".png"


@dataclass(frozen=True)
class GenerationPlan:
    job: Job
    outputs: tuple[Path, ...]


def plan_from_arguments(args: argparse.Namespace) -> GenerationPlan:
    check_path_names(args, ("recipe",))
    fill_left_out(args)
    check_option_combinations(args)
    check_limits(args, (args.prompt, args.negative))
    check_path_names(args, ("model", "out", "init", "mask"))
    find_sampler(args.sampler)
    outputs = output_paths(checked_output(Path(args.out)), args.batch)
    _check_path_name(str(outputs[-1]), "--out")  # the longest name of a batch
    check_model(args.model)
    checked_prompt_addons(args.model, args.prompt, args.negative)
    return GenerationPlan(build_job(args), outputs)


def output_paths(out: Path, count: int) -> tuple[Path, ...]:
    """Where a batch of `count` images goes: `out.png`, then `out-1.png`, `out-2.png`, ..."""
    return (out, *(out.with_name(f"{out.stem}-{index}{out.suffix}") for index in range(1, count)))


def check_limits(args: argparse.Namespace, prompts: Iterable[str]) -> None:
    """The numbers and prompts of a command line against the engine's limits (core/limits.py), so
    that what the engine would refuse is refused before it starts. Options a command lacks are skipped."""
    check_steps(args.steps, "--steps")
    check_cfg(args.cfg, "--cfg")
    check_seed(args.seed, "--seed")
    for name, check in _OPTIONAL_CHECKS.items():
        value = getattr(args, name, None)
        if value is not None:
            check(value, f"--{name.replace('_', '-')}")
    for prompt in prompts:
        parse_weighted(prompt)


def check_path_names(args: argparse.Namespace, options: Iterable[str]) -> None:
    """Refuse, in plain words, a file name given to one of `options` that the system cannot even look
    up (too long, or in a folder Sfumato may not look into): later checks take such names for files
    that are missing or present."""
    for option in options:
        value = getattr(args, option, None)
        for text in [value] if isinstance(value, str) else value or []:
            _check_path_name(text, f"--{option.replace('_', '-')}")


def _check_path_name(text: str, what: str) -> None:
    try:
        os.stat(Path(text).expanduser())
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise BadInput(f'The file name given to {what} is too long: "{quoted(text)}".') from None
        raise BadInput(
            f'The file given to {what}, "{quoted(text)}", cannot be looked at: {error.strerror}.'
        ) from None
    except ValueError:  # a NUL character
        raise BadInput(
            f'The file name given to {what}, "{quoted(text)}", is not a valid file name.'
        ) from None


_OPTIONAL_CHECKS: dict[str, Callable[[int, str], None]] = {
    "batch": check_batch,
    "width": check_side,
    "height": check_side,
    "mask_blur": check_mask_blur,
}


def check_option_combinations(args: argparse.Namespace) -> None:
    sized = args.width is not None or args.height is not None
    if args.mask is not None and args.init is None:
        raise UsageError("--mask needs --init: the image whose masked area is repainted")
    if args.extend is not None and args.init is None:
        raise UsageError("--extend needs --init: the image to extend")
    if args.extend is not None and args.mask is not None:
        raise UsageError("--extend and --mask cannot be combined: outpainting repaints only the new margins")
    if args.strength is not None and args.init is None:
        raise UsageError("--strength only applies with --init (how much of the image is repainted)")
    if args.only_masked and args.mask is None:
        raise UsageError("--only-masked only applies with --mask")
    if args.mask_blur is not None and args.mask is None and args.extend is None:
        raise UsageError("--mask-blur only applies with --mask or --extend")
    if args.extend is not None and sized:
        raise UsageError(
            "--width and --height do not apply with --extend: the result is the --init image's size "
            "plus the margins"
        )
    if args.mask is not None and not args.only_masked and sized:
        raise UsageError(
            "--width and --height do not apply to inpainting, which keeps the --init image's size; "
            "with --only-masked they set the size the masked area is generated at"
        )


def checked_output(out: Path) -> Path:
    if out.suffix.lower() != PNG_SUFFIX:
        raise BadInput(
            f'The output "{out}" must be a .png file name: Sfumato writes PNG images with their '
            "settings stored inside."
        )
    if out.is_dir():
        raise BadInput(f'"{out}" is a folder; give a file name in it, such as "{out / "image.png"}".')
    folder = out.parent
    if not folder.exists():
        raise BadInput(
            f'The output folder "{folder}" does not exist. Create it first, or choose another --out.'
        )
    if not folder.is_dir():
        raise BadInput(f'The output "{out}" is not inside a folder: "{folder}" is a file.')
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f'Sfumato is not allowed to write in "{folder}". Choose another folder for --out.')
    return out


def check_model(reference: str) -> None:
    """Refuse a model that is missing, unreadable or not a Stable Diffusion model, from its files'
    headers only (no weights are read)."""
    source = resolve_model(reference)
    if source.kind is SourceKind.SINGLE_FILE:
        identify(read_header(source.path), name=source.path.name)
        return
    index = source.path / "model_index.json"
    if not os.access(index, os.R_OK):
        raise ModelInvalid(
            f'Sfumato is not allowed to read "{index}". Check the model folder\'s permissions.'
        )


def build_job(args: argparse.Namespace) -> Job:
    common: dict[str, Any] = request_options(args) | dict(
        model=args.model, prompt=args.prompt, batch=args.batch
    )
    # Options left out keep the job's own defaults (they differ between modes).
    common.update(
        {name: getattr(args, name) for name in ("strength", "mask_blur") if getattr(args, name) is not None}
    )
    if args.init is None:
        width, height = checked_size(args.width, args.height, args.native_size)
        return Txt2Img(**common, width=width, height=height)
    init = load_image(args.init)
    if args.extend is not None:
        left, top, right, bottom = args.extend
        check_size(init.shape[1] + left + right, init.shape[0] + top + bottom, "The extended image")
        return Outpaint(**common, init=init, left=left, top=top, right=right, bottom=bottom)
    if args.mask is not None:
        mask = load_mask(args.mask, size=_size_of(init))
        if not mask.any():
            raise BadInput(
                f"The mask {Path(args.mask).name} is empty: paint white where the image should change."
            )
        default = args.native_size if args.only_masked else _size_of(init)
        width, height = checked_size(args.width, args.height, default)
        return Inpaint(
            **common, init=init, mask=mask, only_masked=args.only_masked, width=width, height=height
        )
    width, height = checked_size(args.width, args.height, _size_of(init), image=Path(args.init))
    return Img2Img(**common, init=init, width=width, height=height)


def checked_size(
    width: int | None, height: int | None, default: tuple[int, int], image: Path | None = None
) -> tuple[int, int]:
    """The size to generate at: the given sides, the rest from `default` (the size of `image`, if any)."""
    size = (default[0] if width is None else width, default[1] if height is None else height)
    if not size[0] % SIZE_STEP and not size[1] % SIZE_STEP:
        check_size(*size)
        return size
    suggestion = f"--width {_nearest_step(size[0])} --height {_nearest_step(size[1])}"
    if image is not None and (width is None or height is None):
        raise BadInput(
            f"The image {image.name} is {default[0]}x{default[1]} pixels, and the size to generate at "
            f"must be a multiple of {SIZE_STEP} on both sides. Choose one with --width and --height, "
            f"e.g. {suggestion}."
        )
    raise BadInput(
        f"The size {size[0]}x{size[1]} is not a multiple of {SIZE_STEP} on both sides; try {suggestion}."
    )


def _nearest_step(value: int) -> int:
    return max(SIZE_STEP, round(value / SIZE_STEP) * SIZE_STEP)


def _size_of(image: np.ndarray) -> tuple[int, int]:
    return int(image.shape[1]), int(image.shape[0])
