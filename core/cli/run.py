"""Running one generation job from the command line: start the engine, follow the job's events,
save the images, and turn Ctrl+C or SIGTERM into a clean cancel.

Each image is written as soon as the engine has made it, atomically, so an interrupted run keeps
the images already made and never leaves a partial file behind. The first Ctrl+C (SIGINT), SIGTERM
or SIGHUP cancels the job (the engine stops within one step) and the run exits with 128 + the
signal's number: 130 for Ctrl+C, 143 for SIGTERM. A second one stops waiting for the cancel.
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

from sfumato.core.api import Cancelled, ErrorKind, Failed, Finished, ImageReady
from sfumato.core.cli.batch_files import BatchFiles
from sfumato.core.cli.commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, exit_code_for, print_error
from sfumato.core.cli.plan import GenerationPlan
from sfumato.core.cli.progress import Progress
from sfumato.core.engine import Engine
from sfumato.core.engine_settings import EngineSettings
from sfumato.core.paths import log_dir

_ENGINE_FAULTS = frozenset({ErrorKind.ENGINE_CRASHED, ErrorKind.INTERNAL})
_SIGNALLED = 128  # a shell reports a program stopped by signal N as 128 + N


def engine_log_path() -> Path:
    """Where the engine process started by the command line writes its log."""
    return log_dir() / "engine.log"


def run_generation(plan: GenerationPlan, settings: EngineSettings, out: TextIO | None = None) -> int:
    """Run `plan` on a fresh engine, print the written paths on `out` (stdout); the exit code."""
    return asyncio.run(_generate(plan, settings, out or sys.stdout, Progress.for_stream(sys.stderr)))


async def _generate(plan: GenerationPlan, settings: EngineSettings, out: TextIO, progress: Progress) -> int:
    interrupts = _Interrupts(asyncio.get_running_loop(), progress)
    files = BatchFiles(plan.outputs, out)
    starting = asyncio.ensure_future(Engine.start(settings))
    engine: Engine | None = None
    try:
        with interrupts.installed():
            engine = await starting
            return await _follow(engine, plan, interrupts, files, progress)
    except asyncio.CancelledError:
        progress.message(f"Stopped; {files.summary()}.")
        return interrupts.exit_code
    finally:
        if engine is not None:
            await engine.close()
        elif not starting.done():
            starting.cancel()  # stops the engine process it was starting
            await asyncio.gather(starting, return_exceptions=True)


async def _follow(
    engine: Engine, plan: GenerationPlan, interrupts: _Interrupts, files: BatchFiles, progress: Progress
) -> int:
    job_id = engine.submit(plan.job, listen=True)
    interrupts.cancel_job = lambda: engine.cancel(job_id)
    async for event in engine.events(job_id):
        progress.show(event)
        match event:
            case ImageReady(index=index, image=image, recipe=recipe):
                progress.end_line()  # the path (or an error) gets a line of its own below the bar
                files.write(index, image, recipe)
            case Finished(images=images, recipes=recipes):
                files.write_all(images, recipes)
                if interrupts.count:
                    break  # the job finished just as it was being cancelled
                return EXIT_FAILED if files.failed else EXIT_OK
            case Cancelled():
                break
            case Failed() if interrupts.count:
                break  # the job ended some other way just as it was being cancelled
            case Failed(kind=kind, message=message):
                if kind in _ENGINE_FAULTS and engine.worker_pid is not None:
                    message += f" The engine's log is in {engine_log_path()}."
                if files.written:
                    message += f" Before that, {files.summary()}."
                print_error(message)
                return exit_code_for(kind)
    progress.message(f"Cancelled; {files.summary()}.")
    return interrupts.exit_code


class _Interrupts:
    """A stop signal while the job runs cancels it; before that, or a second time, stops the run."""

    SIGNALS = tuple(
        getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, progress: Progress) -> None:
        self.count = 0
        self.exit_code = EXIT_INTERRUPTED
        self.cancel_job: Callable[[], None] | None = None
        self._loop = loop
        self._progress = progress
        self._task = asyncio.current_task()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread
            return
        previous = {number: signal.signal(number, self._on_signal) for number in self.SIGNALS}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._loop.call_soon_threadsafe(self._interrupted, signum)

    def _interrupted(self, signum: int) -> None:
        self.count += 1
        if self.count == 1:
            self.exit_code = _SIGNALLED + signum
        if self.count == 1 and self.cancel_job is not None:
            self._progress.message("Cancelling… (press Ctrl+C again to stop waiting)")
            self.cancel_job()
        elif self._task is not None:
            self._task.cancel()
