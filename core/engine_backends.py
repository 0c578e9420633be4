"""Where the engine's serving loop runs: a separate process (the default) or a thread.

A backend delivers every message from the loop to `on_message`, and calls `on_exit` once when the
loop is gone (with the process's exit code, or None for a thread). Both are called from a
background thread; the engine hands them over to its event loop.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol, cast

from sfumato.core.engine_process import serve
from sfumato.core.engine_settings import EngineSettings
from sfumato.core.protocol import ProtocolError, Shutdown, read_message, write_message

OnMessage = Callable[[Any], None]
OnExit = Callable[[int | None], None]


class Backend(Protocol):
    pid: int | None

    def send(self, message: Any) -> None: ...

    def close(self, timeout: float) -> None: ...

    def kill(self) -> None: ...


def _engine_environment() -> dict[str, str]:
    """OpenMP threads that spin while waiting steal the cores the app and the engine share on a
    CPU; a whole job then stalls for seconds. Waiting passively avoids that (unless overridden)."""
    return {"OMP_WAIT_POLICY": "PASSIVE", **os.environ}


def _own_process_group() -> dict[str, Any]:
    """Keep a terminal's Ctrl+C away from the engine: the app decides what an interrupt cancels."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


class ProcessBackend:
    def __init__(self, settings: EngineSettings, on_message: OnMessage, on_exit: OnExit) -> None:
        log = open(settings.log_file, "ab") if settings.log_file else None  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "sfumato.core.engine_process", settings.to_json()],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=_engine_environment(),
                bufsize=0,
                **_own_process_group(),
            )
        finally:
            if log is not None:
                log.close()  # the engine process holds its own handle
        self.pid: int | None = self._process.pid
        self._write_lock = threading.Lock()
        self._on_message, self._on_exit = on_message, on_exit
        threading.Thread(target=self._read, name="engine-reader", daemon=True).start()

    def _read(self) -> None:
        stream = cast(BinaryIO, self._process.stdout)
        try:
            while (message := read_message(stream)) is not None:
                self._on_message(message)
        except (ProtocolError, OSError, ValueError):
            self._process.kill()
        self._on_exit(self._process.wait())

    def send(self, message: Any) -> None:
        stream = cast(BinaryIO, self._process.stdin)
        try:
            with self._write_lock:
                write_message(stream, message)
        except (BrokenPipeError, OSError, ValueError):
            pass  # the process is gone; the reader reports it

    def close(self, timeout: float) -> None:
        self.send(Shutdown())
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def kill(self) -> None:
        self._process.kill()


class ThreadBackend:
    """The same serving loop in a thread of this process: for tests and scripts."""

    pid: int | None = None

    def __init__(self, settings: EngineSettings, on_message: OnMessage, on_exit: OnExit) -> None:
        self._inbox: queue.Queue[Any] = queue.Queue()

        def run() -> None:
            try:
                serve(settings, self._inbox.get, on_message)
            finally:
                on_exit(None)

        self._thread = threading.Thread(target=run, name="engine", daemon=True)
        self._thread.start()

    def send(self, message: Any) -> None:
        self._inbox.put(message)

    def close(self, timeout: float) -> None:
        self._inbox.put(Shutdown())
        self._thread.join(timeout)

    def kill(self) -> None:
        """A thread cannot be stopped from outside; it is left to end on its own."""
