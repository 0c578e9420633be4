"""How much slower is a txt2img generation through Sfumato's engine than a plain diffusers call?

Both sides generate the same picture: the same model, prompt, sampler, steps, size, CFG and seed, with
the prompt encoded and the latents decoded to a uint8 image on each side. Variants: the plain
pipeline; the in-process engine with a preview every step, and without previews; and the engine in its
own process (the default), whose time includes sending the job, the previews and the image across.
They are driven from one process, interleaved round by round in a rotating order after warm-up, so a
slow spell of the machine hits them alike. Reported: median times, the overhead ratio engine/plain
(goal ≤ 1.05) with the quartiles of the per-round ratios as spread, and what live previews cost per
denoising step (goal < 5 % of a step).

Run from the repository root:  python -m bench.engine_overhead [--model tiny|sd15-random|PATH] ...
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from diffusers import StableDiffusionPipeline

from bench.measure import bench_environment, describe_machine, load_average, ratio, rotated, summary
from bench.models import BenchModel, prepare_model
from sfumato.core.api import Cancelled, EngineSettings, Failed, Finished, Step, Txt2Img
from sfumato.core.devices import DeviceChoice, pick_device
from sfumato.core.engine import Engine
from sfumato.core.previews import LatentPreviewer
from sfumato.core.schedulers import make_scheduler

OVERHEAD_GOAL = 1.05
PREVIEW_GOAL = 0.05

PLAIN = "plain"
LABELS = {
    PLAIN: "plain diffusers",
    "engine_thread": "engine, in-process",
    "engine_thread_no_preview": "engine, in-process, no previews",
    "engine_process": "engine process",
}
ENGINE_SETTINGS: dict[str, dict[str, Any]] = {
    "engine_thread": {"in_process": True, "preview_every": 1},
    "engine_thread_no_preview": {"in_process": True, "preview_every": 0},
    "engine_process": {"in_process": False, "preview_every": 1},
}
# Previews are priced in-process, where nothing else differs between the two runs.
PREVIEW_PAIR = ("engine_thread", "engine_thread_no_preview")


@dataclass
class Run:
    seconds: float
    image: np.ndarray
    step_times: list[float] = field(default_factory=list)  # when each Step event arrived
    finite: bool = True  # False when the decode overflowed (NaN/inf pixels, e.g. an fp16 VAE)

    @property
    def seconds_per_step(self) -> float | None:
        if len(self.step_times) < 2:
            return None
        return (self.step_times[-1] - self.step_times[0]) / (len(self.step_times) - 1)


class Runner(Protocol):
    async def run(self) -> Run: ...

    async def close(self) -> None: ...


class PlainRunner:
    """The baseline: diffusers' own StableDiffusionPipeline, called the way its documentation shows."""

    def __init__(self, model: Path, device: DeviceChoice, job: Txt2Img) -> None:
        self.job = job
        self.pipe = StableDiffusionPipeline.from_pretrained(
            model,
            torch_dtype=device.dtype,
            local_files_only=True,
            use_safetensors=True,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        ).to(device.device)
        self.pipe.set_progress_bar_config(disable=True)
        # The engine's scheduler for this sampler, so both sides take identical steps.
        self.pipe.scheduler = make_scheduler(job.sampler, self.pipe.scheduler.config)

    async def run(self) -> Run:
        job = self.job
        generator = torch.Generator("cpu").manual_seed(job.seed)
        start = time.perf_counter()
        output = self.pipe(
            prompt=job.prompt,
            negative_prompt=job.negative,
            num_inference_steps=job.steps,
            guidance_scale=job.cfg,
            width=job.width,
            height=job.height,
            generator=generator,
            output_type="np",
        )
        pixels = output.images[0]
        image = (np.nan_to_num(pixels) * 255.0).round().astype(np.uint8)
        seconds = time.perf_counter() - start
        return Run(seconds, image, finite=bool(np.isfinite(pixels).all()))

    def time_previewer(self, calls: int = 50) -> float:
        """Median time of one preview (what the engine computes per step) on latents of this job's size."""
        vae = self.pipe.vae
        previewer = LatentPreviewer.fit(vae)
        factor = 2 ** (len(vae.config.block_out_channels) - 1)
        shape = (1, vae.config.latent_channels, self.job.height // factor, self.job.width // factor)
        latents = torch.randn(shape).to(self.pipe.device, self.pipe.dtype)
        times = []
        for _ in range(calls + 5):
            start = time.perf_counter()
            previewer(latents)
            times.append(time.perf_counter() - start)
        return float(np.median(times[5:]))

    async def close(self) -> None:
        pass


class EngineRunner:
    def __init__(self, engine: Engine, job: Txt2Img) -> None:
        self.engine = engine
        self.job = job

    @classmethod
    async def start(cls, settings: EngineSettings, job: Txt2Img) -> EngineRunner:
        return cls(await Engine.start(settings), job)

    async def run(self) -> Run:
        start = time.perf_counter()
        step_times: list[float] = []
        image: np.ndarray | None = None
        async for event in self.engine.events(self.engine.submit(self.job, listen=True)):
            match event:
                case Step():
                    step_times.append(time.perf_counter())
                case Finished():
                    image = event.images[0]
                case Failed() | Cancelled():
                    raise SystemExit(f"The engine did not finish the benchmark job: {event}")
        seconds = time.perf_counter() - start
        assert image is not None
        return Run(seconds, image, step_times)

    async def close(self) -> None:
        await self.engine.close()


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.engine_overhead",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--model",
        default="tiny",
        help="'tiny' (the test model, built in a temp folder), 'sd15-random' (SD 1.5's architecture at "
        "random weights, built in a temp folder; meant for a GPU) or a local diffusers model folder "
        "(default tiny)",
    )
    parser.add_argument("--device", default="auto", help="auto (default), cuda, mps or cpu")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps (default 20)")
    parser.add_argument("--size", type=int, default=None, help="square image side (default: the model's)")
    parser.add_argument("--repeats", type=int, default=20, help="timed interleaved rounds (default 20)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed runs of each variant first (default 2)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for torch on every side (unset: torch's own choice); 1 keeps a shared "
        "machine's other load from stalling multi-threaded small operations",
    )
    parser.add_argument("--sampler", default="Euler a", help="sampler name, as in the app (default Euler a)")
    parser.add_argument("--cfg", type=float, default=7.0, help="CFG scale (default 7)")
    parser.add_argument("--seed", type=int, default=1, help="seed, the same on every side (default 1)")
    parser.add_argument("--prompt", default="a painting of a castle on a mountain, blue sky", help="prompt")
    parser.add_argument(
        "--variants",
        default=",".join(LABELS),
        help=f"comma-separated subset of {', '.join(LABELS)} (default all; each engine holds its own "
        "copy of the model)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write machine-readable results here")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = [name for name in names if name not in LABELS]
    if unknown or PLAIN not in names or len(names) < 2:
        parser.error(f"--variants needs '{PLAIN}' and at least one of {', '.join(ENGINE_SETTINGS)}")
    if (
        args.repeats < 1
        or args.warmup < 1
        or args.steps < 1
        or (args.threads is not None and args.threads < 1)
    ):
        parser.error("--repeats, --warmup, --steps and --threads must be at least 1")
    args.variants = names
    return args


