"""Download progress reads the same on the command line and in the studio: amount, speed, time left."""

from __future__ import annotations

from dataclasses import replace

from sfumato.core.cli.models import progress_line
from sfumato.core.formatting import download_amounts
from sfumato.core.models.download import DownloadProgress

HALFWAY = DownloadProgress(
    repo_id="prompthero/openjourney",
    file="unet/weights.safetensors",
    file_done=400_000_000,
    file_total=3_400_000_000,
    done=900_000_000,
    total=2_100_000_000,
    files_done=2,
    files_total=12,
    bytes_per_second=11_200_000,
    eta_seconds=110,
)


def test_amount_speed_and_time_left() -> None:
    assert download_amounts(HALFWAY) == ["900.0 MB of 2.1 GB", "11.2 MB/s", "1 min 50 s left"]


def test_speed_and_time_left_appear_only_once_they_are_known() -> None:
    starting = replace(HALFWAY, bytes_per_second=0.0, eta_seconds=None)
    assert download_amounts(starting) == ["900.0 MB of 2.1 GB"]
    finished = replace(HALFWAY, done=HALFWAY.total, eta_seconds=0.0)
    assert download_amounts(finished) == ["2.1 GB of 2.1 GB", "11.2 MB/s"]


def test_the_command_line_adds_the_percentage_and_the_file() -> None:
    assert progress_line(HALFWAY) == (
        " 43% 900.0 MB of 2.1 GB, 11.2 MB/s, 1 min 50 s left, file 3/12 unet/weights.safetensors"
    )
