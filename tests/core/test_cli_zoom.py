"""`sfumato zoom` and `sfumato morph` as a user runs them: videos and keyframes out, the paths on
stdout, resumable renders, and one-line errors for what cannot work."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from sfumato.core import cli
from sfumato.core.api import Mode
from sfumato.core.metadata import read_recipe
from sfumato.core.video import probe_video

ZOOM_MODULE = "sfumato.core.cli.zoom"


@pytest.fixture(autouse=True)
def _zoom_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFUMATO_IN_PROCESS", "1")
    if ZOOM_MODULE not in cli.COMMAND_MODULES:
        modules = (*cli.COMMAND_MODULES, ZOOM_MODULE)
        monkeypatch.setattr(cli, "build_parser", functools.partial(cli.build_parser, modules))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def zoom_args(model: Path, *extra: str) -> list[str]:
    return [
        "zoom", "--model", str(model), "--prompt", "a red circle", "--prompt-at", "1.5s:a blue square",
        "--keyframes", "3", "--steps", "2", "--size", "64x64", "--fps", "10", "--seconds-per-keyframe", "1",
        "--seed", "4", "--device", "cpu", *extra,
    ]  # fmt: skip


def test_zoom_writes_the_videos_and_keyframes_and_continues_when_run_again(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mp4, gif = tmp_path / "dive.mp4", tmp_path / "dive.gif"
    argv = zoom_args(tiny_model_dir, "--out", str(mp4), "--out", str(gif))

    code, stdout, stderr = run_cli(capsys, *argv)

    assert code == 0, stderr
    assert stdout.split() == [str(mp4), str(gif)]
    for path in (mp4, gif):
        info = probe_video(path)
        assert (info.frames, info.width, info.height, info.fps) == (21, 64, 64, 10.0)
    keyframes = tmp_path / "dive-keyframes"
    recipes = [read_recipe(keyframes / f"keyframe-00{k}.png") for k in range(3)]
    assert [(r.prompt, r.mode) for r in recipes if r] == [
        ("a red circle", Mode.TXT2IMG),
        ("a red circle", Mode.OUTPAINT),
        ("a blue square", Mode.OUTPAINT),  # keyframe 2 fills the screen at 2 s, after the change at 1.5 s
    ]

    code, stdout, stderr = run_cli(capsys, *argv)
    assert code == 0, stderr
    assert stderr.count("kept from an earlier run") == 3
    assert "saved" not in stderr

    code, stdout, stderr = run_cli(capsys, *argv, "--clip-skip", "2")
    assert code == 0, stderr
    assert "kept from an earlier run" not in stderr  # another clip skip makes other keyframes
    recipes = [read_recipe(keyframes / f"keyframe-00{k}.png") for k in range(3)]
    assert [r.clip_skip for r in recipes if r] == [2, 2, 2]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--prompt-at", "soon:a cat", "--out", "z.mp4"], "KEYFRAME:PROMPT"),
        (["--size", "64", "--out", "z.mp4"], "size like 512x768"),
        (["--size", "60x64", "--out", "z.mp4"], "multiple of 8"),
        (["--factor", "3", "--out", "z.mp4"], "mask blur"),
        (["--out", "z.avi"], ".mp4"),
        (["--video-size", "63x64", "--out", "z.mp4"], "even width and height"),
        (["--size", "8192x8192", "--out", "z.mp4"], "at most 4096"),
        (["--size", "9" * 5000 + "x64", "--out", "z.mp4"], "size like 512x768"),
        (["--steps", "501", "--out", "z.mp4"], "--steps"),
        (["--mask-blur", "100000", "--out", "z.mp4"], "--mask-blur"),
        (["--prompt-at", "9" * 5000 + ":a cat", "--out", "z.mp4"], "KEYFRAME:PROMPT"),
        (["--prompt-at", "1" + " " * 50_000 + "x:a cat", "--out", "z.mp4"], "KEYFRAME:PROMPT"),
        (["--prompt-at", "1:(a cat:1e30)", "--out", "z.mp4"], "a cat"),
    ],
)
def test_zoom_refuses_what_cannot_work_in_one_line(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    argv = zoom_args(tiny_model_dir, *extra)
    argv[argv.index("--out") + 1] = str(tmp_path / argv[argv.index("--out") + 1])
    code, stdout, stderr = run_cli(capsys, *argv)
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("sfumato: error:") and message in stderr
    assert list(tmp_path.iterdir()) == []


def morph_args(model: Path, out: Path, *extra: str) -> list[str]:
    return [
        "morph", "--model", str(model), "--prompts", "a red circle | a blue square", "--frames", "3",
        "--steps", "2", "--size", "64x64", "--fps", "10", "--device", "cpu", "--out", str(out), *extra,
    ]  # fmt: skip


def test_morph_writes_a_video_and_its_frames(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, frames = tmp_path / "morph.webm", tmp_path / "frames"
    frames.mkdir()
    code, stdout, stderr = run_cli(
        capsys, *morph_args(tiny_model_dir, out, "--seeds", "1,2", "--frames-dir", str(frames))
    )
    assert code == 0, stderr
    assert stdout.split() == [str(out)]
    info = probe_video(out)
    assert (info.frames, info.width, info.height, info.fps) == (4, 64, 64, 10.0)
    assert len(list(frames.glob("frame-*.png"))) == 4


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--prompts", "just one"], "at least two prompts"),
        (["--seeds", "1,2,3"], "one seed per prompt"),
        (["--seeds", "one"], "seeds like 1,2,3"),
        (["--seeds", "1," + "9" * 5000], "seeds like 1,2,3"),
        (["--prompts", "a red circle | (a blue square:11)"], "a blue square"),
        (["--cfg", "1e400"], "--cfg"),
    ],
)
def test_morph_refuses_what_cannot_work_before_starting(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, _stdout, stderr = run_cli(capsys, *morph_args(tiny_model_dir, tmp_path / "m.mp4"), *extra)
    assert code == 2
    assert stderr.startswith("sfumato: error:") and message in stderr