async def _start_runners(
    names: list[str], args: argparse.Namespace, model: BenchModel, job: Txt2Img
) -> tuple[dict[str, Runner], DeviceChoice, dict[str, Any]]:
    device = pick_device(args.device)
    engine_names = [name for name in names if name in ENGINE_SETTINGS]
    engines = await asyncio.gather(
        *(
            EngineRunner.start(EngineSettings(device=args.device, **ENGINE_SETTINGS[n]), job)
            for n in engine_names
        )
    )
    info = engines[0].engine.info
    engine_device = {"device": info.device, "name": info.device_name, "dtype": info.dtype} if info else {}
    runners: dict[str, Runner] = dict(zip(engine_names, engines, strict=True))
    runners[PLAIN] = PlainRunner(model.path, device, job)
    return {name: runners[name] for name in names}, device, engine_device


async def _measure(args: argparse.Namespace, model: BenchModel) -> dict[str, Any]:
    size = args.size or model.native_size
    job = Txt2Img(
        model=str(model.path), prompt=args.prompt, sampler=args.sampler, steps=args.steps, cfg=args.cfg,
        seed=args.seed, width=size, height=size,
    )  # fmt: skip
    names: list[str] = args.variants
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = load_average()
    runners, device, engine_device = await _start_runners(names, args, model, job)
    try:
        first: dict[str, Run] = {}
        for _ in range(args.warmup):  # the first run of each engine also loads its model
            for name in names:
                first.setdefault(name, await runners[name].run())
        runs: dict[str, list[Run]] = {name: [] for name in names}
        for round_index in range(args.repeats):
            for name in rotated(names, round_index):
                gc.collect()
                runs[name].append(await runners[name].run())
        plain = runners[PLAIN]
        assert isinstance(plain, PlainRunner)
        preview_call = plain.time_previewer()
    finally:
        await asyncio.gather(*(runner.close() for runner in runners.values()))

    times = {name: [run.seconds for run in runs[name]] for name in names}
    plain_image = first[PLAIN].image
    return {
        "date": started,
        "machine": describe_machine(),
        "load_average": {"before": load_before, "after": load_average()},
        "device": {"device": device.device.type, "name": device.name, "dtype": str(device.dtype)[6:]},
        "engine_device": engine_device,
        "settings": {
            "model": args.model,
            "model_description": model.description,
            "width": size,
            "height": size,
            "steps": args.steps,
            "sampler": args.sampler,
            "cfg": args.cfg,
            "seed": args.seed,
            "prompt": args.prompt,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "threads": args.threads,
            "variants": names,
        },
        "timings": {name: summary(times[name]) for name in names},
        "overhead": {name: _overhead(times[name], times[PLAIN]) for name in names if name != PLAIN},
        "preview": _preview_cost(runs, args.steps, preview_call),
        "same_work": {
            "image_shape": list(plain_image.shape),
            "plain_image_finite": first[PLAIN].finite,
            "max_pixel_difference": {
                name: int(np.abs(first[name].image.astype(int) - plain_image.astype(int)).max())
                for name in names
                if name != PLAIN and first[name].image.shape == plain_image.shape
            },
        },
    }


