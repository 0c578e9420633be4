"""Take screenshots of the studio window in a scripted session, at a laptop's 1366×768 and a large
monitor's 2560×1440: first launch, a painted scene, a generation in progress with its preview (the
built-in demo model, on the CPU), the Advanced section open, messages above the canvas, the Zoom
dock and the model manager. Look at every one: a control cut off, overlapping or unreadable is a bug.

Run under a virtual X server so the real window system draws everything:

    xvfb-run -a -s "-screen 0 2600x1500x24" .venv/bin/python tools/screenshots.py --out /tmp/shots

Each size gets its own fresh SFUMATO_HOME (your settings are untouched, and the layout is the first
launch's) and a painted scene made here, so the pictures are the same on every machine; the model
manager sees an empty model cache. Files are named SIZE-SCENE.png; without --out they land in
docs/screenshots/ (the README's pictures: `--sizes laptop`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"laptop": (1366, 768), "monitor": (2560, 1440)}


def _smooth_noise(width: int, seed: int, octaves: int = 4) -> np.ndarray:
    """A 1-D ridge line in 0..1, the sum of a few random sines."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, width)
    line = np.zeros(width)
    for octave in range(octaves):
        frequency = 2 ** (octave + 1)
        line += np.sin(2 * np.pi * (frequency * x + rng.random())) / frequency
    return (line - line.min()) / max(np.ptp(line), 1e-6)


def sky(width: int, height: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, height)[:, None, None]
    top, horizon = np.array([38, 52, 92]), np.array([236, 170, 120])
    rgb = top + (horizon - top) * t**1.6
    pixels = np.empty((height, width, 4), np.uint8)
    pixels[..., :3] = np.broadcast_to(rgb, (height, width, 3)).round().astype(np.uint8)
    pixels[..., 3] = 255
    return pixels


def hills(width: int, height: int, seed: int, colour: tuple[int, int, int], base: float) -> np.ndarray:
    ridge = (base - 0.22 * _smooth_noise(width, seed)) * height
    rows = np.arange(height)[:, None]
    alpha = np.clip(rows - ridge[None, :] + 0.5, 0.0, 1.0)
    shade = 1.0 - 0.35 * np.clip((rows - ridge[None, :]) / height, 0.0, 1.0)
    pixels = np.empty((height, width, 4), np.uint8)
    pixels[..., :3] = (np.array(colour)[None, None, :] * shade[..., None]).round().astype(np.uint8)
    pixels[..., 3] = (alpha * 255).round().astype(np.uint8)
    return pixels


def sun(size: int) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] - (size - 1) / 2
    distance = np.hypot(x, y) / (size / 2)
    pixels = np.zeros((size, size, 4), np.uint8)
    pixels[..., :3] = (255, 228, 180)
    pixels[..., 3] = (np.clip(1.0 - distance, 0.0, 1.0) ** 0.6 * 255).round().astype(np.uint8)
    return pixels


def paint_scene(window: object) -> None:
    from sfumato.desktop.document import Brush, Frame, Rect
    from sfumato.desktop.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    document = window.host.document
    document.title = "Evening hills"
    width, height = 768, 512
    document.add_layer("Sky", pixels=sky(width, height))
    document.add_layer("Sun", pixels=sun(120), x=470, y=170)
    document.add_layer("Far hills", pixels=hills(width, height, 3, (96, 92, 128), 0.72))
    document.add_layer("Near hills", pixels=hills(width, height, 8, (52, 70, 64), 0.93))
    document.set_layer_properties(document.layers[1], opacity=0.85, blend="screen")
    document.paint_mask_stroke(Brush(size=70, hardness=0.6), [(140, 330), (200, 300), (260, 318), (300, 300)])
    document.mask_rect(Rect(120, 300, 190, 60))
    document.set_frame(Frame(64, 192, 320, 256))
    panel = window.generation
    panel.prompt.setPlainText(
        "a small stone chapel on the hill, (warm window light:1.3), oil painting, [haze]"
    )
    panel.negative.setPlainText("blurry, text, watermark")
    panel.sampler.setCurrentText("DPM++ 2M Karras")
    panel.steps.setValue(28)
    panel.strength.setValue(0.8)
    panel.mask_blur.setValue(8)
    document.history.mark_clean()


