"""One set of limits: the engine's checks refuse what is beyond them before any large allocation."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sfumato.core.api import BadInput, Inpaint, JobBase, Outpaint, Txt2Img
from sfumato.core.limits import MAX_MASK_BLUR, MAX_QUOTED, quoted
from sfumato.core.masks import feather_mask
from sfumato.core.tasks.common import check_common, check_size

_IMAGE = np.zeros((64, 64, 3), dtype=np.uint8)
_MASK = np.full((64, 64), 255, dtype=np.uint8)


@pytest.mark.parametrize(
    ("job", "words"),
    [
        (Inpaint(model="m", prompt="p", init=_IMAGE, mask=_MASK, mask_blur=10**8), ("Mask blur", "256")),
        (Outpaint(model="m", prompt="p", init=_IMAGE, right=64, mask_blur=10**30), ("Mask blur", "256")),
        (Inpaint(model="m", prompt="p", init=_IMAGE, mask=_MASK, mask_blur=-1), ("Mask blur",)),
        (Inpaint(model="m", prompt="p", init=_IMAGE, mask=_MASK, mask_blur=4.5), ("Mask blur", "whole")),  # type: ignore[arg-type]
        (Txt2Img(model="m", prompt="p", steps=501), ("Steps", "500")),
        (Txt2Img(model="m", prompt="p", cfg=float("nan")), ("CFG scale",)),
        (Txt2Img(model="m", prompt="p", seed=2**32), ("Seed",)),
        (Txt2Img(model="m", prompt="p", seed=10**4000), ("Seed", "characters")),
        (Txt2Img(model="m", prompt="p", batch=101), ("Batch count", "100")),
    ],
    ids=[
        "mask-blur-1e8",
        "mask-blur-1e30",
        "negative-blur",
        "fractional-blur",
        "steps",
        "nan-cfg",
        "seed",
        "4000-digit-seed",
        "batch",
    ],
)
def test_the_engine_refuses_settings_beyond_the_limits(job: JobBase, words: tuple[str, ...]) -> None:
    with pytest.raises(BadInput) as caught:
        check_common(job)
    assert all(word in caught.value.message for word in words)
    assert len(caught.value.message) < 300


def test_the_engine_refuses_sizes_beyond_the_limits() -> None:
    with pytest.raises(BadInput, match="4096"):
        check_size(8192, 512)
    with pytest.raises(BadInput, match="multiple of 8"):
        check_size(516, 512)
    check_size(4096, 8)


def test_feathering_refuses_a_huge_blur_before_allocating() -> None:
    started = time.perf_counter()
    with pytest.raises(BadInput, match=str(MAX_MASK_BLUR)):
        feather_mask(_MASK, 10**8)  # used to allocate 1.3 GB at 10**6, and "run out of GPU memory" at 10**8
    assert time.perf_counter() - started < 0.5
    assert feather_mask(_MASK, MAX_MASK_BLUR).max() == pytest.approx(1.0)


def test_quoted_text_is_cut_to_a_line() -> None:
    assert quoted("short") == "short"
    long = quoted("x" * 100_000)
    assert len(long) <= MAX_QUOTED + 30 and "100,000 characters" in long
