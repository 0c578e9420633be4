"""Video export as a player sees it: the frame count, size and rate that ffmpeg reads back, and
pictures that survive the encoding."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sfumato.core.api import BadInput
from sfumato.core.video import VideoCancelled, decode_video, encode_video, probe_video, write_video


def moving_pattern(count: int, width: int = 64, height: int = 48) -> Iterator[np.ndarray]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    for index in range(count):
        red = 128 + 100 * np.sin(xs / 7 + index / 3)
        green = 128 + 100 * np.cos(ys / 5 - index / 4)
        blue = 128 + 60 * np.sin((xs + ys) / 9 + index / 5)
        yield np.stack([red, green, blue], axis=-1).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / error))


@pytest.mark.parametrize("suffix", [".mp4", ".webm", ".gif"])
def test_video_files_have_the_frames_size_and_rate_written(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"clip{suffix}"
    written = encode_video(moving_pattern(17), [path], fps=10)

    info = probe_video(path)
    assert written == 17
    assert (info.frames, info.width, info.height) == (17, 64, 48)
    assert info.fps == pytest.approx(10)
    decoded = list(decode_video(path))
    # Lossy codecs, but each frame must still be the picture that went in (GIF: 256 colours).
    floor = 25 if suffix == ".gif" else 30
    assert all(psnr(a, b) > floor for a, b in zip(decoded, moving_pattern(17), strict=True))


def test_one_pass_writes_several_formats(tmp_path: Path) -> None:
    paths = [tmp_path / "a.mp4", tmp_path / "a.gif"]
    seen: list[int] = []
    encode_video(moving_pattern(5), paths, fps=8, on_frame=seen.append)
    assert seen == [1, 2, 3, 4, 5]
    assert [probe_video(p).frames for p in paths] == [5, 5]


def test_mp4_and_webm_refuse_odd_sizes_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    with pytest.raises(BadInput, match="even width and height"):
        encode_video(moving_pattern(3, width=63), [path], fps=10)
    assert list(tmp_path.iterdir()) == []
    encode_video(moving_pattern(3, width=63), [tmp_path / "odd.gif"], fps=10)  # GIF has no such limit


def test_unknown_formats_and_rates_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"\.mp4.*\.webm.*\.gif"):
        encode_video(moving_pattern(2), [tmp_path / "clip.avi"], fps=10)
    with pytest.raises(BadInput, match="GIF"):
        encode_video(moving_pattern(2), [tmp_path / "clip.gif"], fps=60)


def test_a_stopped_export_leaves_no_file(tmp_path: Path) -> None:
    stop = threading.Event()

    def frames() -> Iterator[np.ndarray]:
        for index, frame in enumerate(moving_pattern(10)):
            if index == 4:
                stop.set()
            yield frame

    with pytest.raises(VideoCancelled):
        encode_video(frames(), [tmp_path / "clip.mp4"], fps=10, stop=stop)
    assert list(tmp_path.iterdir()) == []


async def test_cancelling_the_async_export_removes_its_partial_file(tmp_path: Path) -> None:
    started = asyncio.Event()

    def endless() -> Iterator[np.ndarray]:
        frame = next(moving_pattern(1))
        while True:
            yield frame

    def on_frame(count: int) -> None:
        if count == 3:
            started.set()

    task = asyncio.ensure_future(write_video(endless(), [tmp_path / "clip.webm"], 10, on_frame))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(tmp_path.iterdir()) == []
