"""The engine's serving loop, and the entry point of the engine process.

`serve` takes messages from `receive` and answers through `send`. In the engine process they read
stdin and write to the original stdout (everything else printed goes to stderr, so a library that
prints cannot corrupt the message stream); the in-process engine runs `serve` in a thread instead.

The engine process never outlives the app that started it, however the app ends (even killed): the
end of its stdin means the app is gone, and the process exits at once, in the middle of a job too.
On Linux the kernel also kills it when its parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import platform
import queue
import signal
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, BinaryIO

from sfumato.core.api import SfumatoError
from sfumato.core.engine_settings import EngineInfo, EngineSettings
from sfumato.core.protocol import Cancel, ProtocolError, Shutdown, Submit, read_message, write_message

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _versions() -> dict[str, str]:
    import diffusers
    import torch

    from sfumato.core import __version__

    return {"sfumato": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "diffusers": diffusers.__version__}  # fmt: skip


def _quiet_libraries() -> None:
    """Progress comes to the app as events; the libraries' own bars and notices are noise here."""
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()
    diffusers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def serve(settings: EngineSettings, receive: Callable[[], Any], send: Callable[[Any], None]) -> None:
    from sfumato.core.devices import pick_device
    from sfumato.core.worker import Worker

    _quiet_libraries()
    try:
        choice = pick_device(settings.device)
    except SfumatoError as error:
        send(EngineInfo("", "", "", _versions(), error=error.message))
        return
    send(EngineInfo(choice.device.type, choice.name, str(choice.dtype).removeprefix("torch."), _versions()))
    worker = Worker(choice, settings.preview_every, settings.memory, settings.speed)
    jobs: queue.Queue[Submit | None] = queue.Queue()
    cancelled: set[str] = set()

    def listen() -> None:
        while True:
            message = receive()
            if isinstance(message, Submit):
                jobs.put(message)
            elif isinstance(message, Cancel):
                cancelled.add(message.job_id)
            elif message is None or isinstance(message, Shutdown):
                jobs.put(None)
                return

    threading.Thread(target=listen, name="engine-listener", daemon=True).start()
    while (item := jobs.get()) is not None:
        worker.run(item.job_id, item.job, send, partial(cancelled.__contains__, item.job_id))
        cancelled.discard(item.job_id)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies. (Strictly, when the parent's thread that
    started it ends: the engine is started from the thread running the app's event loop.)"""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError) as error:
        log.warning("cannot ask to stop with the app: %s", error)


def _messages_from_parent(stream: BinaryIO) -> Callable[[], Any]:
    """Read the app's messages on a thread of their own, from the very start; when the stream ends
    (or turns to garbage) the app has gone, and nothing this process does can reach anyone: exit."""
    inbox: queue.Queue[Any] = queue.Queue()

    def read() -> None:
        try:
            while (message := read_message(stream)) is not None:
                inbox.put(message)
        except (ProtocolError, OSError, ValueError) as error:
            log.error("unreadable message from the app: %s", error)
        log.info("the app has gone; stopping")
        os._exit(0)

    threading.Thread(target=read, name="engine-parent-watch", daemon=True).start()
    return inbox.get


def main() -> None:
    _die_with_parent()
    messages_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    messages_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    logging.basicConfig(level=logging.INFO, format="engine %(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)  # library warnings become log lines, in the engine's log file
    receive = _messages_from_parent(messages_in)
    settings = EngineSettings.from_json(sys.argv[1]) if len(sys.argv) > 1 else EngineSettings()
    lock = threading.Lock()

    def send(message: Any) -> None:
        with lock:
            write_message(messages_out, message)

    with contextlib.suppress(BrokenPipeError):  # the app went away; nothing is left to report to
        serve(settings, receive, send)


if __name__ == "__main__":
    main()
