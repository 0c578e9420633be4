"""Which memory tier a job gets, from the device's memory, the model and the frame: Krita AI Diffusion's
presets, but per job and without asking."""

from __future__ import annotations

import pytest

from sfumato.core.api import BadInput
from sfumato.core.memory_tiers import (
    GB,
    LADDER,
    SD15_FP16,
    JobShape,
    MemoryTier,
    choose_tier,
    lower,
    needed_bytes,
    what_would_fit,
)

SD15_512 = JobShape(512, 512, batch=1)


@pytest.mark.parametrize(
    ("card_gb", "free_gb", "expected"),
    [
        (24, 22, MemoryTier.HIGH),
        (8, 3.2, MemoryTier.MEDIUM),
        (4, 2.6, MemoryTier.LOW),
        (2, 1.0, MemoryTier.MINIMAL),
    ],
)
def test_the_tier_follows_the_free_memory(card_gb: float, free_gb: float, expected: MemoryTier) -> None:
    choice = choose_tier(int(card_gb * GB), int(free_gb * GB), SD15_FP16, SD15_512)
    assert choice.tier is expected
    assert f"{free_gb:.1f} GB free of {card_gb:.1f} GB" in choice.reason


def test_each_tier_down_needs_less_and_the_ladder_ends() -> None:
    needs = [needed_bytes(tier, SD15_FP16, JobShape(1024, 1024), 1) for tier in LADDER]
    assert needs == sorted(needs, reverse=True) and len(set(needs)) == len(LADDER)
    assert [lower(tier) for tier in LADDER] == [*LADDER[1:], None]
    # The low tier keeps an SD 1.5 image at 512×512 within 2.5 GB.
    assert needed_bytes(MemoryTier.LOW, SD15_FP16, SD15_512, 1) <= 2.5 * GB


def test_a_vae_kept_in_float32_is_counted_at_four_bytes_a_value() -> None:
    """After a float16 overflow the VAE decodes in float32: a big frame's decode then needs more."""
    half = JobShape(1024, 1024)
    upcast = JobShape(1024, 1024, vae_dtype_bytes=4)
    for tier in (MemoryTier.MEDIUM, MemoryTier.LOW, MemoryTier.MINIMAL):
        assert needed_bytes(tier, SD15_FP16, upcast, 1) > needed_bytes(tier, SD15_FP16, half, 1)
    assert choose_tier(8 * GB, int(5.6 * GB), SD15_FP16, half).tier is MemoryTier.MEDIUM
    assert choose_tier(8 * GB, int(5.6 * GB), SD15_FP16, upcast).tier is MemoryTier.MINIMAL


def test_a_batch_is_split_where_the_whole_of_it_would_not_fit() -> None:
    batch = JobShape(768, 768, batch=8)
    roomy = choose_tier(24 * GB, 22 * GB, SD15_FP16, batch)
    tight = choose_tier(8 * GB, 5 * GB, SD15_FP16, batch)
    assert roomy.images_per_pass == 8
    assert 1 <= tight.images_per_pass < 8
    assert needed_bytes(tight.tier, SD15_FP16, batch, tight.images_per_pass) <= 5 * GB


def test_a_chosen_tier_overrides_the_automatic_one_and_a_wrong_name_is_refused() -> None:
    choice = choose_tier(24 * GB, 22 * GB, SD15_FP16, SD15_512, "Low")
    assert choice.tier is MemoryTier.LOW and choice.reason == "chosen in the settings"
    with pytest.raises(BadInput, match="auto, high, medium, low, minimal"):
        choose_tier(24 * GB, 22 * GB, SD15_FP16, SD15_512, "huge")


def test_a_job_that_fits_nowhere_is_told_a_smaller_frame_that_would() -> None:
    message = what_would_fit(int(0.5 * GB), SD15_FP16, JobShape(2048, 2048, batch=4))
    assert "4 images at 2048×2048" in message and "fewer images at once" in message
    frame = message.split("about ")[1].split(" should")[0]
    width, height = (int(side) for side in frame.split("×"))
    assert width == height and width < 2048
    assert needed_bytes(MemoryTier.MINIMAL, SD15_FP16, JobShape(width, height), 1) <= 0.5 * GB


def test_sfumato_info_shows_the_memory_tier_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.core.test_cli import run_cli

    code, stdout, stderr = run_cli(capsys, "info", "--device", "cpu", "--memory", "low")
    assert code == 0, stderr
    assert "Memory tier:        low (low; SD 1.5 at 512×512): chosen in the settings" in stdout.splitlines()
    code, stdout, _ = run_cli(capsys, "info", "--device", "cpu")
    tier_line = next(line for line in stdout.splitlines() if line.startswith("Memory tier:"))
    assert tier_line.endswith(
        "high (auto; SD 1.5 at 512×512): on the CPU everything stays in the computer's memory"
    )


def test_the_command_line_says_in_one_line_when_a_job_was_retried_lower() -> None:
    import io

    from sfumato.core.api import MemoryTierUsed
    from sfumato.core.cli.progress import Progress

    stream = io.StringIO()
    progress = Progress(stream, interactive=False)
    progress.show(MemoryTierUsed("job", "high", "24.0 GB free of 24.0 GB"))
    progress.show(
        MemoryTierUsed("job", "low", "Not enough GPU memory at 1536×1536: retried with model offload", True)
    )
    assert stream.getvalue() == "Not enough GPU memory at 1536×1536: retried with model offload\n"
