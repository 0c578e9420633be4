"""How well the built-in demo model does what its prompts say, measured through the regular engine.

    .venv/bin/python -m bench.quality                       # the full run: 50 prompts per score
    .venv/bin/python -m bench.quality --count 10 --steps 12 # a quick look
    .venv/bin/python -m bench.quality --gallery resources/demo-model/gallery --json quality.json

Scores (each over held-out prompts, fixed seeds): txt2img prompt adherence (background, shape
colour, kind, size and position all right), inpaint (the shape masked and asked for in another colour
or kind: the new one appears and nothing changes beyond the blur band), outpaint (50% more on one
side: the background continues in its colour without a visible seam) and zoom out (every keyframe
keeps the background colour and a coherent scene) and upscale (a right native image enlarged 4× and
redrawn keeps every attribute and has more gradient energy than its Lanczos enlargement). Big
pictures: large (a 256² frame through the hires path: every attribute, one shape, edges sharper
than a Lanczos enlargement, no seam along window borders) and panorama (256×64: one background
across the width, read around the shape, and one shape). The shipped add-ons: the demo LoRA at
weight 1 draws held-out bar prompts right (and the held-out prompts of the other scores still
right); at weight 0, and in the next job without it, the pixels equal the bare model's; and
prompts naming the embedding draw its scene.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.demo_model.addon_scores import (
    embedding_score,
    lora_evaluation_scenes,
    lora_off_score,
    lora_score,
)
from bench.demo_model.harness import (
    Score,
    Settings,
    evaluation_scenes,
    inpaint_score,
    large_txt2img_scores,
    outpaint_score,
    panorama_score,
    txt2img_score,
    zoom_out_score,
)
from bench.demo_model.upscale_score import upscale_score
from bench.measure import describe_machine
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.core.engine import Engine, EngineSettings

GOAL = 0.9
SCORES = (
    *("txt2img", "inpaint", "outpaint", "zoom", "upscale", "large", "panorama"),
    *("lora", "lora-old-shapes", "lora-off", "embedding"),
)
GALLERY_IMAGES = 12  # per strip


def strip(images: list[np.ndarray], scale: int = 2, gap: int = 4) -> Image.Image:
    """Images side by side on white, enlarged without smoothing so the pixels stay honest."""
    height = max(image.shape[0] for image in images) * scale
    width = sum(image.shape[1] * scale + gap for image in images) - gap
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    x = 0
    for image in images:
        tile = Image.fromarray(image).resize(
            (image.shape[1] * scale, image.shape[0] * scale), Image.Resampling.NEAREST
        )
        canvas.paste(tile, (x, 0))
        x += tile.width + gap
    return canvas


def write_gallery(folder: Path, scores: list[Score]) -> dict[str, list[str]]:
    """One strip per score (inputs before outputs for edits) and the prompts shown, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    prompts: dict[str, list[str]] = {}
    for score in scores:
        per_case = len(score.cases[0].images) if score.cases else 1
        cases = score.cases[: max(1, GALLERY_IMAGES // per_case)]
        images = [image for case in cases for image in case.images]
        name = score.name.split()[0]
        strip(images).save(folder / f"{name}.png", optimize=True)
        prompts[name] = [case.prompt for case in cases]
    (folder / "prompts.json").write_text(json.dumps(prompts, indent=2) + "\n", "utf-8")
    return prompts


async def measure(args: argparse.Namespace) -> list[tuple[Score, float]]:

    settings = Settings(
        model=args.model, steps=args.steps, sampler=args.sampler, cfg=args.cfg, seed=args.seed
    )
    scenes = evaluation_scenes(args.count, args.seed)
    bars = lora_evaluation_scenes(args.count, args.seed)
    results = []
    engine = await Engine.start(EngineSettings(device=args.device, in_process=True))
    scorers: tuple[tuple[str, Callable[[], Awaitable[Score | tuple[Score, ...]]]], ...] = (
        ("txt2img", lambda: txt2img_score(engine, settings, scenes)),
        ("inpaint", lambda: inpaint_score(engine, settings, scenes)),
        ("outpaint", lambda: outpaint_score(engine, settings, scenes)),
        ("zoom", lambda: zoom_out_score(engine, settings, scenes[: args.zoom_count])),
        ("upscale", lambda: upscale_score(engine, settings, scenes)),
        ("large", lambda: large_txt2img_scores(engine, settings, scenes)),
        ("panorama", lambda: panorama_score(engine, settings, scenes)),
        ("lora", lambda: lora_score(engine, settings, bars)),
        ("lora-old-shapes", lambda: lora_score(engine, settings, scenes, name="old shapes")),
        ("lora-off", lambda: lora_off_score(engine, settings, bars)),
        ("embedding", lambda: embedding_score(engine, settings, args.count)),
    )
    try:
        for name, scorer in scorers:
            if name not in args.only:
                continue
            started = time.perf_counter()
            scored = await scorer()  # large also scores its native pictures, like for like
            seconds = time.perf_counter() - started
            for score in scored if isinstance(scored, tuple) else (scored,):
                results.append((score, seconds))
                parts = ", ".join(f"{p} {rate:.0%}" for p, rate in score.check_rates().items())
                print(
                    f"{score.name:<20} {score.rate:6.1%}  ({len(score.cases)} prompts; right: {parts})",
                    flush=True,
                )
    finally:
        await engine.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEMO_MODEL_ID, help="model id or folder (default: the demo model)")
    parser.add_argument("--count", type=int, default=50, help="prompts per score")
    parser.add_argument("--zoom-count", type=int, default=50, help="zooms (4 keyframes each)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--sampler", default="Euler a")
    parser.add_argument("--cfg", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", nargs="+", default=list(SCORES), choices=SCORES)
    parser.add_argument("--gallery", type=Path, help="write example strips here")
    parser.add_argument("--json", type=Path, help="write the scores and failures here")
    parser.add_argument("--failures", action="store_true", help="list every failed prompt")
    args = parser.parse_args(argv)

    results = asyncio.run(measure(args))
    report: dict[str, Any] = {"settings": vars(args) | {"gallery": None, "json": None}, "scores": {}}
    for score, seconds in results:
        report["scores"][score.name] = {
            "rate": round(score.rate, 4),
            "prompts": len(score.cases),
            "seconds": round(seconds, 1),
            "without": {problem: round(rate, 4) for problem, rate in score.check_rates().items()},
            "failures": [{"prompt": case.prompt, "detail": case.describe()} for case in score.failures()],
        }
        if args.failures:
            for case in score.failures():
                print(f"  {score.name}: {case.prompt!r}: {case.describe()}")
    report["machine"] = describe_machine()
    if args.gallery:
        write_gallery(args.gallery, [score for score, _ in results])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", "utf-8")
    return 0 if all(score.rate >= GOAL for score, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
