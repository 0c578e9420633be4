"""Job specs, recipes and engine events.

Everything here is plain data: small frozen dataclasses that a `match` statement can take apart.
Nothing in this module imports torch, so a front end can build jobs and read events cheaply.
Images travel as numpy arrays: RGB `uint8` of shape (H, W, 3); masks as `uint8` (H, W), 255 = repaint.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from sfumato.core.engine_settings import EngineInfo as EngineInfo
from sfumato.core.engine_settings import EngineSettings as EngineSettings

DEFAULT_SAMPLER = "Euler a"
DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


class Mode(enum.StrEnum):
    TXT2IMG = "txt2img"
    IMG2IMG = "img2img"
    INPAINT = "inpaint"
    OUTPAINT = "outpaint"


@dataclass(frozen=True, kw_only=True, eq=False)
class JobBase:
    """What every generation needs. `seed` -1 means "pick one"; the recipe records the one used."""

    model: str
    prompt: str
    negative: str = ""
    sampler: str = DEFAULT_SAMPLER
    steps: int = 20
    cfg: float = 7.0
    seed: int = -1
    width: int = 512
    height: int = 512
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


Job = Txt2Img | Img2Img | Inpaint | Outpaint | Morph


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
    raise TypeError(f"not a job: {job!r}")


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """Everything needed to reproduce one image; written into PNG metadata and onto layers."""

    prompt: str
    negative: str = ""
    sampler: str = DEFAULT_SAMPLER
    steps: int = 20
    cfg: float = 7.0
    seed: int = 0
    width: int = 512
    height: int = 512
    model: str = ""
    model_hash: str = ""
    mode: Mode = Mode.TXT2IMG
    strength: float | None = None
    mask_blur: int | None = None
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


@dataclass(frozen=True, eq=False)
class Step:
    """Step `step` (1-based) of `total` for image `image` (0-based) of `images` in the batch."""

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


Event = Queued | Started | LoadingModel | Step | ImageReady | Finished | Cancelled | Failed
TERMINAL_EVENTS = (Finished, Cancelled, Failed)


async def until_terminal(stream: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    """One job's events from `stream`, ending with its Finished, Cancelled or Failed."""
    while True:
        event = await stream.get()
        yield event
        if isinstance(event, TERMINAL_EVENTS):
            return
