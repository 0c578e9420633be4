"""The engine at workstation scale: speed profiles against plain diffusers, peak memory per memory tier,
a batch as one tensor against single images, what previews cost, and launch to first image.

- ms per denoising step: plain diffusers (eager), Sfumato *default*, Sfumato *fast* (compiled UNet),
  each its own copy of the model, interleaved round by round, with ratios to plain;
- peak memory of a job per memory tier, at each `--sizes` (CUDA: `torch.cuda.max_memory_allocated`;
  CPU: the most tensor bytes live at once, counted by an allocation hook);
- a batch of 4 drawn as one tensor against four single images (throughput ratio);
- previews as a fraction of a step;
- launch to first image: engine process start, model load and the steps, *default* profile (and
  *fast*, on its second launch, when it is measured).

Run from the repository root. On the CPU at a tiny size (what the suite smoke-tests):
    python -m bench.gpu --model tiny --size 64 --sizes 64 --steps 2 --skip-fast
On a CUDA GPU, SD 1.5's architecture at random weights, 512², CFG 7, 20 steps, in the precision the
device runs models in (bfloat16 on Ampere and later, float16 before; the JSON's "device" says which):
    python -m bench.gpu --model sd15-random --json bench-gpu.json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from diffusers import StableDiffusionPipeline

from bench.measure import bench_environment, describe_machine, ratio, rotated, summary
from bench.models import prepare_model
from sfumato.core.api import EngineSettings, Finished, Txt2Img
from sfumato.core.devices import DeviceChoice, pick_device
from sfumato.core.engine import Engine
from sfumato.core.memory_tiers import LADDER
from sfumato.core.models.acceleration import accelerate
from sfumato.core.worker import Worker
from tests.support.memory_budget import MemoryBudget

PROMPT = "a lighthouse on a cliff at dusk, oil painting"
PLAIN, DEFAULT, FAST = "plain", "default", "fast"


def load_pipeline(path: Path, choice: DeviceChoice, profile: str) -> Any:
    pipe = StableDiffusionPipeline.from_pretrained(path, dtype=choice.dtype, safety_checker=None)
    pipe.set_progress_bar_config(disable=True)
    pipe.to(choice.device)
    if profile != PLAIN:
        accelerate(pipe.components, choice.device, profile)
    return pipe


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(pipe: Any, args: argparse.Namespace, device: torch.device) -> float:
    """Seconds per denoising step of one txt2img call (prompt encoding included, no decode)."""
    generator = torch.Generator("cpu").manual_seed(1)
    synchronize(device)
    start = time.perf_counter()
    with torch.inference_mode():
        pipe(
            PROMPT, num_inference_steps=args.steps, guidance_scale=args.cfg, height=args.size,
            width=args.size, generator=generator, output_type="latent",
        )  # fmt: skip
    synchronize(device)
    return (time.perf_counter() - start) / args.steps


def profiles(path: Path, choice: DeviceChoice, args: argparse.Namespace) -> dict[str, Any]:
    names = [PLAIN, DEFAULT] + ([] if args.skip_fast else [FAST])
    pipes = {name: load_pipeline(path, choice, name) for name in names}
    for _ in range(args.warmup):
        for name in names:
            time_steps(pipes[name], args, choice.device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(args.repeats):
        for name in rotated(names, round_index):
            times[name].append(time_steps(pipes[name], args, choice.device))
    del pipes
    gc.collect()
    return {
        "s_per_step": {name: summary(values) for name, values in times.items()},
        "ratio_to_plain": {name: ratio(times[name], times[PLAIN]) for name in names if name != PLAIN},
    }


def job(path: Path, args: argparse.Namespace, size: int, batch: int = 1, seed: int = 7) -> Txt2Img:
    return Txt2Img(
        model=str(path), prompt=PROMPT, steps=args.steps, cfg=args.cfg, width=size, height=size,
        seed=seed, batch=batch,
    )  # fmt: skip


def run_job(worker: Worker, the_job: Txt2Img) -> float:
    events: list[Any] = []
    synchronize(worker.device.device)
    start = time.perf_counter()
    worker.run("bench", the_job, events.append, lambda: False)
    synchronize(worker.device.device)
    if not isinstance(events[-1], Finished):
        raise SystemExit(f"the benchmark job did not finish: {events[-1]}")
    return time.perf_counter() - start


def peak_bytes(worker: Worker, the_job: Txt2Img) -> int:
    device = worker.device.device
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        run_job(worker, the_job)
        return int(torch.cuda.max_memory_allocated())
    budget = MemoryBudget()
    with budget:
        run_job(worker, the_job)
    return budget.peak


def tiers(path: Path, choice: DeviceChoice, args: argparse.Namespace) -> dict[str, dict[str, int]]:
    worker = Worker(choice, preview_every=0)
    run_job(worker, job(path, args, args.sizes[0]))  # what a first job sets up once is no tier's
    results: dict[str, dict[str, int]] = {}
    for tier in LADDER:
        worker.memory = tier.value
        results[tier.value] = {f"{size}": peak_bytes(worker, job(path, args, size)) for size in args.sizes}
    return results


def batching(path: Path, choice: DeviceChoice, args: argparse.Namespace) -> dict[str, Any]:
    worker = Worker(choice, preview_every=0, memory="high")
    worker.together = 4  # as one tensor, also on a CPU, to measure what it would give there
    run_job(worker, job(path, args, args.size, batch=4))
    batch, singles = [], []
    for _ in range(args.repeats):
        batch.append(run_job(worker, job(path, args, args.size, batch=4)))
        singles.append(sum(run_job(worker, job(path, args, args.size, seed=7 + n)) for n in range(4)))
    return {
        "batch_of_4_s": summary(batch),
        "four_singles_s": summary(singles),
        "speedup": ratio(singles, batch),
    }


def previews(path: Path, choice: DeviceChoice, args: argparse.Namespace, step_s: float) -> dict[str, Any]:
    """What a preview every step adds to each step, against a step of the default profile."""
    workers = {"with": Worker(choice, preview_every=1), "without": Worker(choice, preview_every=0)}
    times: dict[str, list[float]] = {name: [] for name in workers}
    for worker in workers.values():
        run_job(worker, job(path, args, args.size))
    for round_index in range(args.repeats):
        for name in rotated(list(workers), round_index):
            times[name].append(run_job(workers[name], job(path, args, args.size)))
    with_, without = summary(times["with"])["median_s"], summary(times["without"])["median_s"]
    per_step = max(0.0, with_ - without) / args.steps
    return {"cost_per_step_s": per_step, "fraction_of_a_step": per_step / step_s, "job_s": [with_, without]}


async def first_image(path: Path, args: argparse.Namespace, speed: str) -> float:
    start = time.perf_counter()
    settings = EngineSettings(device=args.device, preview_every=0, speed=speed)
    engine = await Engine.start(settings)
    try:
        job_id = engine.submit(job(path, args, args.size), listen=True)
        last = [event async for event in engine.events(job_id)][-1]
        if not isinstance(last, Finished):
            raise SystemExit(f"the launch job did not finish: {last}")
    finally:
        await engine.close()
    return time.perf_counter() - start


def launches(path: Path, args: argparse.Namespace) -> dict[str, float]:
    results = {"default_s": asyncio.run(first_image(path, args, DEFAULT))}
    if not args.skip_fast:
        asyncio.run(first_image(path, args, FAST))  # fills the compile cache
        results["fast_second_launch_s"] = asyncio.run(first_image(path, args, FAST))
    return results


def default_step_s(results: dict[str, Any]) -> float:
    return float(results["profiles"]["s_per_step"][DEFAULT]["median_s"])


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    model = prepare_model(args.model, workdir)
    choice = pick_device(args.device)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("profiles", lambda: profiles(model.path, choice, args)),
        ("peak_bytes_per_tier", lambda: tiers(model.path, choice, args)),
        ("batch", lambda: batching(model.path, choice, args)),
        ("previews", lambda: previews(model.path, choice, args, default_step_s(results))),
    ]
    if not args.skip_launch:
        steps.append(("launch_to_first_image", lambda: launches(model.path, args)))
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "device": {
            "device": choice.device.type,
            "name": choice.name,
            "dtype": str(choice.dtype).removeprefix("torch."),
        },
        "model": model.description,
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
    }
    for name, step in steps:
        print(f"measuring {name}…", file=sys.stderr, flush=True)
        results[name] = step()
    return results


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="tiny, sd15-random or a diffusers folder")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", type=int, default=512, help="frame side for the timings")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024], help="frame sides for peaks")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cfg", type=float, default=7.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--skip-fast", action="store_true", help="leave out the compiled profile")
    parser.add_argument("--skip-launch", action="store_true", help="leave out launch to first image")
    parser.add_argument("--json", type=Path, default=None, help="write the results here too")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="sfumato-bench-gpu-") as folder:
        workdir = Path(folder)
        with bench_environment(workdir / "home", args.threads):
            results = measure(args, workdir)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n", "utf-8")
    return results


if __name__ == "__main__":
    main()
