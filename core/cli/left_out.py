"""What `sfumato generate` was not told, filled in: first from `--recipe IMAGE.png`, then from the
model's own defaults (`sfumato.core.models.defaults`), then from the settings' declared defaults.

The options read None when left out, so a value given on the command line always wins, even one
equal to a default."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from sfumato.core.api import BadInput, Mode, Recipe, request_fields, setting_of
from sfumato.core.cli.commands import UsageError
from sfumato.core.metadata import read_recipe
from sfumato.core.models.defaults import model_defaults
from sfumato.core.models.last_used import default_model
from sfumato.core.recipe_models import check_addons, recipe_model

_NEEDS = {
    Mode.IMG2IMG: "--init with the image it started from",
    Mode.INPAINT: "--init and --mask with the image and mask it was made from",
    Mode.OUTPAINT: "--init and --extend with the image it extended and the margins",
}


def fill_left_out(args: argparse.Namespace) -> None:
    """Give every option `generate` reads a value, in place."""
    recipe = recipe_of(Path(args.recipe)) if args.recipe else None
    if recipe is not None:
        _fill_from_recipe(args, recipe, f'"{Path(args.recipe).name}"')
    if args.prompt is None:
        raise UsageError("--prompt is required: what the image should show (or --recipe IMAGE.png)")
    if args.model is None:
        args.model = default_model()
    defaults = model_defaults(args.model)
    for name in ("steps", "sampler", "cfg"):
        if getattr(args, name) is None:
            setattr(args, name, getattr(defaults, name))
    for declared in request_fields():
        if setting_of(declared).flag is not None and getattr(args, declared.name) is None:
            setattr(args, declared.name, declared.default)
    args.native_size = (defaults.width, defaults.height)
    if args.out is None:
        args.out = time.strftime("sfumato-%Y%m%d-%H%M%S.png")


def recipe_of(path: Path) -> Recipe:
    """The recipe a PNG carries; BadInput in plain words when it is not a PNG or carries none."""
    recipe = read_recipe(path)
    if recipe is None:
        raise BadInput(
            f'"{path.name}" carries no recipe: it was not made by Sfumato or AUTOMATIC1111, or its '
            "settings were removed when it was saved again."
        )
    return recipe


def _fill_from_recipe(args: argparse.Namespace, recipe: Recipe, source: str) -> None:
    if recipe.mode is not Mode.TXT2IMG and args.init is None:
        raise BadInput(
            f"The recipe in {source} was made by {recipe.mode.value} from a picture; to make it again, "
            f"give {_NEEDS[recipe.mode]}."
        )
    for declared in request_fields():
        if setting_of(declared).flag is not None and getattr(args, declared.name) is None:
            setattr(args, declared.name, getattr(recipe, declared.name))
    if args.prompt is None:
        args.prompt = recipe.prompt
    if args.width is None and args.height is None and args.init is None:
        args.width, args.height = recipe.width, recipe.height
    if recipe.mode is not Mode.TXT2IMG:
        for name in ("strength", "mask_blur"):
            if getattr(args, name) is None and getattr(recipe, name) is not None:
                setattr(args, name, getattr(recipe, name))
    if args.model is None:
        args.model = recipe_model(recipe, source)
    check_addons(replace(recipe, prompt=args.prompt, negative=args.negative), source)