def _overhead(engine: list[float], plain: list[float]) -> dict[str, Any]:
    result: dict[str, Any] = ratio(engine, plain)
    return {**result, "goal": OVERHEAD_GOAL, "met": result["ratio"] <= OVERHEAD_GOAL}


def _preview_cost(runs: dict[str, list[Run]], steps: int, call_seconds: float) -> dict[str, Any] | None:
    """Extra time per step with a preview every step, as a fraction of one step without previews; and
    the preview computation timed alone, which the noise of whole runs cannot hide."""
    with_name, without_name = PREVIEW_PAIR
    if with_name not in runs or without_name not in runs:
        return None
    without = runs[without_name]
    per_step = [run.seconds_per_step for run in without]
    measured = [value for value in per_step if value is not None]
    step_seconds = (
        float(np.median(measured)) if measured else float(np.median([r.seconds for r in without])) / steps
    )
    costs = np.array([(a.seconds - b.seconds) / steps for a, b in zip(runs[with_name], without, strict=True)])
    p25, median, p75 = np.percentile(costs, [25, 50, 75])
    fraction = float(median) / step_seconds
    return {
        "compared": [with_name, without_name],
        "step_s": step_seconds,
        "cost_per_step_s": float(median),
        "fraction_of_step": fraction,
        "round_fraction_p25": float(p25) / step_seconds,
        "round_fraction_p75": float(p75) / step_seconds,
        "call_s": call_seconds,
        "call_fraction_of_step": call_seconds / step_seconds,
        "goal": PREVIEW_GOAL,
        "met": fraction < PREVIEW_GOAL,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.{3 if seconds < 0.001 else 1}f} ms"


