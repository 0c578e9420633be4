"""Job specs, recipes and engine events.

Everything here is plain data: small frozen dataclasses that a `match` statement can take apart.
Nothing in this module imports torch, so a front end can build jobs and read events cheaply.
Images travel as numpy arrays: RGB `uint8` of shape (H, W, 3); masks as `uint8` (H, W), 255 = repaint.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

import numpy as np

from sfumato.core.engine_settings import SPEED_CHOICES as SPEED_CHOICES
from sfumato.core.engine_settings import EngineInfo as EngineInfo
from sfumato.core.engine_settings import EngineSettings as EngineSettings
from sfumato.core.limits import MAX_CFG, MAX_MASK_BLUR, MAX_SIDE, MAX_STEPS, MIN_SIDE, SEED_RANGE

DEFAULT_SAMPLER = "Euler a"
DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


class Mode(enum.StrEnum):
    TXT2IMG = "txt2img"
    IMG2IMG = "img2img"
    INPAINT = "inpaint"
    OUTPAINT = "outpaint"


@dataclass(frozen=True)
class Setting:
    """How one field of a request shows outside Python: its name for the artist (also used in
    messages), its key in AUTOMATIC1111 "parameters" text, its command-line option, and its range."""

    label: str
    a1111: str | None = None  # None: not a `Key: value` pair of its own (the prompts, the size)
    always_written: bool = False  # otherwise the pair is left out while the field has its default
    flag: str | None = None  # None: not an option of its own on the command line
    help: str = ""
    metavar: str = "N"
    minimum: float | None = None
    maximum: float | None = None
    advanced: bool = False  # shown among the Generate panel's advanced settings


SETTING = "sfumato.setting"


def _setting(default: Any = MISSING, **how: Any) -> Any:
    return field(default=default, metadata={SETTING: Setting(**how)})


def setting_of(declared: Field[Any]) -> Setting:
    """The `Setting` a field of `Request`, a job or `Recipe` is declared with."""
    found = declared.metadata.get(SETTING)
    if not isinstance(found, Setting):
        raise TypeError(f"the field {declared.name!r} is not a declared setting")
    return found


@dataclass(frozen=True, kw_only=True, eq=False)
class Request:
    """The settings every form of a generation shares, declared once: engine jobs, recipes (PNG
    text and .ora layers), zoom settings, the Generate panel and the command line derive from these
    fields. `seed` -1 means "pick one"; a recipe records the one used. `clip_skip` 2 conditions on the
    text encoder's second-to-last layer, like AUTOMATIC1111's "Clip skip"."""

    prompt: str = _setting(label="Prompt")
    negative: str = _setting(
        "", label="Negative prompt", flag="--negative", metavar="TEXT", help="what it should not show"
    )
    steps: int = _setting(
        20, label="Steps", a1111="Steps", always_written=True, flag="--steps", help="default 20", minimum=1,
        maximum=MAX_STEPS,
    )  # fmt: skip
    sampler: str = _setting(
        DEFAULT_SAMPLER,
        label="Sampler",
        flag="--sampler",
        metavar="NAME",
        help=f'default "{DEFAULT_SAMPLER}"',
    )
    cfg: float = _setting(
        7.0, label="CFG scale", a1111="CFG scale", always_written=True, flag="--cfg", metavar="F",
        help="prompt guidance, default 7", minimum=0, maximum=MAX_CFG,
    )  # fmt: skip
    seed: int = _setting(
        -1, label="Seed", a1111="Seed", always_written=True, flag="--seed", help="default -1: a random seed",
        minimum=-1, maximum=SEED_RANGE - 1,
    )  # fmt: skip
    width: int = _setting(512, label="Width", minimum=MIN_SIDE, maximum=MAX_SIDE)
    height: int = _setting(512, label="Height", minimum=MIN_SIDE, maximum=MAX_SIDE)
    clip_skip: int = _setting(
        1, label="Clip skip", a1111="Clip skip", flag="--clip-skip", minimum=1, maximum=12, advanced=True,
        help="1 to 12: 1 (default) conditions on the text encoder's last layer, 2 on the one before it, ...",
    )  # fmt: skip
    # A frame far larger than the model's native size is drawn at that size, then upscaled and
    # redrawn ("hires fix"); a recipe records the factor used, with AUTOMATIC1111's keys.
    hires_strength: float = _setting(
        0.5, label="Hires strength", a1111="Denoising strength", flag="--hires-strength", metavar="F",
        help="how much the hires pass redraws, default 0.5", minimum=0.01, maximum=1,
    )  # fmt: skip
    hires: str = _setting(
        "auto", label="Hires fix", a1111="Hires upscale", flag="--hires", metavar="auto|off|FACTOR",
        help="auto (default): when the frame is much larger than the model's native size, draw at that "
        "size, upscale and redraw; off: one pass; FACTOR: draw at the frame size divided by it",
    )  # fmt: skip
    hires_steps: int = _setting(
        0, label="Hires steps", a1111="Hires steps", flag="--hires-steps",
        help="steps of the hires pass, default 0: as many as --steps", minimum=0, maximum=MAX_STEPS,
    )  # fmt: skip
    upscaler: str = _setting(
        "Lanczos", label="Hires upscaler", a1111="Hires upscaler", flag="--upscaler", metavar="NAME",
        help='how the hires pass enlarges the first picture, default "Lanczos"',
    )  # fmt: skip


def request_fields() -> tuple[Field[Any], ...]:
    return fields(Request)


def request_values(source: Request) -> dict[str, Any]:
    """The shared settings of a job, recipe, zoom or panel settings, by field name."""
    return {declared.name: getattr(source, declared.name) for declared in request_fields()}


def check_request(request: Request) -> None:
    """Refuse a setting outside its declared range, in plain words."""
    for declared in request_fields():
        how = setting_of(declared)
        if how.minimum is None or how.maximum is None:
            continue  # open-ended settings are checked where their limits are known
        value = getattr(request, declared.name)
        if not how.minimum <= value <= how.maximum:
            raise BadInput(f"{how.label} must be between {how.minimum:g} and {how.maximum:g}; got {value}.")


@dataclass(frozen=True, kw_only=True, eq=False)
class JobBase(Request):
    """What every engine job needs: the shared settings, the model and how many images to make."""

    model: str
    batch: int = 1


@dataclass(frozen=True, kw_only=True, eq=False)
class Txt2Img(JobBase):
    pass


@dataclass(frozen=True, kw_only=True, eq=False)
class Img2Img(JobBase):
    init: np.ndarray
    strength: float = 0.75


@dataclass(frozen=True, kw_only=True, eq=False)
class Inpaint(JobBase):
    """Repaint where `mask` is 255. With `only_masked`, a crop around the mask is generated at
    the model's full resolution and pasted back, with `padding` pixels of context around it."""

    init: np.ndarray
    mask: np.ndarray
    strength: float = 1.0
    mask_blur: int = 4
    only_masked: bool = False
    padding: int = 32


