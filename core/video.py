"""Writing frames as MP4 (H.264), WebM (VP9) or GIF files, and reading videos back.

Frames are RGB `uint8` arrays (H, W, 3), all of one size. They are piped as raw RGB into the ffmpeg
that ships inside the `imageio-ffmpeg` wheel, so nothing needs installing besides the Python package.
Each video is written under a temporary name and moved into place once ffmpeg has finished, so a
cancelled or failed export never leaves a partial file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import secrets
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from sfumato.core.api import BadInput, SfumatoError

MAX_FPS = 120.0
GIF_MAX_FPS = 50.0  # GIF frame delays are whole hundredths of a second; faster plays wrongly


class VideoFormat(enum.StrEnum):
    MP4 = "mp4"
    WEBM = "webm"
    GIF = "gif"


_SUFFIXES = {".mp4": VideoFormat.MP4, ".webm": VideoFormat.WEBM, ".gif": VideoFormat.GIF}

# H.264 and VP9 in yuv420p for players everywhere; GIF with a palette made from the frames themselves.
_CODEC_OPTIONS: dict[VideoFormat, list[str]] = {
    VideoFormat.MP4: [
        "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", "-f", "mp4",
    ],
    VideoFormat.WEBM: [
        "-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-deadline", "good", "-cpu-used", "4",
        "-row-mt", "1", "-pix_fmt", "yuv420p", "-f", "webm",
    ],
    VideoFormat.GIF: [
        "-filter_complex", "split[frames][copy];[copy]palettegen=stats_mode=diff[palette];"
        "[frames][palette]paletteuse=dither=sierra2_4a",
        "-loop", "0", "-f", "gif",
    ],
}  # fmt: skip


def video_format(path: Path) -> VideoFormat:
    """The format a video file name asks for, by its suffix."""
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise BadInput(
            f'Sfumato cannot write "{path.name}": video files must end in .mp4 (H.264), .webm (VP9) or .gif.'
        )
    return found


def check_video_output(path: Path, width: int, height: int, fps: float) -> VideoFormat:
    """Refuse, before any work is done, a video that could not be written as asked."""
    kind = video_format(path)
    if not 0 < fps <= MAX_FPS:
        raise BadInput(
            f"The frame rate must be above 0 and at most {MAX_FPS:g} frames a second, not {fps:g}."
        )
    if kind is VideoFormat.GIF and fps > GIF_MAX_FPS:
        raise BadInput(
            f"GIF files play at most {GIF_MAX_FPS:g} frames a second; choose a lower frame rate for "
            f'"{path.name}" or write an .mp4 or .webm instead.'
        )
    if width < 2 or height < 2:
        raise BadInput(f"A video needs at least 2×2 pixels; {width}×{height} is too small.")
    if kind is not VideoFormat.GIF and (width % 2 or height % 2):
        raise BadInput(
            f"MP4 and WebM videos need an even width and height; {width}×{height} is not. "
            f"Try {width - width % 2}×{height - height % 2}."
        )
    folder = path.parent
    if not folder.is_dir():
        raise BadInput(f'The folder "{folder}" for the video does not exist. Create it first.')
    if path.is_dir():
        raise BadInput(f'"{path}" is a folder; give a video file name in it, such as "{path / "zoom.mp4"}".')
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f'Sfumato is not allowed to write in "{folder}". Choose another folder for the video.')
    return kind


def ffmpeg_executable() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as error:
        raise SfumatoError(
            "Video export needs the imageio-ffmpeg package, which is not installed. Reinstall Sfumato "
            "or run `pip install imageio-ffmpeg`."
        ) from error
    executable: str = imageio_ffmpeg.get_ffmpeg_exe()
    return executable


class VideoCancelled(Exception):
    """The export was stopped before its last frame; no file was written."""


@dataclass
class _Encoder:
    path: Path
    partial: Path
    process: subprocess.Popen[bytes]
    log: IO[bytes]


def encode_video(
    frames: Iterable[np.ndarray],
    paths: Sequence[Path],
    fps: float,
    *,
    on_frame: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Write `frames` to every file in `paths` (format by suffix) at `fps`; the number of frames.

    All files receive the same frames in one pass. `on_frame(n)` is called after frame n (1-based)
    has gone to every encoder; when `stop` is set the export ends with VideoCancelled and no file.
    """
    encoders: list[_Encoder] = []
    size: tuple[int, int] | None = None
    count = 0
    try:
        for frame in frames:
            if stop is not None and stop.is_set():
                raise VideoCancelled
            if size is None:
                size = (frame.shape[1], frame.shape[0])
                for path in paths:
                    check_video_output(path, size[0], size[1], fps)
                encoders = [_start(path, size, fps) for path in paths]
            _check_frame(frame, size)
            data = np.ascontiguousarray(frame).tobytes()
            for encoder in encoders:
                _write(encoder, data)
            count += 1
            if on_frame is not None:
                on_frame(count)
        if stop is not None and stop.is_set():
            raise VideoCancelled
        if not count:
            raise BadInput("There are no frames to make a video of.")
        for encoder in encoders:
            _finish(encoder)
        for encoder in encoders:
            os.replace(encoder.partial, encoder.path)
        return count
    finally:
        for encoder in encoders:
            _discard(encoder)


