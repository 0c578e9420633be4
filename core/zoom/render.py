"""A whole infinite-zoom render: the keyframes on the engine, then the video files.

    result = await render_zoom(engine, settings, folder, ZoomVideo((Path("zoom.mp4"),), fps=30))

Cancel by cancelling the task. Keyframes stay in `folder`, so running it again continues from the
last finished one; a video is only written once all its frames are encoded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfumato.core.api import BadInput
from sfumato.core.job_runner import JobRunner
from sfumato.core.video import check_video_output, write_video
from sfumato.core.zoom.frames import ZoomRenderer, frame_positions
from sfumato.core.zoom.geometry import zoom_geometry
from sfumato.core.zoom.keyframe_loop import render_keyframes
from sfumato.core.zoom.progress import FrameEncoded, OnProgress, ignore_progress
from sfumato.core.zoom.settings import ZoomSettings, check_settings

DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class ZoomVideo:
    """The video files to write (format by suffix: .mp4, .webm, .gif), all at `fps` frames a second
    and `size` (width, height; default: the keyframe size)."""

    paths: tuple[Path, ...]
    fps: float = DEFAULT_FPS
    size: tuple[int, int] | None = None

    def frame_size(self, settings: ZoomSettings) -> tuple[int, int]:
        return self.size or (settings.width, settings.height)


@dataclass(frozen=True)
class ZoomResult:
    keyframes: list[np.ndarray]
    frames: int
    videos: tuple[Path, ...]


def check_video(settings: ZoomSettings, video: ZoomVideo) -> None:
    if not video.paths:
        raise BadInput("Choose at least one video file to write.")
    width, height = video.frame_size(settings)
    for path in video.paths:
        check_video_output(path, width, height, video.fps)


def zoom_frames(
    keyframes: Sequence[np.ndarray], settings: ZoomSettings, fps: float, size: tuple[int, int]
) -> tuple[int, Iterator[np.ndarray]]:
    """How many frames the zoom video has, and the frames themselves (rendered as they are taken)."""
    geometry = zoom_geometry(
        settings.direction, settings.width, settings.height, settings.factor, settings.mask_blur
    )
    renderer = ZoomRenderer(keyframes, geometry, size)
    positions = frame_positions(len(keyframes), fps, settings.seconds_per_keyframe)
    return len(positions), (renderer.frame(position) for position in positions)


async def export_zoom(
    keyframes: Sequence[np.ndarray],
    settings: ZoomSettings,
    video: ZoomVideo,
    on_progress: OnProgress = ignore_progress,
) -> int:
    """Write the zoom through `keyframes` to the video files; the number of frames."""
    check_video(settings, video)
    count, frames = zoom_frames(keyframes, settings, video.fps, video.frame_size(settings))
    return await write_video(
        frames, video.paths, video.fps, lambda done: on_progress(FrameEncoded(done, count))
    )


async def render_zoom(
    engine: JobRunner,
    settings: ZoomSettings,
    folder: Path,
    video: ZoomVideo,
    *,
    start: np.ndarray | None = None,
    fresh: bool = False,
    on_progress: OnProgress = ignore_progress,
) -> ZoomResult:
    """Make (or reuse) the keyframes in `folder`, then write the video files."""
    check_settings(settings)
    check_video(settings, video)
    keyframes = await render_keyframes(
        engine, settings, folder, start=start, fresh=fresh, on_progress=on_progress
    )
    frames = await export_zoom(keyframes, settings, video, on_progress)
    return ZoomResult(keyframes, frames, video.paths)
