"""`sfumato zoom` (infinite zoom videos) and `sfumato morph` (prompt-morph videos).

Both print the video files they wrote, one per line. Ctrl+C cancels cleanly: a zoom keeps its
finished keyframes, and the same command run again continues from them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

import numpy as np

from sfumato.core.api import (
    BadInput,
    Cancelled,
    Failed,
    Finished,
    SfumatoError,
    Step,
)
from sfumato.core.cli.arguments import add_request_options, number, request_options, whole_number
from sfumato.core.cli.commands import EXIT_INTERRUPTED, EXIT_OK, Commands
from sfumato.core.cli.generate import add_engine_options, engine_settings, library_messages_for
from sfumato.core.cli.plan import check_limits, check_model, check_path_names
from sfumato.core.cli.progress import Progress
from sfumato.core.engine import Engine
from sfumato.core.imaging import load_image
from sfumato.core.limits import MAX_SIDE, SEED_RANGE, quoted
from sfumato.core.metadata import save_png
from sfumato.core.morph_api import Morph, check_morph, morph_frame_count, morph_prompts
from sfumato.core.video import check_video_output, write_video
from sfumato.core.zoom.cues import parse_cue
from sfumato.core.zoom.progress import (
    FrameEncoded,
    KeyframeFinished,
    KeyframeReused,
    KeyframeStep,
    ZoomProgress,
)
from sfumato.core.zoom.render import ZoomVideo, check_video, render_zoom
from sfumato.core.zoom.settings import Direction, PromptCue, ZoomSettings, check_settings

DEFAULT_SIZE = (512, 512)
MORPH_FPS = 12.0

ZOOM_DESCRIPTION = """\
Make an infinite zoom video. Zooming out, each keyframe shrinks the one before into its middle and
paints a new border around it; zooming in, each one enlarges the middle of the one before and
redraws it with new detail. The video zooms smoothly through the keyframes.

The keyframes are saved as PNGs with their recipes in a folder next to the video (see
--keyframes-dir). If the render is cancelled or stops, run the same command again: it continues
from the last finished keyframe. Keyframes whose settings changed are made again.