async def settle(seconds: float = 0.5) -> None:
    """Let layouts, repaints and the mode label settle (the Qt loop runs while this sleeps)."""
    await asyncio.sleep(seconds)


async def take(out: Path, size_name: str) -> list[Path]:

    from sfumato.core.api import EngineSettings
    from sfumato.core.demo import DEMO_MODEL_ID
    from sfumato.desktop.engine_client import EngineClient
    from sfumato.desktop.ui.main_window import MainWindow
    from sfumato.desktop.ui.message_area import Kind
    from sfumato.desktop.ui.tool_settings import Tool

    client = EngineClient(settings=EngineSettings(device="cpu", in_process=True))
    window = MainWindow(client)
    window.resize(*SIZES[size_name])
    window.show()
    await client.start()
    saved = []

    async def shot(name: str, widget: object = None) -> None:
        await settle()
        path = out / f"{size_name}-{name}.png"
        (widget or window).grab().save(str(path), "PNG", 0)  # type: ignore[attr-defined]  # 0: smallest
        saved.append(path)

    await shot("first-launch")
    paint_scene(window)
    window.canvas.fit()
    window.canvas.zoom_out()
    window.tools.set_tool(Tool.BRUSH)
    await shot("studio")

    # A generation in progress: the demo model on a sketch-free frame, its preview in the frame.
    document, panel = window.host.document, window.generation
    panel.models.select(DEMO_MODEL_ID)
    panel.steps.setValue(20)
    panel.mode.setCurrentIndex(panel.mode.findData("txt2img"))
    job_id = window.controller.generate()
    assert job_id is not None, window.open_messages
    for _ in range(1200):  # the demo model on a busy CPU may take a minute
        await settle(0.1)
        if window.canvas.frame_image_shown and panel.progress.value() >= 600:
            break
    await shot("generating")
    window.controller.cancel()
    for _ in range(1200):
        await settle(0.1)
        if not window.controller.busy:
            break
    panel.mode.setCurrentIndex(0)
    window.tools.set_tool(Tool.FRAME)
    panel.show_advanced(True)
    await shot("advanced")
    panel.show_advanced(False)

    window.messages.show(
        "The engine stopped unexpectedly and was restarted; the job it was running did not finish.",
        Kind.WARNING,
    )
    window.show_error("The GPU ran out of memory. Try a smaller size or batch.")
    await shot("messages")
    window.message_area.dismiss_all()

    window.open_zoom()
    await shot("zoom")
    window.docks["generate"].raise_()
    saved.append(await model_manager_shot(window, out, size_name))
    document.history.mark_clean()
    window.close()
    await client.close()
    return saved


async def model_manager_shot(window: object, out: Path, size_name: str) -> Path:
    """The model manager's catalog."""

    from sfumato.desktop.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    manager = window.open_model_manager()
    manager.tabs.setCurrentIndex(0)
    await settle()
    path = out / f"{size_name}-model-manager.png"
    manager.grab().save(str(path), "PNG", 0)
    manager.close()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=list(SIZES))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import qasync

    from sfumato.desktop.app import application

    app = application()
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    saved = []
    with loop:
        for size_name in args.sizes:
            os.environ["SFUMATO_HOME"] = tempfile.mkdtemp(prefix="sfumato-screenshots-")
            os.environ["HF_HUB_CACHE"] = os.path.join(os.environ["SFUMATO_HOME"], "hub")  # nothing installed
            saved += loop.run_until_complete(take(args.out, size_name))
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
