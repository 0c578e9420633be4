"""How the engine is started, and what it reports once it runs: plain data, no torch, so a front end
can start an engine and show where it runs without loading the engine's libraries."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

SPEED_CHOICES = ("default", "fast")  # the speed profiles (core/models/acceleration.py)


@dataclass(frozen=True)
class EngineSettings:
    device: str = "auto"
    preview_every: int = 1
    in_process: bool = False
    log_file: str = ""  # where the engine process writes its log; empty: this process's stderr
    memory: str = "auto"  # a memory tier (high, medium, low, minimal), or auto: chosen per job
    speed: str = "default"  # the speed profile: default, or fast (the UNet compiled for the device)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> EngineSettings:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class EngineInfo:
    """The engine's first message: where it runs and with what (`error` says why it cannot)."""

    device: str
    device_name: str
    dtype: str
    versions: dict[str, str]
    error: str = ""

    @property
    def runs_in_half_precision(self) -> bool:
        """Whether models run in 16 bits here: then downloads take the fp16 weights."""
        return self.dtype in ("float16", "bfloat16")