def _verdict(met: bool) -> str:
    return "goal met" if met else "GOAL MISSED"


def report(results: dict[str, Any]) -> str:
    machine, device, settings = results["machine"], results["device"], results["settings"]
    load = results["load_average"]
    lines = [
        f"Sfumato engine overhead, {results['date']}",
        f"Machine: {machine['cpu']} ({machine['architecture']}), {machine['cpu_count']} CPUs, "
        f"torch threads {machine['torch_threads']}, OMP_WAIT_POLICY {machine['omp_wait_policy'] or 'unset'}, "
        f"GPU: {machine['gpu'] or 'none'}",
        f"Load average (1/5/15 min): before {load['before']}, after {load['after']}",
        f"Device: {device['device']} ({device['name']}), {device['dtype']}; torch {machine['torch']}, "
        f"diffusers {machine['diffusers']}, transformers {machine['transformers']}",
        f"Model: {settings['model_description']}; {settings['width']}×{settings['height']} px, "
        f"{settings['steps']} steps, {settings['sampler']}, CFG {settings['cfg']:g}, seed {settings['seed']}",
        f"{settings['repeats']} interleaved rounds after {settings['warmup']} warm-up run(s) of each variant",
        "",
        f"  {'variant':<32}{'median':>12}   p25 – p75",
    ]
    for name, timing in results["timings"].items():
        spread = f"{_ms(timing['p25_s'])} – {_ms(timing['p75_s'])}"
        lines.append(f"  {LABELS[name]:<32}{_ms(timing['median_s']):>12}   {spread}")
    lines += ["", f"Overhead, engine / plain, median of the per-round ratios (goal ≤ {OVERHEAD_GOAL}):"]
    for name, overhead in results["overhead"].items():
        spread = f"p25–p75 {overhead['round_ratio_p25']:.3f} – {overhead['round_ratio_p75']:.3f}"
        of_medians = f"ratio of medians {overhead['ratio_of_medians']:.3f}"
        lines.append(
            f"  {LABELS[name]:<32}{overhead['ratio']:>8.3f}   ({spread}; {of_medians})  "
            f"{_verdict(overhead['met'])}"
        )
    preview = results["preview"]
    if preview:
        lines += [
            "",
            f"Preview cost, {LABELS[preview['compared'][0]]} vs {LABELS[preview['compared'][1]]} "
            f"(goal < {PREVIEW_GOAL:.0%} of a step):",
            f"  {_ms(preview['cost_per_step_s'])} per step = {preview['fraction_of_step']:.1%} of a "
            f"{_ms(preview['step_s'])} step (rounds p25–p75 {preview['round_fraction_p25']:.1%} – "
            f"{preview['round_fraction_p75']:.1%})  {_verdict(preview['met'])}",
            f"  the preview computation alone: {_ms(preview['call_s'])} = "
            f"{preview['call_fraction_of_step']:.2%} of a step",
        ]
    same = results["same_work"]
    differences = ", ".join(f"{LABELS[n]} {d}" for n, d in same["max_pixel_difference"].items())
    lines += ["", f"Same work: largest pixel difference from plain (0–255): {differences}"]
    if not same["plain_image_finite"]:
        lines.append(
            "  The plain pipeline's decode overflowed (NaN pixels); the engine retries such a decode."
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="sfumato-bench-") as folder:
        workdir = Path(folder)
        with bench_environment(workdir / "home", args.threads):
            model = prepare_model(args.model, workdir)
            results = asyncio.run(_measure(args, model))
    print(report(results))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