async def write_video(
    frames: Iterable[np.ndarray],
    paths: Sequence[Path],
    fps: float,
    on_frame: Callable[[int], None] | None = None,
) -> int:
    """`encode_video` in a worker thread (the frames are produced there too); `on_frame` is called
    on the event loop. Cancelling the awaiting task stops the export and removes its files."""
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def report(count: int) -> None:
        if on_frame is not None:
            loop.call_soon_threadsafe(on_frame, count)

    work = asyncio.ensure_future(
        asyncio.to_thread(encode_video, frames, paths, fps, on_frame=report, stop=stop)
    )
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        stop.set()
        with contextlib.suppress(Exception):
            await work  # let the thread remove the partial files before the cancel goes on
        raise


def _start(path: Path, size: tuple[int, int], fps: float) -> _Encoder:
    kind = video_format(path)
    partial = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the encoder owns it; _discard closes it
    command = [
        ffmpeg_executable(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-framerate", f"{fps:g}",
        "-i", "-", "-an", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        *_CODEC_OPTIONS[kind], str(partial),
    ]  # fmt: skip
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
    except OSError as error:
        log.close()
        raise SfumatoError(f"The video encoder could not start: {error}.") from error
    return _Encoder(path, partial, process, log)


def _check_frame(frame: np.ndarray, size: tuple[int, int]) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"video frames must be RGB uint8 arrays, got {frame.dtype} {frame.shape}")
    if (frame.shape[1], frame.shape[0]) != size:
        raise ValueError(f"frame of size {frame.shape[1]}x{frame.shape[0]} in a {size[0]}x{size[1]} video")


def _write(encoder: _Encoder, data: bytes) -> None:
    stdin = encoder.process.stdin
    assert stdin is not None
    try:
        stdin.write(data)
    except (BrokenPipeError, OSError):
        encoder.process.wait()
        raise _encoder_failed(encoder) from None


def _finish(encoder: _Encoder) -> None:
    stdin = encoder.process.stdin
    assert stdin is not None
    with contextlib.suppress(BrokenPipeError, OSError):
        stdin.close()
    if encoder.process.wait() != 0 or not encoder.partial.is_file():
        raise _encoder_failed(encoder)


def _encoder_failed(encoder: _Encoder) -> SfumatoError:
    encoder.log.seek(0)
    detail = encoder.log.read().decode("utf-8", "replace").strip().splitlines()
    reason = detail[-1] if detail else f"exit code {encoder.process.returncode}"
    return SfumatoError(
        f'Could not write the video "{encoder.path.name}": {reason}. Check that the disk has free space.'
    )


def _discard(encoder: _Encoder) -> None:
    """Stop ffmpeg if it still runs and remove what it left; a finished file was already moved."""
    if encoder.process.poll() is None:
        encoder.process.kill()
        encoder.process.wait()
    if encoder.process.stdin is not None:
        with contextlib.suppress(OSError):
            encoder.process.stdin.close()
    encoder.log.close()
    with contextlib.suppress(OSError):
        encoder.partial.unlink(missing_ok=True)


# ---- reading back ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frames: int
    seconds: float


def probe_video(path: Path) -> VideoInfo:
    """Size and frame rate as the container states them, and the frames counted by decoding."""
    import imageio_ffmpeg

    reader = _reader(path)
    try:
        meta: dict[str, Any] = next(reader)
    finally:
        reader.close()
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    width, height = meta["size"]
    return VideoInfo(int(width), int(height), float(meta["fps"]), int(frames), float(seconds))


def decode_video(path: Path) -> Iterator[np.ndarray]:
    """The frames of a video file as RGB uint8 arrays."""
    reader = _reader(path)
    try:
        meta: dict[str, Any] = next(reader)
        width, height = meta["size"]
        for data in reader:
            yield np.frombuffer(data, dtype=np.uint8).reshape(int(height), int(width), 3).copy()
    finally:
        reader.close()


def _reader(path: Path) -> Any:
    import imageio_ffmpeg

    if not path.is_file():
        raise BadInput(f'Cannot find the video "{path}".')
    return imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