# The outpaint strength of a regular checkpoint when a job leaves it open: some of the prefill stays so
# the new area continues the edge colours (inpainting checkpoints repaint fully, at 1.0).
OUTPAINT_STRENGTH = 0.9


@dataclass(frozen=True, kw_only=True, eq=False)
class Outpaint(JobBase):
    """Extend `init` by the margins (pixels, each a multiple of 8). `width`/`height` are ignored:
    the result is the init size plus the margins. `strength` None lets the engine choose: a full
    repaint for inpainting checkpoints, and a partial one over the prefill for regular checkpoints."""

    init: np.ndarray
    left: int = 0
    top: int = 0
    right: int = 0
    bottom: int = 0
    mask_blur: int = 8
    strength: float | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class Morph(JobBase):
    """`prompt` lists the prompts to pass through, separated by "|" ("a cat | a dog | a horse").
    Each transition takes `frames` frames; the finished job has (prompts - 1) × frames + 1 images.

    `seeds`, one per prompt, morph the starting noise too; without them every frame starts from the
    job's seed, so only the prompt changes. `batch` must be 1."""

    seeds: tuple[int, ...] = ()
    frames: int = 12


@dataclass(frozen=True, kw_only=True, eq=False)
class Upscale(JobBase):
    """Enlarge `init` to `width` × `height` with `upscaler` (an upscaler model; "" or "lanczos" for the
    Lanczos filter). With `strength` above 0, the enlarged picture is then redrawn by `model` as image
    to image at that strength; with 0 nothing is redrawn and `model` may be "". The result's recipe
    is `recipe` (the picture's own, when it has one) with the upscale's keys added."""

    init: np.ndarray
    upscaler: str = ""
    strength: float = 0.0
    recipe: Recipe | None = None


Job = Txt2Img | Img2Img | Inpaint | Outpaint | Morph | Upscale