--prompt-at changes the prompt from a keyframe on (`3:a castle`; keyframes are counted from 0, so
keyframe 3 fills the screen 3 keyframe durations in) or from a time in the video (`4.5s:a castle`);
give it as often as needed.
"""

MORPH_DESCRIPTION = """\
Make a video that morphs from prompt to prompt: --prompts "a cat | a dog | a horse". The prompts
are blended smoothly, and with --seeds (one per prompt) the starting noise too; otherwise every
frame starts from --seed, so only the prompt changes.
"""

T = TypeVar("T")


def register(commands: Commands) -> None:
    zoom = commands.add(
        "zoom", summary="make an infinite zoom video", handler=run_zoom_command, description=ZOOM_DESCRIPTION
    )
    zoom.add_argument(
        "--model",
        required=True,
        help="a model id (see `sfumato models list`), a diffusers folder or a .safetensors file",
    )
    zoom.add_argument("--prompt", required=True, metavar="TEXT", help="what the keyframes show")
    zoom.add_argument(
        "--prompt-at",
        type=prompt_cue,
        action="append",
        default=[],
        metavar="K:TEXT",
        help="from keyframe K (0 is the first; or from K seconds, written like 4.5s) on, use prompt TEXT",
    )
    zoom.add_argument("--direction", choices=[d.value for d in Direction], default="out", help="default out")
    zoom.add_argument("--init", metavar="IMAGE", help="start from this image instead of generating one")
    zoom.add_argument("--keyframes", type=whole_number(2), default=8, metavar="N", help="default 8")
    zoom.add_argument(
        "--factor", type=number(1.1, 8), default=2.0, metavar="F", help="zoom per keyframe, default 2"
    )
    zoom.add_argument(
        "--strength",
        type=number(0, 1, above_minimum=True),
        metavar="F",
        help="how much is redrawn: zooming in default 0.5; zooming out, of the new border",
    )
    zoom.add_argument(
        "--mask-blur", type=whole_number(0), default=8, metavar="N", help="seam blending, default 8"
    )
    zoom.add_argument("--fps", type=number(0, 120, above_minimum=True), default=30.0, metavar="F")
    zoom.add_argument(
        "--seconds-per-keyframe",
        type=number(0, above_minimum=True),
        default=1.0,
        metavar="S",
        help="default 1",
    )
    zoom.add_argument("--size", type=image_size, metavar="WxH", help="keyframe size, default 512x512")
    zoom.add_argument("--video-size", type=image_size, metavar="WxH", help="default: the keyframe size")
    zoom.add_argument(
        "--keyframes-dir",
        metavar="DIR",
        help="where keyframes are kept, default VIDEO-keyframes next to --out",
    )
    zoom.add_argument("--fresh", action="store_true", help="make all keyframes again, ignoring earlier ones")
    _add_common(zoom)

    morph = commands.add(
        "morph", summary="make a video morphing between prompts", handler=run_morph_command,
        description=MORPH_DESCRIPTION,
    )  # fmt: skip
    morph.add_argument(
        "--model",
        required=True,
        help="a model id (see `sfumato models list`), a diffusers folder or a .safetensors file",
    )
    morph.add_argument(
        "--prompts", required=True, metavar='"A | B | ..."', help="the prompts, separated by |"
    )
    morph.add_argument("--seeds", type=seed_list, metavar="S1,S2,...", help="one seed per prompt")
    morph.add_argument(
        "--frames", type=whole_number(1), default=12, metavar="N", help="frames per transition"
    )
    morph.add_argument("--fps", type=number(0, 120, above_minimum=True), default=MORPH_FPS, metavar="F")
    morph.add_argument("--size", type=image_size, metavar="WxH", help="default 512x512")
    morph.add_argument("--frames-dir", metavar="DIR", help="also save every frame as a PNG in this folder")
    _add_common(morph)


def _add_common(parser: argparse.ArgumentParser) -> None:
    add_request_options(parser)
    add_engine_options(parser)
    parser.add_argument(
        "--out",
        required=True,
        action="append",
        metavar="VIDEO",
        help="the .mp4, .webm or .gif file to write; repeat for several formats",
    )
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)


# ---- argument types ---------------------------------------------------------------------------------

_SIZE = re.compile(r"(\d{1,9})\s*[xX×]\s*(\d{1,9})")


def image_size(text: str) -> tuple[int, int]:
    """`WxH` in pixels, e.g. `512x768`."""
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(f"expected a size like 512x768, not '{quoted(text)}'")
    width, height = int(found.group(1)), int(found.group(2))
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"must be at least 16x16, not {text.strip()}")
    if max(width, height) > MAX_SIDE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SIDE} pixels a side, not {text.strip()}")
    return width, height


def prompt_cue(text: str) -> PromptCue:
    """`K:TEXT` (from keyframe K, 0 being the first) or `Ts:TEXT` (from T seconds into the video)."""
    try:
        return parse_cue(text)
    except BadInput as error:
        raise argparse.ArgumentTypeError(error.message) from None


def seed_list(text: str) -> tuple[int, ...]:
    """Comma-separated whole numbers."""
    parse = whole_number(0, SEED_RANGE - 1)
    try:
        return tuple(parse(part) for part in text.split(","))
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"expected seeds like 1,2,3: {error}") from None


# ---- zoom ------------------------------------------------------------------------------------------


def zoom_settings(args: argparse.Namespace) -> ZoomSettings:
    width, height = args.size or DEFAULT_SIZE
    return ZoomSettings(
        **request_options(args), model=args.model, prompt=args.prompt, cues=tuple(args.prompt_at),
        width=width, height=height, direction=Direction(args.direction), keyframes=args.keyframes,
        factor=args.factor, strength=args.strength, mask_blur=args.mask_blur,
        seconds_per_keyframe=args.seconds_per_keyframe,
    )  # fmt: skip


def keyframes_folder(args: argparse.Namespace) -> Path:
    if args.keyframes_dir:
        return Path(args.keyframes_dir)
    first = Path(args.out[0])
    return first.with_name(f"{first.stem}-keyframes")


@dataclass(frozen=True)
class ZoomPlan:
    settings: ZoomSettings
    video: ZoomVideo
    start: np.ndarray | None
    folder: Path


def plan_zoom(args: argparse.Namespace) -> ZoomPlan:
    """The zoom to make, with everything checked that can be before the engine starts."""
    check_limits(args, (args.prompt, args.negative, *(cue.prompt for cue in args.prompt_at)))
    check_path_names(args, ("model", "out", "init", "keyframes_dir"))
    settings = zoom_settings(args)
    video = ZoomVideo(tuple(Path(out) for out in args.out), args.fps, args.video_size)
    check_settings(settings)
    check_video(settings, video)
    check_model(settings.model)
    start = load_image(args.init) if args.init else None
    return ZoomPlan(settings, video, start, keyframes_folder(args))


def run_zoom_command(args: argparse.Namespace) -> int:
    plan = plan_zoom(args)
    settings, video, start, folder = plan.settings, plan.video, plan.start, plan.folder
    progress = Progress.for_stream(sys.stderr)
    shown = _ZoomProgressLines(progress)

    async def work(engine: Engine) -> int:
        try:
            await render_zoom(
                engine, settings, folder, video, start=start, fresh=args.fresh, on_progress=shown
            )
        except asyncio.CancelledError:
            progress.message(
                f"Cancelled. {shown.finished} keyframes are kept in {folder}; run the same command again "
                "to continue."
            )
            raise
        return _print_paths(video.paths, sys.stdout)

    return _run_on_engine(args, progress, work)


class _ZoomProgressLines:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.finished = 0

    def __call__(self, event: ZoomProgress) -> None:
        match event:
            case KeyframeReused(index=index, count=count):
                self.finished = index + 1
                self.progress.message(f"keyframe {index + 1}/{count} kept from an earlier run")
            case KeyframeStep(index=index, count=count, step=step, steps=steps):
                self.progress.show(Step("zoom", step, steps, index, count))
            case KeyframeFinished(index=index, count=count, path=path):
                self.finished = index + 1
                self.progress.message(f"keyframe {index + 1}/{count} saved: {path}")
            case FrameEncoded(frame=1, frames=frames):
                self.progress.message(f"encoding {frames} frames")


# ---- morph -----------------------------------------------------------------------------------------


def morph_job(args: argparse.Namespace) -> Morph:
    width, height = args.size or DEFAULT_SIZE
    return Morph(
        **request_options(args), model=args.model, prompt=args.prompts, width=width, height=height,
        seeds=args.seeds or (), frames=args.frames,
    )  # fmt: skip


@dataclass(frozen=True)
class MorphPlan:
    job: Morph
    paths: tuple[Path, ...]
    frames_dir: Path | None


def plan_morph(args: argparse.Namespace) -> MorphPlan:
    """The morph to make, with everything checked that can be before the engine starts."""
    check_limits(args, (*morph_prompts(args.prompts), args.negative))
    check_path_names(args, ("model", "out", "frames_dir"))
    job = morph_job(args)
    check_morph(job)
    paths = tuple(Path(out) for out in args.out)
    for path in paths:
        check_video_output(path, job.width, job.height, args.fps)
    frames_dir = Path(args.frames_dir) if args.frames_dir else None
    if frames_dir is not None and not frames_dir.is_dir():
        raise BadInput(f'The folder "{frames_dir}" for the frames does not exist. Create it first.')
    check_model(job.model)
    return MorphPlan(job, paths, frames_dir)


def run_morph_command(args: argparse.Namespace) -> int:
    plan = plan_morph(args)
    job, paths, frames_dir = plan.job, plan.paths, plan.frames_dir
    progress = Progress.for_stream(sys.stderr)

    async def work(engine: Engine) -> int:
        images = await _morph_frames(engine, job, progress)
        if frames_dir is not None:
            for index, (image, recipe) in enumerate(images):
                save_png(frames_dir / f"frame-{index:04d}.png", image, recipe)
        progress.message(f"encoding {len(images)} frames")
        await write_video((image for image, _recipe in images), paths, args.fps)
        return _print_paths(paths, sys.stdout)

    return _run_on_engine(args, progress, work)


async def _morph_frames(engine: Engine, job: Morph, progress: Progress) -> list[tuple[np.ndarray, Any]]:
    job_id = engine.submit(job, listen=True)
    count = morph_frame_count(job)
    try:
        async for event in engine.events(job_id):
            progress.show(event)
            match event:
                case Finished(images=images, recipes=recipes):
                    return list(zip(images, recipes, strict=True))
                case Failed(kind=kind, message=message):
                    raise SfumatoError(message, kind)
                case Cancelled():
                    break
    except asyncio.CancelledError:
        engine.cancel(job_id)
        raise
    raise SfumatoError(f"The morph of {count} frames was cancelled.")


# ---- running ---------------------------------------------------------------------------------------


def _run_on_engine(
    args: argparse.Namespace, progress: Progress, work: Callable[[Engine], Coroutine[Any, Any, int]]
) -> int:
    settings = engine_settings(args)

    async def main() -> int:
        engine = await Engine.start(settings)
        try:
            return await work(engine)
        finally:
            progress.end_line()
            await engine.close()

    try:
        with library_messages_for(settings):
            return asyncio.run(_cancelled_by_ctrl_c(main()))
    except asyncio.CancelledError:
        progress.message("Stopped.")
        return EXIT_INTERRUPTED


async def _cancelled_by_ctrl_c(work: Coroutine[Any, Any, T]) -> T:
    """Run `work`; Ctrl+C cancels it (the engine stops within a step) instead of killing the process."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()

    def cancel() -> None:
        loop.call_soon_threadsafe(task.cancel)

    with _on_interrupt(cancel):
        return await task


@contextlib.contextmanager
def _on_interrupt(handler: Callable[[], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: handler())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _print_paths(paths: tuple[Path, ...], out: TextIO) -> int:
    for path in paths:
        print(path, file=out, flush=True)
    return EXIT_OK
