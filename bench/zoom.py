"""What an infinite zoom costs: time per keyframe, and time per rendered and encoded video frame.

Keyframes: the zoom's keyframe loop (job building, engine, cropping, PNG and manifest writes) against
the bare engine jobs it submits, the same jobs run with `Engine.run` and nothing saved. Both make the
same pixels. The ratio loop / bare is what the zoom adds on top of generating (goal ≤ 1.05).

Frames: rendering the continuous zoom (numpy and Pillow) and encoding it, per frame and per format,
against encoding frames that are already rendered; the difference is the renderer's share.

Variants run in one process, interleaved round by round in a rotating order after warm-up.

Run from the repository root:  python -m bench.zoom [--model tiny|sd15-random|PATH] ...
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import bench_environment, describe_machine, load_average, ratio, rotated, summary
from bench.models import BenchModel, prepare_model
from sfumato.core.api import EngineSettings
from sfumato.core.engine import Engine
from sfumato.core.video import encode_video
from sfumato.core.zoom.frames import ZoomRenderer, frame_positions
from sfumato.core.zoom.geometry import zoom_geometry
from sfumato.core.zoom.keyframe_loop import render_keyframes
from sfumato.core.zoom.keyframes import keyframe_job, plan_keyframes
from sfumato.core.zoom.progress import KeyframeFinished, ZoomProgress
from sfumato.core.zoom.settings import Direction, ZoomSettings

KEYFRAME_GOAL = 1.05
LOOP, BARE = "keyframe_loop", "bare_jobs"
RENDER = "render"
FORMATS = ("mp4", "webm", "gif")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.zoom", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--model", default="tiny", help="'tiny', 'sd15-random' or a local diffusers folder")
    parser.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (default auto)")
    parser.add_argument("--direction", choices=[d.value for d in Direction], default="out")
    parser.add_argument("--keyframes", type=int, default=4, help="keyframes per round (default 4)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=None, help="square keyframe side (default: the model's)")
    parser.add_argument("--video-size", type=int, default=512, help="square video side (default 512)")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=5, help="timed interleaved rounds")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prompt", default="a painting of a castle on a mountain, blue sky")
    parser.add_argument("--json", type=Path, default=None, help="write machine-readable results here")
    args = parser.parse_args(argv)
    if min(args.repeats, args.warmup, args.steps) < 1 or args.keyframes < 2:
        parser.error("--repeats, --warmup and --steps must be at least 1, --keyframes at least 2")
    return args


# ---- keyframes --------------------------------------------------------------------------------------


async def _loop_round(
    engine: Engine, settings: ZoomSettings, folder: Path
) -> tuple[list[float], list[np.ndarray]]:
    """Seconds per generated keyframe after the first (each one step of the zoom), and the keyframes."""
    finished: list[float] = []

    def on_progress(event: ZoomProgress) -> None:
        if isinstance(event, KeyframeFinished):
            finished.append(time.perf_counter())

    keyframes = await render_keyframes(engine, settings, folder, fresh=True, on_progress=on_progress)
    return list(np.diff(finished)), keyframes


async def _bare_round(engine: Engine, settings: ZoomSettings, keyframes: list[np.ndarray]) -> list[float]:
    """Seconds per engine job for the same zoom steps, each from the loop's own previous keyframe."""
    specs = plan_keyframes(settings, settings.seed, None)
    times = []
    for spec in specs[1:]:
        job = keyframe_job(spec, keyframes[spec.index - 1])
        start = time.perf_counter()
        await engine.run(job)
        times.append(time.perf_counter() - start)
    return times


async def _measure_keyframes(
    args: argparse.Namespace, settings: ZoomSettings, workdir: Path
) -> dict[str, Any]:
    engine = await Engine.start(EngineSettings(device=args.device, preview_every=0, in_process=True))
    info = engine.info
    try:
        per_round: dict[str, list[float]] = {LOOP: [], BARE: []}
        keyframes: list[np.ndarray] = []
        for round_index in range(args.warmup + args.repeats):
            timed = round_index >= args.warmup
            for name in rotated([LOOP, BARE], round_index) if keyframes else [LOOP, BARE]:
                gc.collect()
                if name == LOOP:
                    times, keyframes = await _loop_round(engine, settings, workdir / "keyframes")
                else:
                    times = await _bare_round(engine, settings, keyframes)
                if timed:
                    per_round[name].append(float(np.median(times)))
    finally:
        await engine.close()
    overhead = ratio(per_round[LOOP], per_round[BARE])
    device = {"device": info.device, "name": info.device_name, "dtype": info.dtype} if info else {}
    return {
        "device": device,
        "seconds_per_keyframe": {name: summary(times) for name, times in per_round.items()},
        "overhead": {**overhead, "goal": KEYFRAME_GOAL, "met": overhead["ratio"] <= KEYFRAME_GOAL},
        "keyframes": keyframes,
    }


# ---- frames -----------------------------------------------------------------------------------------