def job_mode(job: Job) -> Mode:
    match job:
        case Txt2Img():
            return Mode.TXT2IMG
        case Img2Img():
            return Mode.IMG2IMG
        case Inpaint():
            return Mode.INPAINT
        case Outpaint():
            return Mode.OUTPAINT
        case Morph():
            return Mode.TXT2IMG  # every frame is drawn from noise and text
        case Upscale():
            return Mode.IMG2IMG
    raise TypeError(f"not a job: {job!r}")


@dataclass(frozen=True, kw_only=True)
class Recipe(Request):
    """Everything needed to reproduce one image; written into PNG metadata and onto layers."""

    model_hash: str = _setting("", label="Model hash", a1111="Model hash")
    model: str = _setting("", label="Model", a1111="Model")
    mode: Mode = Mode.TXT2IMG
    strength: float | None = _setting(None, label="Denoising strength", a1111="Denoising strength")
    mask_blur: int | None = _setting(
        None, label="Mask blur", a1111="Mask blur", minimum=0, maximum=MAX_MASK_BLUR
    )
    extras: dict[str, str] = field(default_factory=dict)


class ErrorKind(enum.StrEnum):
    BAD_INPUT = "bad_input"
    MODEL_NOT_FOUND = "model_not_found"
    MODEL_INVALID = "model_invalid"
    OUT_OF_MEMORY = "out_of_memory"
    ENGINE_CRASHED = "engine_crashed"
    NETWORK = "network"
    ACCESS_DENIED = "access_denied"
    DISK_FULL = "disk_full"
    OFFLINE = "offline"
    CANCELLED = "cancelled"
    INTERNAL = "internal"


class SfumatoError(Exception):
    """An error with a message written for the artist, and a kind a program can act on."""

    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(self, message: str, kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind

    @property
    def message(self) -> str:
        return str(self.args[0])


class BadInput(SfumatoError):
    kind = ErrorKind.BAD_INPUT


class ModelNotFound(SfumatoError):
    kind = ErrorKind.MODEL_NOT_FOUND


class ModelInvalid(SfumatoError):
    kind = ErrorKind.MODEL_INVALID


class OutOfMemory(SfumatoError):
    kind = ErrorKind.OUT_OF_MEMORY


# ---- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    job_id: str
    position: int


@dataclass(frozen=True)
class Started:
    job_id: str


@dataclass(frozen=True)
class LoadingModel:
    job_id: str
    model: str


@dataclass(frozen=True)
class MemoryTierUsed:
    """The memory tier a job runs at and why (see `memory_tiers`); sent again, with `retry` set and
    `reason` the line to show, each time the job ran out of memory and starts over one tier down."""

    job_id: str
    tier: str
    reason: str
    retry: bool = False


@dataclass(frozen=True)
class Optimising:
    """The *fast* speed profile compiles the model for a frame size and batch it has not drawn yet: the
    job's first step waits for it, this once per size."""

    job_id: str
    message: str


@dataclass(frozen=True, eq=False)
class Step:
    """Step `step` (1-based) of `total` for image `image` (0-based) of `images` in the batch; images
    drawn together as one tensor count as one (`images` is then the number of such passes)."""

    job_id: str
    step: int
    total: int
    image: int = 0
    images: int = 1
    preview: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class ImageReady:
    """Image `index` (0-based) of the job is done. It comes as soon as that image is, so a front end
    can keep it even if the rest of the batch fails or is cancelled; Finished carries it again."""

    job_id: str
    index: int
    image: np.ndarray
    recipe: Recipe


@dataclass(frozen=True, eq=False)
class Finished:
    job_id: str
    images: tuple[np.ndarray, ...]
    recipes: tuple[Recipe, ...]


@dataclass(frozen=True)
class Cancelled:
    job_id: str


@dataclass(frozen=True)
class Failed:
    job_id: str
    kind: ErrorKind
    message: str


Event = (
    Queued
    | Started
    | LoadingModel
    | MemoryTierUsed
    | Optimising
    | Step
    | ImageReady
    | Finished
    | Cancelled
    | Failed
)
TERMINAL_EVENTS = (Finished, Cancelled, Failed)


async def until_terminal(stream: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    """One job's events from `stream`, ending with its Finished, Cancelled or Failed."""
    while True:
        event = await stream.get()
        yield event
        if isinstance(event, TERMINAL_EVENTS):
            return
