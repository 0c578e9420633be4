"""The studio's entry point: `sfumato` with no command opens this window.

Qt runs the event loop; qasync puts asyncio on it, so the engine client's coroutines and the
widgets share one thread and the window never waits on the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from sfumato.core import __version__
from sfumato.core.api import EngineSettings, SfumatoError
from sfumato.core.logs import log_to_file, stop_logging_to_file, studio_engine_log
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.preferences import Preferences
from sfumato.desktop.ui.settings import Settings
from sfumato.desktop.ui.theme import apply_theme


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sfumato", description="Sfumato studio")
    parser.add_argument("file", nargs="?", type=Path, help="an OpenRaster (.ora) file to open")
    parser.add_argument(
        "--device", default=None, help="auto, cuda, mps or cpu (default: as in Preferences, else auto)"
    )
    parser.add_argument(
        "--in-process", action="store_true", help="run the engine inside the studio's own process"
    )
    return parser.parse_args(argv)


def scale_interface(preferences: Preferences, environment: MutableMapping[str, str]) -> None:
    """The interface size from Preferences, read once before Qt starts; a QT_SCALE_FACTOR the artist
    set themselves wins."""
    if preferences.ui_scale != 1.0 and "QT_SCALE_FACTOR" not in environment:
        environment["QT_SCALE_FACTOR"] = f"{preferences.ui_scale:g}"


def application() -> QApplication:
    """The running QApplication, created (HiDPI-aware, themed) when there is none yet."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    # Fractional scale factors (125 %, 150 %) as the system sets them, not rounded to whole numbers.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication([sys.argv[0] if sys.argv else "sfumato"])
    app.setApplicationName("Sfumato")
    app.setApplicationDisplayName("Sfumato")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Sfumato")
    apply_theme(app)
    return app


async def run_studio(window: MainWindow, file: Path | None = None) -> int:
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_closed() -> None:
        if not closed.done():
            closed.set_result(None)

    window.closed.connect(on_closed)
    window.show()
    window.canvas.fit()
    if file is not None:
        window.guarded(lambda: window.files.open(file))
    else:
        window.offer_recovery()
    await window.client.start()
    await closed
    await window.client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Open the studio window and return its exit code when it closes."""
    args = _arguments(list(sys.argv[1:] if argv is None else argv))
    log_to_file(debug=bool(os.environ.get("SFUMATO_DEBUG")))
    settings = Settings()
    preferences = Preferences.load(settings)
    scale_interface(preferences, os.environ)
    app = application()
    app.setQuitOnLastWindowClosed(False)  # the loop ends once the engine has shut down
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    device = args.device or preferences.device
    engine_log = "" if args.in_process else str(studio_engine_log())
    client = EngineClient(
        settings=EngineSettings(
            device=device,
            in_process=args.in_process,
            log_file=engine_log,
            memory=preferences.memory,
            speed=preferences.speed,
        )
    )
    window = MainWindow(client, settings)
    try:
        with loop:
            return loop.run_until_complete(run_studio(window, args.file))
    except SfumatoError as error:
        print(f"sfumato: error: {error.message}", file=sys.stderr)
        return 1
    finally:
        stop_logging_to_file()


if __name__ == "__main__":
    sys.exit(main())
