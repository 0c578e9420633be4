"""Whole zoom renders on the tiny models: keyframes with recipes on disk, videos that ffmpeg reads
back as asked, keyframes that continue each other, smooth frames, and renders that resume."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from sfumato.core.api import Mode
from sfumato.core.engine import Engine, EngineSettings
from sfumato.core.imaging import load_image, resize
from sfumato.core.metadata import read_recipe
from sfumato.core.video import decode_video, probe_video
from sfumato.core.zoom.geometry import shrunk_size
from sfumato.core.zoom.keyframes import fit_image
from sfumato.core.zoom.manifest import keyframe_name
from sfumato.core.zoom.progress import KeyframeFinished, KeyframeReused, KeyframeStep, ZoomProgress
from sfumato.core.zoom.render import ZoomResult, ZoomVideo, render_zoom
from sfumato.core.zoom.settings import Direction, PromptCue, ZoomSettings

FPS = 10  # GIF frame delays are whole hundredths of a second: 10 fps is exact in every format
FORMATS = (".mp4", ".webm", ".gif")


@dataclass(frozen=True)
class Render:
    settings: ZoomSettings
    folder: Path
    video: ZoomVideo
    result: ZoomResult
    events: list[ZoomProgress]


def zoom_out_settings(model: Path, **overrides: object) -> ZoomSettings:
    settings = ZoomSettings(
        model=str(model), prompt="a red circle", cues=(PromptCue("a blue square", keyframe=2),), steps=3,
        seed=11, width=64, height=64, keyframes=3, factor=2.0, seconds_per_keyframe=1.0,
    )  # fmt: skip
    return replace(settings, **overrides)  # type: ignore[arg-type]


async def render(
    settings: ZoomSettings,
    folder: Path,
    video: ZoomVideo,
    start: np.ndarray | None = None,
    cancel_when: Callable[[ZoomProgress], bool] | None = None,
) -> Render:
    """A render on a fresh in-process engine, as a new run of the app would do it."""
    events: list[ZoomProgress] = []
    engine = await Engine.start(EngineSettings(device="cpu", in_process=True))
    try:
        task: asyncio.Future[ZoomResult] | None = None

        def on_progress(event: ZoomProgress) -> None:
            events.append(event)
            if cancel_when is not None and cancel_when(event) and task is not None:
                task.cancel()

        task = asyncio.ensure_future(
            render_zoom(engine, settings, folder, video, start=start, on_progress=on_progress)
        )
        result = await task
    finally:
        await engine.close()
    return Render(settings, folder, video, result, events)


def videos(folder: Path, name: str = "zoom") -> ZoomVideo:
    return ZoomVideo(tuple(folder / f"{name}{suffix}" for suffix in FORMATS), fps=FPS)


@pytest.fixture(scope="module")
def zoom_out(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Render:
    folder = tmp_path_factory.mktemp("zoom-out")
    return asyncio.run(render(zoom_out_settings(tiny_model_dir), folder / "keyframes", videos(folder)))


@pytest.fixture(scope="module")
def zoom_out_inpainting(tiny_inpaint_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Render:
    """An inpainting checkpoint, and a factor whose border is no whole number of outpaint steps."""
    folder = tmp_path_factory.mktemp("zoom-out-inpainting")
    settings = zoom_out_settings(tiny_inpaint_model_dir, factor=1.5, mask_blur=4)
    return asyncio.run(render(settings, folder / "keyframes", ZoomVideo((folder / "zoom.mp4",), fps=FPS)))


def psnr(a: np.ndarray, b: np.ndarray, region: tuple[slice, slice] = (slice(None), slice(None))) -> float:
    error = float(np.mean((a[region].astype(np.float64) - b[region].astype(np.float64)) ** 2))
    return float(10 * np.log10(255**2 / max(error, 1e-12)))


def largest_jump(path: Path, reach: int = 2) -> float:
    """The largest change between consecutive frames, relative to the changes around it."""
    frames = [frame.astype(np.float64) for frame in decode_video(path)]
    changes = np.array([np.abs(b - a).mean() for a, b in itertools.pairwise(frames)])
    return max(
        change / np.median(np.concatenate([changes[max(0, i - reach) : i], changes[i + 1 : i + 1 + reach]]))
        for i, change in enumerate(changes)
    )


# At constant zoom speed the picture flows steadily, so each frame changes within a few per cent of
# the frames around it (about 1.1 here). Frames that switch keyframes without a common world, such
# as enlarging one keyframe until the next takes over, jump by a third or more at the switch.
SMOOTH = 1.25


# ---- files ------------------------------------------------------------------------------------------


def test_the_videos_have_the_frame_count_size_and_rate_asked_for(zoom_out: Render) -> None:
    # Two keyframe steps of one second each at 8 frames a second, plus the closing frame.
    expected = 2 * FPS + 1
    assert zoom_out.result.frames == expected
    for path in zoom_out.video.paths:
        info = probe_video(path)
        assert (info.frames, info.width, info.height) == (expected, 64, 64), path.name
        assert info.fps == pytest.approx(FPS), path.name


def test_keyframes_are_pngs_with_their_recipes_and_prompts_over_time(zoom_out: Render) -> None:
    recipes = [read_recipe(zoom_out.folder / keyframe_name(k)) for k in range(3)]
    assert all(recipe is not None for recipe in recipes)
    assert [r.prompt for r in recipes if r] == ["a red circle", "a red circle", "a blue square"]
    assert [r.seed for r in recipes if r] == [11, 12, 13]
    assert [r.mode for r in recipes if r] == [Mode.TXT2IMG, Mode.OUTPAINT, Mode.OUTPAINT]
    assert [r.extras.get("Zoom keyframe") for r in recipes if r] == ["1/3", "2/3", "3/3"]
    for index, keyframe in enumerate(zoom_out.result.keyframes):
        assert np.array_equal(load_image(zoom_out.folder / keyframe_name(index)), keyframe)


# ---- continuity -------------------------------------------------------------------------------------


@pytest.mark.parametrize("render_name", ["zoom_out", "zoom_out_inpainting"])
def test_the_middle_of_each_keyframe_is_the_keyframe_before_it(
    render_name: str, request: pytest.FixtureRequest
) -> None:
    """The middle of keyframe k+1 is keyframe k shrunk, kept bit-identical except in a seam band of
    `mask_blur` pixels. Away from that band, enlarging it back must therefore match keyframe k as
    closely as shrinking and enlarging keyframe k itself does: the only loss a zoom-out must take.
    0.5 dB leaves room for an equally good resampling filter; a middle that was repainted, or
    placed even one pixel off, scores far lower."""
    zoom: Render = request.getfixturevalue(render_name)
    s = zoom.settings
    inner_width, inner_height = shrunk_size(s.width, s.height, s.factor)
    left, top = (s.width - inner_width) // 2, (s.height - inner_height) // 2
    scale = s.width / inner_width
    band = round((s.mask_blur + 3) * scale)  # the seam band and the resampling filter's reach
    away_from_seam = (slice(band, s.height - band), slice(band, s.width - band))

    def enlarged_middle(image: np.ndarray, dx: int = 0) -> np.ndarray:
        middle = image[top : top + inner_height, left + dx : left + dx + inner_width]
        return resize(np.ascontiguousarray(middle), (s.width, s.height))

    for before, after in itertools.pairwise(zoom.result.keyframes):
        round_trip = resize(resize(before, (inner_width, inner_height)), (s.width, s.height))
        threshold = psnr(round_trip, before, away_from_seam) - 0.5
        assert psnr(enlarged_middle(after), before, away_from_seam) >= threshold
        assert psnr(enlarged_middle(after, dx=1), before, away_from_seam) < threshold


@pytest.mark.parametrize("render_name", ["zoom_out", "zoom_out_inpainting"])
def test_consecutive_video_frames_change_smoothly(render_name: str, request: pytest.FixtureRequest) -> None:
    zoom: Render = request.getfixturevalue(render_name)
    assert largest_jump(zoom.video.paths[0]) < SMOOTH


# ---- resuming ---------------------------------------------------------------------------------------


def test_a_render_cancelled_mid_keyframe_resumes_to_the_same_video(zoom_out: Render, tmp_path: Path) -> None:
    folder = tmp_path / "keyframes"

    def in_last_keyframe(event: ZoomProgress) -> bool:
        return isinstance(event, KeyframeStep) and event.index == 2

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(render(zoom_out.settings, folder, videos(tmp_path), cancel_when=in_last_keyframe))
    assert sorted(p.name for p in folder.glob("*.png")) == [keyframe_name(0), keyframe_name(1)]
    assert not any(tmp_path.glob("zoom.*")), "no video is written before every frame is encoded"

    resumed = asyncio.run(render(zoom_out.settings, folder, videos(tmp_path)))

    assert [
        (type(e), e.index) for e in resumed.events if isinstance(e, KeyframeReused | KeyframeFinished)
    ] == [
        (KeyframeReused, 0),
        (KeyframeReused, 1),
        (KeyframeFinished, 2),
    ]
    for resumed_keyframe, keyframe in zip(resumed.result.keyframes, zoom_out.result.keyframes, strict=True):
        assert np.array_equal(resumed_keyframe, keyframe)
    for resumed_path, path in zip(resumed.video.paths, zoom_out.video.paths, strict=True):
        assert all(
            np.array_equal(a, b)
            for a, b in itertools.zip_longest(decode_video(resumed_path), decode_video(path))
        ), resumed_path.name


def test_a_changed_prompt_remakes_keyframes_from_where_it_applies(zoom_out: Render, tmp_path: Path) -> None:
    folder = tmp_path / "keyframes"
    shutil.copytree(zoom_out.folder, folder)
    # A random seed keeps the earlier run's seed, so the unchanged keyframes stay valid.
    changed = replace(zoom_out.settings, seed=-1, cues=(PromptCue("a green tree", keyframe=2),))

    again = asyncio.run(render(changed, folder, ZoomVideo((tmp_path / "zoom.mp4",), fps=FPS)))

    kept = [e.index for e in again.events if isinstance(e, KeyframeReused)]
    made = [e.index for e in again.events if isinstance(e, KeyframeFinished)]
    assert (kept, made) == ([0, 1], [2])
    recipe = read_recipe(folder / keyframe_name(2))
    assert recipe is not None and (recipe.prompt, recipe.seed) == ("a green tree", 13)
    assert not np.array_equal(again.result.keyframes[2], zoom_out.result.keyframes[2])


# ---- zooming in -------------------------------------------------------------------------------------


def test_zoom_in_from_an_image_redraws_enlarged_middles(tiny_model_dir: Path, tmp_path: Path) -> None:
    start = np.random.default_rng(3).integers(0, 256, (48, 80, 3), dtype=np.uint8)
    settings = zoom_out_settings(tiny_model_dir, direction=Direction.IN, cues=())
    video = ZoomVideo((tmp_path / "in.mp4",), fps=FPS, size=(96, 64))

    zoom = asyncio.run(render(settings, tmp_path / "keyframes", video, start=start))

    keyframes = zoom.result.keyframes
    assert np.array_equal(keyframes[0], fit_image(start, 64, 64))
    recipes = [read_recipe(zoom.folder / keyframe_name(k)) for k in (1, 2)]
    assert [(r.mode, r.strength) for r in recipes if r] == [(Mode.IMG2IMG, 0.5)] * 2
    info = probe_video(video.paths[0])
    assert (info.frames, info.width, info.height) == (2 * FPS + 1, 96, 64)
    assert largest_jump(video.paths[0]) < SMOOTH
