"""`sfumato generate`: make images from a prompt, an image, a mask or an image to extend."""

from __future__ import annotations

import argparse
import contextlib
import os

from sfumato.core.api import DEVICE_CHOICES
from sfumato.core.cli import DEBUG_VARIABLE
from sfumato.core.cli.arguments import add_request_options, extend_margins, number, whole_number
from sfumato.core.cli.commands import EXIT_OK, Commands
from sfumato.core.cli.plan import GenerationPlan, plan_from_arguments
from sfumato.core.cli.run import engine_log_path, run_generation
from sfumato.core.engine_settings import EngineSettings
from sfumato.core.logs import library_messages_to
from sfumato.core.memory_tiers import MEMORY_CHOICES
from sfumato.core.models.acceleration import SPEED_CHOICES
from sfumato.core.models.last_used import remember_last_model

IN_PROCESS_VARIABLE = "SFUMATO_IN_PROCESS"

DESCRIPTION = """\
Generate images with a Stable Diffusion model and save them as PNG files that carry their recipe
(prompt, seed, sampler, ...) in the AUTOMATIC1111 "parameters" format.

The mode follows from the options:
  --extend  outpaint: extend the --init image by the margins
  --mask    inpaint: repaint the white (or opaque) area of the mask on the --init image
  --init    image to image: redraw the --init image, guided by the prompt
  otherwise text to image

Left out, --model is the model used last (or the demo model), and the size, --steps, --sampler and
--cfg are the model's own defaults (see "Per-model defaults" in the README). With --recipe
IMAGE.png, everything the recipe records is used unless given here; a model, LoRA or embedding it
names that is not installed is an error that names it.

With --batch N, `--out out.png` writes out.png, out-1.png, ..., out-(N-1).png; image k has seed
SEED+k. Existing files are replaced. Each image is written as soon as it is made, and its path
printed, one per line; an image that cannot be written is reported and the others are still
written (the exit code is then 1).
Press Ctrl+C to cancel: the images already made are kept, and the exit code is 130. SIGTERM (and
SIGHUP) cancel the same way, with exit code 143 (129).
"""


def register(commands: Commands) -> None:
    parser = commands.add(
        "generate",
        summary="generate images and save them as PNG files",
        handler=generate,
        description=DESCRIPTION,
    )
    what = parser.add_argument_group("what to generate")
    what.add_argument(
        "--model",
        help="a model id from `sfumato models list` (catalog id, Hugging Face repo id, imported name, demo),"
        " a diffusers model folder or a .safetensors checkpoint; default: the model used last, else demo",
    )
    what.add_argument("--prompt", metavar="TEXT", help="what the image should show")
    what.add_argument(
        "--out",
        metavar="PATH",
        help="the .png file to write (see above for batches); default sfumato-DATE-TIME.png here",
    )
    what.add_argument(
        "--recipe",
        metavar="IMAGE.png",
        help="make again the image whose recipe this PNG carries (Sfumato's or AUTOMATIC1111's);"
        " the options given change it",
    )

    how = parser.add_argument_group("how")
    add_request_options(how, left_out_is_none=True)
    how.add_argument(
        "--width",
        type=whole_number(8),
        metavar="W",
        help="multiple of 8; default the model's native size, or the --init image's width",
    )
    how.add_argument("--height", type=whole_number(8), metavar="H", help="like --width")
    how.add_argument(
        "--batch", type=whole_number(1), default=1, metavar="N", help="images to make, default 1"
    )
    add_engine_options(how)

    image = parser.add_argument_group("starting from an image")
    image.add_argument("--init", metavar="IMAGE", help="the image to start from")
    image.add_argument(
        "--strength",
        type=number(0, 1, above_minimum=True),
        metavar="F",
        help="how much to change it, above 0 to 1 (default 0.75; inpainting 1)",
    )
    image.add_argument(
        "--mask", metavar="MASK", help="inpaint: white or opaque where to repaint, same size as --init"
    )
    image.add_argument(
        "--extend",
        type=extend_margins,
        metavar="LEFT,TOP,RIGHT,BOTTOM",
        help="outpaint: pixels to add on each side, multiples of 8",
    )
    image.add_argument(
        "--mask-blur",
        type=whole_number(0),
        metavar="N",
        help="soften the mask edge (default 4; outpainting 8)",
    )
    image.add_argument(
        "--only-masked",
        action="store_true",
        help="inpaint a crop around the mask at --width x --height, then paste it back",
    )
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)


def add_engine_options(group: argparse._ActionsContainer) -> None:
    """Where and how the engine runs: `--device`, `--memory` and `--speed`."""
    group.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where to run, default auto")
    group.add_argument(
        "--memory",
        choices=MEMORY_CHOICES,
        default="auto",
        help="memory tier: how much stays on the GPU (default auto: chosen per job from the free memory)",
    )
    group.add_argument(
        "--speed",
        choices=SPEED_CHOICES,
        default="default",
        help="speed profile: default, or fast (compiles the model for the GPU; the first image takes longer)",
    )


def generate(args: argparse.Namespace) -> int:
    return run_plan(plan_from_arguments(args), args)


def engine_settings(args: argparse.Namespace) -> EngineSettings:
    """The engine the options of `add_engine_options` and `--in-process` (or SFUMATO_IN_PROCESS) ask
    for; an engine process writes its log where the studio's does."""
    in_process = args.in_process or os.environ.get(IN_PROCESS_VARIABLE, "") not in ("", "0")
    return EngineSettings(
        device=args.device,
        preview_every=0,
        in_process=in_process,
        log_file="" if in_process else str(engine_log_path()),
        memory=args.memory,
        speed=args.speed,
    )


def library_messages_for(settings: EngineSettings) -> contextlib.AbstractContextManager[object]:
    """An engine in this process sends its libraries' warnings to its log, as an engine process does."""
    if settings.in_process:
        return library_messages_to(engine_log_path(), debug=bool(os.environ.get(DEBUG_VARIABLE)))
    return contextlib.nullcontext()


def run_plan(plan: GenerationPlan, args: argparse.Namespace) -> int:
    """Run `plan` on the engine `args` ask for."""
    settings = engine_settings(args)
    with library_messages_for(settings):
        code = run_generation(plan, settings)
    if code == EXIT_OK and plan.job.model:
        remember_last_model(plan.job.model)
    return code
