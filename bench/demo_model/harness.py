"""Behavioural scores of a model on demo scenes, run through the regular engine.

Each score takes prompts whose colour × shape × position combination never appeared in the demo
model's training captions, runs one engine job per prompt with fixed seeds, and asks the evaluator
what a person would check. `tamper` lets a caller alter each job before it is submitted, to prove
that a broken job (an inverted mask, say) is caught.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from bench.demo_model.evaluate import (
    Verdict,
    background_fraction,
    backgrounds_across,
    changed_fraction,
    judge,
    muddy_fraction,
    read_image,
    seam_contrast,
)
from bench.demo_model.scenes import (
    COLOURS,
    SHAPES,
    Scene,
    all_scenes,
    caption,
    is_held_out,
    render,
    shape_box,
)
from sfumato.core.api import Inpaint, Job, Outpaint, Txt2Img
from sfumato.core.engine import Engine
from sfumato.core.masks import grow_mask

SIZE = 64
# A seam is visible from about this many RGB levels of contrast on flat colour.
VISIBLE_SEAM = 10.0
# Outpainting and zooming must leave at least this much of the new area the background colour.
CONTINUATION = 0.9
INPAINT_MARGIN = 3
ZOOM_KEYFRAMES = 4
ZOOM_FACTOR = 2.0

Tamper = Callable[[Job], Job]
SCENE_CHECKS = tuple(f.name for f in fields(Verdict))


def untouched(job: Job) -> Job:
    return job


@dataclass(frozen=True)
class Settings:
    """How every job of a score is generated. Image n of a score uses seed `seed + n`."""

    model: str
    steps: int = 20
    sampler: str = "Euler a"
    cfg: float = 7.0
    seed: int = 1000


@dataclass(frozen=True)
class Case:
    """One prompt's result: `problems` names what was wrong (empty when all is right)."""

    prompt: str
    problems: tuple[str, ...]
    detail: str = ""
    images: tuple[np.ndarray, ...] = field(default=(), compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        return "ok" if self.passed else self.detail or "wrong " + ", ".join(self.problems)


@dataclass(frozen=True)
class Score:
    name: str
    cases: tuple[Case, ...]
    checks: tuple[str, ...] = ()  # the problems each case is checked for

    @property
    def rate(self) -> float:
        return sum(case.passed for case in self.cases) / len(self.cases) if self.cases else 0.0

    def rate_without(self, problem: str) -> float:
        """The fraction of prompts that did not have `problem` (one part of what the score checks)."""
        return (
            sum(problem not in case.problems for case in self.cases) / len(self.cases) if self.cases else 0.0
        )

    def check_rates(self) -> dict[str, float]:
        """`rate_without` for every check, by name."""
        return {problem: self.rate_without(problem) for problem in self.checks}

    def failures(self) -> list[Case]:
        return [case for case in self.cases if not case.passed]


def evaluation_scenes(count: int, seed: int = 0) -> list[Scene]:
    """`count` held-out scenes (never captioned in training), a fixed sample spread over all sizes."""
    held_out = [scene for scene in all_scenes() if is_held_out(scene)]
    random.Random(seed).shuffle(held_out)
    return held_out[:count]


async def _image(engine: Engine, job: Job, tamper: Tamper) -> np.ndarray:
    finished = await engine.run(tamper(job))
    return finished.images[0]


# ---- text to image ------------------------------------------------------------------------------


def txt2img_job(scene: Scene, settings: Settings, index: int) -> Txt2Img:
    return Txt2Img(
        model=settings.model, prompt=caption(scene, index), sampler=settings.sampler, steps=settings.steps,
        cfg=settings.cfg, seed=settings.seed + index, width=SIZE, height=SIZE,
    )  # fmt: skip


async def txt2img_score(
    engine: Engine, settings: Settings, scenes: list[Scene], tamper: Tamper = untouched
) -> Score:
    """Prompt adherence: background, shape colour, kind, size and position all right, one shape."""
    cases = []
    for index, scene in enumerate(scenes):
        job = txt2img_job(scene, settings, index)
        image = await _image(engine, job, tamper)
        verdict = judge(image, scene)
        cases.append(Case(job.prompt, tuple(verdict.wrong()), images=(image,)))
    return Score("txt2img adherence", tuple(cases), SCENE_CHECKS)


# ---- inpainting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InpaintCase:
    before: Scene
    after: Scene
    job: Inpaint


def changed_scene(scene: Scene, index: int) -> Scene:
    """The scene with its shape in another colour (even `index`) or of another kind (odd)."""
    assert scene.colour and scene.shape
    if index % 2 == 0:
        colours = [c for c in COLOURS if c not in (scene.background, scene.colour)]
        return replace(scene, colour=colours[index // 2 % len(colours)])
    shapes = [s for s in SHAPES if s != scene.shape]
    return replace(scene, shape=shapes[index // 2 % len(shapes)])


def shape_area_mask(scene: Scene, margin: int = INPAINT_MARGIN) -> np.ndarray:
    """255 over the shape's bounding box and `margin` pixels around it."""
    x0, y0, x1, y1 = shape_box(scene, SIZE, SIZE)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[max(0, math.floor(y0)) : math.ceil(y1), max(0, math.floor(x0)) : math.ceil(x1)] = 255
    return grow_mask(mask, margin)


def inpaint_case(scene: Scene, settings: Settings, index: int) -> InpaintCase:
    """Ask for `scene` (a held-out prompt) over a picture of the same place with the shape in
    another colour or of another kind, masked around that shape."""
    before = changed_scene(scene, index)
    job = Inpaint(
        model=settings.model, prompt=caption(scene, index), sampler=settings.sampler, steps=settings.steps,
        cfg=settings.cfg, seed=settings.seed + index, width=SIZE, height=SIZE, init=render(before),
        mask=shape_area_mask(before),
    )  # fmt: skip
    return InpaintCase(before, scene, job)


def judge_inpaint(case: InpaintCase, image: np.ndarray) -> list[str]:
    """What is wrong: the asked-for shape's attributes, and "outside" when anything beyond the
    mask's blur band changed."""
    beyond_band = grow_mask(case.job.mask, case.job.mask_blur) == 0
    changed = changed_fraction(case.job.init, image, beyond_band)
    return judge(image, case.after).wrong() + (["outside"] if changed else [])


async def inpaint_score(
    engine: Engine, settings: Settings, scenes: list[Scene], tamper: Tamper = untouched
) -> Score:
    cases = []
    for index, scene in enumerate(scenes):
        case = inpaint_case(scene, settings, index)
        image = await _image(engine, case.job, tamper)
        problems = judge_inpaint(case, image)
        cases.append(Case(case.job.prompt, tuple(problems), images=(case.job.init, image)))
    return Score("inpaint", tuple(cases), (*SCENE_CHECKS, "outside"))


# ---- outpainting --------------------------------------------------------------------------------


def outpaint_side(scene: Scene, index: int) -> str:
    """The side away from the shape, so the new area is all background."""
    assert scene.position
    if "left" in scene.position:
        return "right"
    if "right" in scene.position:
        return "left"
    if scene.position in ("top", "bottom"):
        return "bottom" if scene.position == "top" else "top"
    return ("left", "top", "right", "bottom")[index % 4]


def outpaint_job(scene: Scene, settings: Settings, index: int) -> Outpaint:
    side = outpaint_side(scene, index)
    margin = SIZE // 2
    return Outpaint(
        model=settings.model, prompt=caption(scene, index), sampler=settings.sampler, steps=settings.steps,
        cfg=settings.cfg, seed=settings.seed + index, init=render(scene),
        left=margin if side == "left" else 0, right=margin if side == "right" else 0,
        top=margin if side == "top" else 0, bottom=margin if side == "bottom" else 0,
    )  # fmt: skip


def judge_outpaint(scene: Scene, job: Outpaint, image: np.ndarray) -> tuple[list[str], str]:
    """The new area is the background colour and meets the old one without a visible seam."""
    background = np.asarray(COLOURS[scene.background], np.float32)
    if job.right or job.left:
        seam, axis = (SIZE if job.right else job.left), 1
        new = image[:, SIZE:] if job.right else image[:, : job.left]
    else:
        seam, axis = (SIZE if job.bottom else job.top), 0
        new = image[SIZE:] if job.bottom else image[: job.top]
    reading = read_image(image)
    continuation = background_fraction(new, background)
    contrast = seam_contrast(image, seam, axis, reading.background_rgb)
    problems = []
    if reading.background != scene.background:
        problems.append("background")
    if continuation < CONTINUATION:
        problems.append("continuation")
    if contrast > VISIBLE_SEAM:
        problems.append("seam")
    return problems, f"new area {continuation:.0%} background, seam contrast {contrast:.1f}"


async def outpaint_score(
    engine: Engine, settings: Settings, scenes: list[Scene], tamper: Tamper = untouched
) -> Score:
    cases = []
    for index, scene in enumerate(scenes):
        job = outpaint_job(scene, settings, index)
        image = await _image(engine, job, tamper)
        problems, detail = judge_outpaint(scene, job, image)
        cases.append(Case(job.prompt, tuple(problems), detail, (job.init, image)))
    return Score("outpaint", tuple(cases), ("background", "continuation", "seam"))


# ---- zooming out --------------------------------------------------------------------------------


def judge_keyframe(
    scene: Scene, keyframe: np.ndarray, inner_box: tuple[int, int, int, int] | None
) -> list[str]:
    """What is wrong with a zoom keyframe: "background" (another colour), "coherence" (mostly not
    background, or colours from no scene), "seam" (around the previous keyframe)."""
    reading = read_image(keyframe)
    problems = []
    if reading.background != scene.background:
        problems.append("background")
    if reading.background_fraction < 0.6 or muddy_fraction(keyframe) > 0.03:
        problems.append("coherence")
    if inner_box is not None:
        x0, y0, x1, y1 = inner_box
        contrast = max(
            seam_contrast(keyframe, offset, axis, reading.background_rgb, span)
            for offset, axis, span in (
                (x0, 1, (y0, y1)),
                (x1, 1, (y0, y1)),
                (y0, 0, (x0, x1)),
                (y1, 0, (x0, x1)),
            )
        )
        if contrast > VISIBLE_SEAM:
            problems.append("seam")
    return problems


async def zoom_out_score(engine: Engine, settings: Settings, scenes: list[Scene]) -> Score:
    """Zooming out from each scene: every keyframe keeps the background colour and stays coherent
    (mostly background, only scene colours, no visible seam around the previous keyframe)."""
    from sfumato.core.imaging import OUTPAINT_STEP
    from sfumato.core.zoom.geometry import shrunk_size
    from sfumato.core.zoom.keyframe_loop import render_keyframes
    from sfumato.core.zoom.settings import ZoomSettings

    inner = shrunk_size(SIZE, SIZE, ZOOM_FACTOR)[0]
    margin = math.ceil((SIZE - inner) // 2 / OUTPAINT_STEP) * OUTPAINT_STEP
    box = (margin, margin, margin + inner, margin + inner)
    cases = []
    for index, scene in enumerate(scenes):
        zoom = ZoomSettings(
            model=settings.model, prompt=caption(scene, index), sampler=settings.sampler,
            steps=settings.steps, cfg=settings.cfg, seed=settings.seed + 100 * index, width=SIZE,
            height=SIZE, keyframes=ZOOM_KEYFRAMES, factor=ZOOM_FACTOR,
        )  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="sfumato-zoom-") as folder:
            keyframes = await render_keyframes(engine, zoom, Path(folder), fresh=True)
        found = [judge_keyframe(scene, frame, box if k else None) for k, frame in enumerate(keyframes)]
        problems = tuple(sorted({problem for frame in found for problem in frame}))
        detail = "; ".join(f"keyframe {k}: {', '.join(p)}" for k, p in enumerate(found) if p)
        cases.append(Case(zoom.prompt, problems, detail, tuple(keyframes)))
    return Score("zoom out", tuple(cases), ("background", "coherence", "seam"))


# ---- big pictures -------------------------------------------------------------------------------

LARGE = 4 * SIZE  # a frame 4 × the native side
PANORAMA = (4 * SIZE, SIZE)


EDGE_PERCENTILE = 99.8


def edge_sharpness(image: np.ndarray) -> float:
    """How crisp the strongest edges are: the 99.8th percentile of the gradient magnitude (levels a
    pixel). A crisp outline of a small shape covers under 1% of a 256² frame, so a lower percentile
    would read the flat background and rank a blurred (wider) outline above a crisp one."""
    grey = image.astype(np.float32).mean(axis=-1)
    gradient = np.hypot(*np.gradient(grey))
    return float(np.percentile(gradient, EDGE_PERCENTILE))


def window_seams(image: np.ndarray, background_rgb: tuple[float, ...]) -> float:
    """The most visible colour step along the borders of the denoising windows (see `seam_contrast`)."""
    from sfumato.core.tasks.tiled_denoise import Tiling, windows

    scale = 4  # the demo VAE's
    height, width = image.shape[0] // scale, image.shape[1] // scale
    cut = windows(height, width, Tiling.for_window(SIZE // scale))
    columns = {cols.start * scale for _, cols in cut} - {0}
    rows = {rows.start * scale for rows, _ in cut} - {0}
    steps = [seam_contrast(image, x, 1, background_rgb) for x in columns]
    steps += [seam_contrast(image, y, 0, background_rgb) for y in rows]
    return max(steps, default=0.0)


async def large_txt2img_scores(
    engine: Engine, settings: Settings, scenes: list[Scene], tamper: Tamper = untouched
) -> tuple[Score, Score]:
    """The same prompts, seeds and settings at the native size and at a frame 4 × native through
    the default path, judged alike, so the two compare like for like. The large frame must also have
    edges sharper than a Lanczos enlargement of the native picture, and no seam along window borders."""
    from PIL import Image

    natives, larges = [], []
    for index, scene in enumerate(scenes):
        native_job = txt2img_job(scene, settings, index)
        native = await _image(engine, native_job, untouched)
        natives.append(Case(native_job.prompt, tuple(judge(native, scene).wrong()), images=(native,)))
        job = replace(native_job, width=LARGE, height=LARGE)
        image = await _image(engine, job, tamper)
        problems = judge(image, scene).wrong()
        enlarged = np.asarray(Image.fromarray(native).resize((LARGE, LARGE), Image.Resampling.LANCZOS))
        sharp, soft = edge_sharpness(image), edge_sharpness(enlarged)
        if sharp <= soft:
            problems.append("sharpness")
        seam = window_seams(image, read_image(image).background_rgb)
        if seam > VISIBLE_SEAM:
            problems.append("seam")
        detail = f"edges {sharp:.1f} vs Lanczos {soft:.1f}, window seam {seam:.1f}"
        larges.append(Case(job.prompt, tuple(problems), detail, (enlarged, image)))
    return (
        Score("native txt2img", tuple(natives), SCENE_CHECKS),
        Score("large txt2img", tuple(larges), (*SCENE_CHECKS, "sharpness", "seam")),
    )


def judge_panorama(image: np.ndarray, scene: Scene) -> list[str]:
    """What is wrong with a panorama of `scene`: a quarter of the width whose background (around the
    shape) is another colour, or other than one shape."""
    problems = []
    if any(seen not in (None, scene.background) for seen in backgrounds_across(image, 4)):
        problems.append("background")
    if read_image(image).shapes != 1:
        problems.append("single_shape")
    return problems


async def panorama_score(
    engine: Engine, settings: Settings, scenes: list[Scene], tamper: Tamper = untouched
) -> Score:
    """A 4:1 frame: one background colour in every quarter of the width, and the one shape asked for."""
    cases = []
    for index, scene in enumerate(scenes):
        job = replace(txt2img_job(scene, settings, index), width=PANORAMA[0], height=PANORAMA[1])
        image = await _image(engine, job, tamper)
        problems = judge_panorama(image, scene)
        cases.append(Case(job.prompt, tuple(problems), images=(image,)))
    return Score("panorama", tuple(cases), ("background", "single_shape"))
