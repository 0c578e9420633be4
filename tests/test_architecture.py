"""The architecture's rules: the import contracts in pyproject.toml hold (checked by import-linter),
and the studio's own process never loads the engine's libraries while it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "diffusers", "transformers", "accelerate")

# Opens the studio as `sfumato` does (engine in its own process), waits until the engine is up,
# opens the model manager too, then reports which heavy libraries the UI process holds.
STUDIO_DRIVER = f"""
import sys
from PySide6.QtCore import QTimer
from sfumato.desktop.app import application, main
from sfumato.desktop.engine_client import EngineState
from sfumato.desktop.ui.main_window import MainWindow

app = application()

def check():
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if not windows or windows[0].client.state not in (EngineState.IDLE, EngineState.FAILED):
        return
    poll.stop()
    window = windows[0]
    window.open_model_manager()
    app.processEvents()
    loaded = [name for name in {HEAVY!r} if name in sys.modules]
    print("ENGINE", window.client.state.value, "PID", window.client.worker_pid, flush=True)
    print("LOADED", ",".join(loaded), flush=True)
    window.close()

poll = QTimer(interval=100)
poll.timeout.connect(check)
poll.start()
sys.exit(main([]))
"""


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_the_studio_process_never_loads_torch(tmp_path: Path) -> None:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SFUMATO_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", STUDIO_DRIVER],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["ENGINE"].startswith("idle PID "), result.stderr[-3000:]  # a real engine process ran
    assert lines.get("LOADED", "") == "", f"the studio's process loaded {lines['LOADED']}"
