"""`sfumato upscale`: enlarge a picture 2× or 4×, with an upscaler model or Lanczos, optionally
redrawn by a Stable Diffusion model at the new size; the picture's recipe is kept."""

from __future__ import annotations

import argparse
from pathlib import Path

from sfumato.core.api import Request, Upscale, request_values
from sfumato.core.cli.arguments import add_request_options, number, request_options
from sfumato.core.cli.commands import Commands, UsageError
from sfumato.core.cli.generate import add_engine_options, run_plan
from sfumato.core.cli.plan import GenerationPlan, check_limits, check_model, check_path_names, checked_output
from sfumato.core.imaging import load_image
from sfumato.core.limits import MAX_SIDE
from sfumato.core.metadata import read_recipe
from sfumato.core.upscalers.library import LANCZOS, upscaler_file

FACTORS = (2, 4)
REFINE_STEP = 8  # a redrawn picture's sides are multiples of 8, like every generated one

DESCRIPTION = f"""\
Enlarge IMAGE {" or ".join(f"{factor}×" for factor in FACTORS)} and save it as a PNG that keeps the
picture's recipe, with the upscale added in AUTOMATIC1111's keys ("Postprocess upscale by",
"Postprocess upscaler").

--upscaler names an upscaler model: an installed one (`<data dir>/models/upscalers/NAME.safetensors`)
or a weights file (.safetensors, or a .pth that is first converted safely). Without it, or with
"{LANCZOS}", the Lanczos filter enlarges.

--refine STRENGTH then redraws the enlarged picture with --model (default: the model in the
picture's recipe) as image to image at that strength (0.2 to 0.4 adds detail and keeps the
picture); the prompt, seed and other settings come from the recipe unless given here. A refined
picture's sides are rounded down to multiples of 8.
"""


def register(commands: Commands) -> None:
    parser = commands.add(
        "upscale", summary="enlarge a picture 2× or 4×, optionally redrawn for detail", handler=upscale,
        description=DESCRIPTION,
    )  # fmt: skip
    parser.add_argument("image", metavar="IMAGE", help="the picture to enlarge")
    parser.add_argument("--factor", type=int, choices=FACTORS, required=True, help="how many times larger")
    parser.add_argument("--out", required=True, metavar="PATH", help="the .png file to write")
    parser.add_argument("--upscaler", default="", metavar="ID", help=f"an upscaler model (default {LANCZOS})")
    refine = parser.add_argument_group("redrawing the enlarged picture")
    refine.add_argument(
        "--refine", type=number(0, 1, above_minimum=True), metavar="STRENGTH", help="above 0 to 1"
    )
    refine.add_argument("--model", metavar="ID", help="the model that redraws (default: the recipe's)")
    refine.add_argument("--prompt", metavar="TEXT", help="what to draw (default: the recipe's prompt)")
    add_request_options(refine, leave_out=("upscaler",))  # --upscaler above is the enlarging model
    add_engine_options(refine)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    # Settings not given on the command line come from the picture's recipe.
    parser.set_defaults(**{name: None for name in request_values(Request(prompt=""))})


def upscale(args: argparse.Namespace) -> int:
    return run_plan(_plan(args), args)


def _plan(args: argparse.Namespace) -> GenerationPlan:
    check_path_names(args, ("image", "out", "upscaler", "model"))
    out = checked_output(Path(args.out))
    source = Path(args.image).expanduser()
    image = load_image(source)
    recipe = read_recipe(source) if source.suffix.lower() == ".png" else None
    given = {name: value for name, value in request_options(args).items() if value is not None}
    if args.prompt is not None:
        given["prompt"] = args.prompt
    settings = request_values(recipe or Request(prompt="")) | given
    width, height = image.shape[1] * args.factor, image.shape[0] * args.factor
    strength = args.refine or 0.0
    model = args.model or (recipe.model if recipe else "")
    if strength:
        width, height = width // REFINE_STEP * REFINE_STEP, height // REFINE_STEP * REFINE_STEP
        if not model:
            raise UsageError("--refine needs --model: the picture has no recipe that names its model")
        if not settings["prompt"]:
            raise UsageError("--refine needs --prompt: the picture has no recipe with a prompt")
        check_model(model)
        check_limits(
            argparse.Namespace(**(settings | {"batch": None})), (settings["prompt"], settings["negative"])
        )
    if max(width, height) > MAX_SIDE:
        raise UsageError(f"the result would be {width}×{height}; each side can be at most {MAX_SIDE} pixels")
    if args.upscaler:
        upscaler_file(args.upscaler)  # a missing upscaler is reported before the engine starts
    settings |= {"width": width, "height": height, "upscaler": args.upscaler or ""}
    job = Upscale(**settings, model=model, init=image, strength=strength, recipe=recipe)
    return GenerationPlan(job, (out,))