def _measure_frames(
    args: argparse.Namespace, settings: ZoomSettings, keyframes: list[np.ndarray], workdir: Path
) -> dict[str, Any]:
    geometry = zoom_geometry(
        settings.direction, settings.width, settings.height, settings.factor, settings.mask_blur
    )
    size = (args.video_size, args.video_size)
    renderer = ZoomRenderer(keyframes, geometry, size)
    positions = frame_positions(len(keyframes), args.fps, settings.seconds_per_keyframe)
    rendered = [renderer.frame(position) for position in positions]
    names = [RENDER, *(f"encode_{kind}" for kind in FORMATS), *(f"render_encode_{kind}" for kind in FORMATS)]
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(args.warmup + args.repeats):
        for name in rotated(names, round_index):
            gc.collect()
            start = time.perf_counter()
            if name == RENDER:
                for position in positions:
                    renderer.frame(position)
            else:
                kind = name.rsplit("_", 1)[1]
                frames = (
                    (renderer.frame(p) for p in positions) if name.startswith("render_") else iter(rendered)
                )
                encode_video(frames, [workdir / f"zoom.{kind}"], args.fps)
            if round_index >= args.warmup:
                times[name].append((time.perf_counter() - start) / len(positions))
    return {
        "frames": len(positions),
        "size": list(size),
        "seconds_per_frame": {name: summary(values) for name, values in times.items()},
        "render_share": {
            kind: ratio(times[f"render_encode_{kind}"], times[f"encode_{kind}"])["ratio"] for kind in FORMATS
        },
    }


# ---- report -----------------------------------------------------------------------------------------


async def _measure(args: argparse.Namespace, model: BenchModel, workdir: Path) -> dict[str, Any]:
    side = args.size or model.native_size
    settings = ZoomSettings(
        model=str(model.path), prompt=args.prompt, steps=args.steps, seed=args.seed, width=side, height=side,
        direction=Direction(args.direction), keyframes=args.keyframes,
    )  # fmt: skip
    load_before = load_average()
    keyframe_results = await _measure_keyframes(args, settings, workdir)
    keyframes = keyframe_results.pop("keyframes")
    frame_results = await asyncio.to_thread(_measure_frames, args, settings, keyframes, workdir)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "load_average": {"before": load_before, "after": load_average()},
        "settings": {
            "model": args.model,
            "model_description": model.description,
            "direction": args.direction,
            "keyframe_size": side,
            "keyframes": args.keyframes,
            "steps": args.steps,
            "video_size": args.video_size,
            "fps": args.fps,
            "repeats": args.repeats,
            "warmup": args.warmup,
        },
        "keyframes": keyframe_results,
        "frames": frame_results,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def report(results: dict[str, Any]) -> str:
    machine, settings = results["machine"], results["settings"]
    keyframes, frames = results["keyframes"], results["frames"]
    device = keyframes["device"]
    overhead = keyframes["overhead"]
    lines = [
        f"Sfumato infinite zoom, {results['date']}",
        f"Machine: {machine['cpu']}, {machine['cpu_count']} CPUs, torch threads {machine['torch_threads']}, "
        f"GPU: {machine['gpu'] or 'none'}; load average before {results['load_average']['before']}, "
        f"after {results['load_average']['after']}",
        f"Device: {device.get('device')} ({device.get('name')}), {device.get('dtype')}",
        f"Model: {settings['model_description']}; zoom {settings['direction']}, "
        f"{settings['keyframes']} keyframes of {settings['keyframe_size']} px, {settings['steps']} steps; "
        f"{settings['repeats']} rounds after {settings['warmup']} warm-up",
        "",
        "Per keyframe (median of round medians, p25 – p75):",
    ]
    for name, timing in keyframes["seconds_per_keyframe"].items():
        lines.append(
            f"  {name:<16}{_ms(timing['median_s']):>12}   {_ms(timing['p25_s'])} – {_ms(timing['p75_s'])}"
        )
    verdict = "goal met" if overhead["met"] else "GOAL MISSED"
    lines += [
        f"  loop / bare jobs: {overhead['ratio']:.3f} (rounds {overhead['round_ratio_p25']:.3f} – "
        f"{overhead['round_ratio_p75']:.3f}; goal ≤ {overhead['goal']})  {verdict}",
        "",
        f"Per video frame, {frames['frames']} frames of {frames['size'][0]}×{frames['size'][1]} px:",
    ]
    for name, timing in frames["seconds_per_frame"].items():
        lines.append(
            f"  {name:<22}{_ms(timing['median_s']):>10}   {_ms(timing['p25_s'])} – {_ms(timing['p75_s'])}"
        )
    shares = ", ".join(f"{kind} {value:.2f}" for kind, value in frames["render_share"].items())
    lines.append(f"  render + encode / encode alone: {shares}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="sfumato-bench-zoom-") as folder:
        workdir = Path(folder)
        with bench_environment(workdir / "home", args.threads):
            model = prepare_model(args.model, workdir)
            results = asyncio.run(_measure(args, model, workdir))
    print(report(results))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
