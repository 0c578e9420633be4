"""How smoothly the studio canvas pans and zooms over a 4096×4096 document.

Each frame is a real paint of the real `CanvasView` into an off-screen image after one pan or zoom
step, the way a drag or a wheel turn repaints it. The baseline paints, with the same QPainter
settings, one pre-composited QImage of the whole document at the same position and scale: the least
work any viewer must do. Both run interleaved in one process; the report gives each side's frame
times and the ratio canvas / baseline, and the frame time against a 60 Hz budget (16.7 ms).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.canvas [--size 4096] [--frames 120]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

FRAME_BUDGET_MS = 1000 / 60


def _document(size: int) -> Any:
    from sfumato.desktop.document import BlendMode, Document

    rng = np.random.default_rng(0)
    document = Document()
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    sky = np.zeros((size, size, 4), np.uint8)
    sky[..., 0], sky[..., 1], sky[..., 2], sky[..., 3] = ramp[:, None], 90, ramp[None, :], 255
    document.add_layer("Sky", pixels=sky)
    texture = rng.integers(0, 256, (size, size, 4), dtype=np.uint8)
    texture[..., 3] = 160
    document.add_layer("Texture", pixels=texture, blend=BlendMode.MULTIPLY, opacity=0.6)
    patch = np.zeros((size // 2, size // 2, 4), np.uint8)
    patch[..., 0], patch[..., 3] = 230, 200
    document.add_layer("Patch", pixels=patch, x=size // 4, y=size // 4)
    return document


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(size: int = 4096, frames: int = 120, view: tuple[int, int] = (1600, 1000)) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import shiboken6
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from sfumato.desktop.ui.canvas import CanvasView
    from sfumato.desktop.ui.document_host import DocumentHost
    from sfumato.desktop.ui.qimage import to_qimage
    from sfumato.desktop.ui.tool_settings import ToolSettings

    app = QApplication.instance() or QApplication([])
    document = _document(size)
    canvas = CanvasView(DocumentHost(document), ToolSettings())
    canvas.resize(*view)
    canvas.show()
    app.processEvents()
    canvas.fit()
    whole = to_qimage(document.export_visible())
    target = QImage(view[0], view[1], QImage.Format.Format_ARGB32_Premultiplied)

    def paint_canvas() -> None:
        canvas.render(target)

    def paint_baseline() -> None:
        painter = QPainter(target)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, canvas.zoom < 2.0)
        viewport = canvas.viewport
        left, top = viewport.to_widget(0, 0)
        painter.drawImage(QRectF(left, top, size * canvas.zoom, size * canvas.zoom), whole)
        painter.end()

    def step(index: int) -> None:
        # Pan in a slow circle, with a zoom step every tenth frame, in and out around 100 %.
        if index % 10 == 9:
            canvas.zoom_by(1.25 if (index // 10) % 4 < 2 else 0.8, QPointF(view[0] / 2, view[1] / 2))
        else:
            angle = index / 12
            canvas.set_viewport(canvas.viewport.panned(14 * np.cos(angle), 14 * np.sin(angle)))

    def timed(paint: Callable[[], None]) -> float:
        start = time.perf_counter()
        paint()
        return (time.perf_counter() - start) * 1000

    canvas.actual_pixels()
    for _ in range(3):  # warm the tile caches and Qt's raster engine
        paint_canvas()
        paint_baseline()
    canvas_ms: list[float] = []
    baseline_ms: list[float] = []
    for index in range(frames):
        step(index)
        app.processEvents()
        pair = [(canvas_ms, paint_canvas), (baseline_ms, paint_baseline)]
        for times, paint in pair if index % 2 == 0 else reversed(pair):
            times.append(timed(paint))
    ratios = [c / b for c, b in zip(canvas_ms, baseline_ms, strict=True) if b > 0]
    canvas.close()
    shiboken6.delete(canvas)  # before the interpreter tears Qt down, not after
    return {
        "document": f"{size}x{size}, {len(document.layers)} layers",
        "view": f"{view[0]}x{view[1]}",
        "frames": frames,
        "canvas_ms": {"median": statistics.median(canvas_ms), "p95": _percentile(canvas_ms, 0.95)},
        "baseline_ms": {"median": statistics.median(baseline_ms), "p95": _percentile(baseline_ms, 0.95)},
        "ratio_median": statistics.median(ratios),
        "frames_over_budget": sum(ms > FRAME_BUDGET_MS for ms in canvas_ms),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args(argv)
    results = run(args.size, args.frames)
    canvas, baseline = results["canvas_ms"], results["baseline_ms"]
    print(f"document {results['document']}, view {results['view']}, {results['frames']} frames")
    print(f"canvas    median {canvas['median']:.2f} ms   p95 {canvas['p95']:.2f} ms")
    print(f"baseline  median {baseline['median']:.2f} ms   p95 {baseline['p95']:.2f} ms")
    print(f"ratio canvas/baseline (median of per-frame ratios): {results['ratio_median']:.2f}")
    print(f"frames over the 60 Hz budget ({FRAME_BUDGET_MS:.1f} ms): {results['frames_over_budget']}")
    return results


if __name__ == "__main__":
    main()
