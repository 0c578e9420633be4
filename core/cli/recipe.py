"""`sfumato recipe IMAGE.png`: print the recipe a PNG carries, as AUTOMATIC1111 "parameters" text."""

from __future__ import annotations

import argparse
from pathlib import Path

from sfumato.core.cli.commands import EXIT_OK, Commands
from sfumato.core.cli.left_out import recipe_of
from sfumato.core.metadata import format_parameters


def register(commands: Commands) -> None:
    parser = commands.add(
        "recipe",
        summary="print the recipe a PNG image carries",
        handler=print_recipe,
        description="Print the recipe (prompt, model, seed, sampler, size, ...) stored in a PNG made by "
        'Sfumato or AUTOMATIC1111, as AUTOMATIC1111 "parameters" text. Make the image again with '
        "`sfumato generate --recipe IMAGE.png`.",
    )
    parser.add_argument("image", metavar="IMAGE.png", help="a PNG image")


def print_recipe(args: argparse.Namespace) -> int:
    print(format_parameters(recipe_of(Path(args.image))))
    return EXIT_OK
