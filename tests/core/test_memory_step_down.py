"""Out of memory, a job starts over one memory tier down with the same seeds, and fails only at the
lowest tier, saying what would fit. The GPU's memory is simulated on the CPU by an allocation hook
that raises the CUDA (or MPS) out-of-memory error above a byte budget."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfumato.core.api import ErrorKind, Event, Failed, Finished, ImageReady, MemoryTierUsed, Txt2Img
from sfumato.core.devices import pick_device
from sfumato.core.memory_tiers import LADDER
from sfumato.core.worker import Worker
from tests.support.memory_budget import MemoryBudget, cuda_out_of_memory, mps_out_of_memory

STEPS = 2
CLOSE = 2  # pixel levels: sliced attention sums in another order than SDPA


def txt2img(model: Path, seed: int = 5, batch: int = 2) -> Txt2Img:
    return Txt2Img(
        model=str(model), prompt="a red cube", steps=STEPS, width=64, height=64, seed=seed, batch=batch
    )


@pytest.fixture(scope="module")
def shared_worker(tiny_model_dir: Path) -> Worker:
    worker = Worker(pick_device("cpu"), preview_every=1)
    worker.models.get(str(tiny_model_dir))  # weights load outside the budget, as a GPU's are resident
    worker.together = 4  # draw a batch as one tensor, as on a GPU
    return worker


@pytest.fixture
def worker(shared_worker: Worker) -> Worker:
    shared_worker.memory = "auto"
    return shared_worker


def at(worker: Worker, memory: str) -> Worker:
    worker.memory = memory
    return worker


def run(worker: Worker, job: Txt2Img, budget: MemoryBudget | None = None) -> tuple[list[Event], list[int]]:
    """The job's events, and the bytes still live (from earlier attempts) as each attempt starts."""
    events: list[Event] = []
    live_at_start: list[int] = []

    def emit(event: Event) -> None:
        if isinstance(event, MemoryTierUsed) and budget is not None:
            gc.collect()
            live_at_start.append(budget.live)
        events.append(event)

    if budget is None:
        worker.run("job", job, emit, lambda: False)
    else:
        with budget:
            worker.run("job", job, emit, lambda: False)
    gc.collect()
    return events, live_at_start


def tiers(events: list[Event]) -> list[str]:
    return [event.tier for event in events if isinstance(event, MemoryTierUsed)]


def peak_at(worker: Worker, model: Path, memory: str) -> tuple[int, int]:
    """Peak bytes of the standard job at tier `memory`, and what the finished job leaves live."""
    budget = MemoryBudget()
    events, _ = run(at(worker, memory), txt2img(model), budget)
    assert isinstance(events[-1], Finished)
    return budget.peak, budget.live


@pytest.fixture(scope="module")
def peaks(shared_worker: Worker, tiny_model_dir: Path) -> dict[str, tuple[int, int]]:
    return {memory: peak_at(shared_worker, tiny_model_dir, memory) for memory in ("high", "medium")}


def max_difference(first: np.ndarray, second: np.ndarray) -> int:
    return int(np.abs(first.astype(int) - second.astype(int)).max())


@pytest.mark.parametrize("error", [cuda_out_of_memory, mps_out_of_memory], ids=["cuda", "mps"])
def test_out_of_memory_retries_one_tier_down_with_the_same_pictures(
    worker: Worker,
    tiny_model_dir: Path,
    peaks: dict[str, tuple[int, int]],
    error: Callable[[int], BaseException],
) -> None:
    (high_peak, left_by_a_job), (medium_peak, _) = peaks["high"], peaks["medium"]
    assert medium_peak < high_peak  # the medium tier decodes a batch one image at a time
    budget = MemoryBudget(limit=(high_peak + medium_peak) // 2, error=error)
    events, live_at_start = run(worker, txt2img(tiny_model_dir, seed=5), budget)

    finished = events[-1]
    assert isinstance(finished, Finished), finished
    assert budget.refused == 1 and tiers(events) == ["high", "medium"]
    notice = [event for event in events if isinstance(event, MemoryTierUsed)][-1]
    assert (
        notice.retry
        and notice.reason == "Not enough computer memory at 64×64: retried with the text encoder off the GPU"
    )
    # The failed attempt leaves nothing behind that a finished job does not.
    assert all(live <= left_by_a_job for live in live_at_start)
    # Images already delivered are not delivered again.
    assert [event.index for event in events if isinstance(event, ImageReady)] == [0, 1]

    unfaulted, _ = run(at(worker, "high"), txt2img(tiny_model_dir, seed=5))
    reference = unfaulted[-1]
    assert isinstance(reference, Finished)
    assert [recipe.seed for recipe in finished.recipes] == [recipe.seed for recipe in reference.recipes]
    for image, expected in zip(finished.images, reference.images, strict=True):
        assert max_difference(image, expected) <= CLOSE


def test_a_job_fitting_at_no_tier_walks_the_whole_ladder_and_says_what_would_fit(
    worker: Worker, tiny_model_dir: Path, peaks: dict[str, tuple[int, int]]
) -> None:
    budget = MemoryBudget(limit=peaks["medium"][0] // 4)
    events, live_at_start = run(worker, txt2img(tiny_model_dir), budget)

    failed = events[-1]
    assert isinstance(failed, Failed) and failed.kind == ErrorKind.OUT_OF_MEMORY
    assert tiers(events) == [tier.value for tier in LADDER]
    assert "2 images at 64×64" in failed.message
    assert "a smaller frame" in failed.message and "fewer images" in failed.message
    assert all(live <= peaks["high"][1] for live in live_at_start)
    assert not [event for event in events if isinstance(event, ImageReady)]


def test_a_tier_is_undone_when_the_next_job_runs_higher(worker: Worker, tiny_model_dir: Path) -> None:
    worker.memory = "high"
    before = run(worker, txt2img(tiny_model_dir, batch=1))[0][-1]
    worker.memory = "minimal"
    lowest = run(worker, txt2img(tiny_model_dir, batch=1))[0][-1]
    worker.memory = "high"
    after = run(worker, txt2img(tiny_model_dir, batch=1))[0][-1]
    assert isinstance(before, Finished) and isinstance(lowest, Finished) and isinstance(after, Finished)
    assert max_difference(lowest.images[0], before.images[0]) <= CLOSE
    # Sliced attention rounds differently: exactly the first picture again means it was switched off.
    assert np.array_equal(after.images[0], before.images[0])


def test_a_batch_runs_as_one_tensor_and_each_image_is_its_seeds_own(
    worker: Worker, tiny_model_dir: Path
) -> None:
    worker.memory = "high"
    calls: list[Any] = []
    unet = worker.models.get(str(tiny_model_dir)).components["unet"]
    hook = unet.register_forward_hook(lambda _module, _args, _output: calls.append(1))
    batch = run(worker, txt2img(tiny_model_dir, seed=40, batch=3))[0][-1]
    hook.remove()
    assert isinstance(batch, Finished)
    assert len(calls) == STEPS  # one UNet call per step for the three images
    for index, image in enumerate(batch.images):
        single = run(worker, txt2img(tiny_model_dir, seed=40 + index, batch=1))[0][-1]
        assert isinstance(single, Finished) and single.recipes[0].seed == batch.recipes[index].seed
        assert max_difference(image, single.images[0]) <= CLOSE
