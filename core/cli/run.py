"""Running one generation job from the command line: start the engine, follow the job's events,
save the images, and turn Ctrl+C into a clean cancel.

The first Ctrl+C cancels the job (the engine stops within one step and nothing is saved); a second
one stops waiting for that. Images are only written once the whole job has finished, each one
atomically, so an interrupted run never leaves a partial file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

import numpy as np

from sfumato.core.api import Cancelled, ErrorKind, Failed, Finished, Recipe, SfumatoError
from sfumato.core.cli.commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, exit_code_for, print_error
from sfumato.core.cli.plan import GenerationPlan
from sfumato.core.cli.progress import Progress
from sfumato.core.engine import Engine
from sfumato.core.engine_settings import EngineSettings
from sfumato.core.metadata import save_png
from sfumato.core.paths import cache_dir

_ENGINE_FAULTS = frozenset({ErrorKind.ENGINE_CRASHED, ErrorKind.INTERNAL})


def engine_log_path() -> Path:
    """Where the engine process started by the command line writes its log."""
    folder = cache_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "engine.log"


def run_generation(plan: GenerationPlan, settings: EngineSettings, out: TextIO | None = None) -> int:
    """Run `plan` on a fresh engine, print the written paths on `out` (stdout); the exit code."""
    return asyncio.run(_generate(plan, settings, out or sys.stdout, Progress.for_stream(sys.stderr)))


async def _generate(plan: GenerationPlan, settings: EngineSettings, out: TextIO, progress: Progress) -> int:
    interrupts = _Interrupts(asyncio.get_running_loop(), progress)
    starting = asyncio.ensure_future(Engine.start(settings))
    engine: Engine | None = None
    try:
        with interrupts.installed():
            engine = await starting
            return await _follow(engine, plan, interrupts, out, progress)
    except asyncio.CancelledError:
        progress.message("Stopped.")
        return EXIT_INTERRUPTED
    finally:
        if engine is not None:
            await engine.close()
        elif not starting.done():
            starting.cancel()


async def _follow(
    engine: Engine, plan: GenerationPlan, interrupts: _Interrupts, out: TextIO, progress: Progress
) -> int:
    job_id = engine.submit(plan.job, listen=True)
    interrupts.cancel_job = lambda: engine.cancel(job_id)
    async for event in engine.events(job_id):
        progress.show(event)
        match event:
            case Finished() | Failed() if interrupts.count:
                break  # the job ended some other way just as it was being cancelled
            case Finished(images=images, recipes=recipes):
                return _save(plan.outputs, images, recipes, out)
            case Cancelled():
                break
            case Failed(kind=kind, message=message):
                if kind in _ENGINE_FAULTS and engine.worker_pid is not None:
                    message += f" The engine's log is in {engine_log_path()}."
                print_error(message)
                return exit_code_for(kind)
    progress.message("Cancelled; no images were saved.")
    return EXIT_INTERRUPTED


def _save(
    paths: tuple[Path, ...], images: tuple[np.ndarray, ...], recipes: tuple[Recipe, ...], out: TextIO
) -> int:
    for path, image, recipe in zip(paths, images, recipes, strict=False):
        try:
            save_png(path, image, recipe)
        except SfumatoError as error:
            print_error(error.message)
            return EXIT_FAILED
        print(path, file=out, flush=True)
    return EXIT_OK


class _Interrupts:
    """Ctrl+C while the job runs cancels it; before that, or a second time, stops the run."""

    def __init__(self, loop: asyncio.AbstractEventLoop, progress: Progress) -> None:
        self.count = 0
        self.cancel_job: Callable[[], None] | None = None
        self._loop = loop
        self._progress = progress
        self._task = asyncio.current_task()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread
            return
        previous = signal.signal(signal.SIGINT, self._on_signal)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._loop.call_soon_threadsafe(self._interrupted)

    def _interrupted(self) -> None:
        self.count += 1
        if self.count == 1 and self.cancel_job is not None:
            self._progress.message("Cancelling… (press Ctrl+C again to stop waiting)")
            self.cancel_job()
        elif self._task is not None:
            self._task.cancel()
