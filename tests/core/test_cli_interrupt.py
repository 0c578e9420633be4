"""Stopping `sfumato generate` from outside: Ctrl+C in a terminal (SIGINT to the whole foreground
group), SIGTERM from a service manager or `kill`, or SIGKILL. The images already made are kept, no
half-written file is left behind, and the engine process never outlives the command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sfumato.core.atomic import PARTIAL_SUFFIX
from sfumato.core.cli.plan import output_paths
from sfumato.core.metadata import read_recipe
from tests.support.processes import children, gone_within

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and signals are POSIX")

BATCH = 100


def start_busy_cli(model: Path, out: Path, home: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """Run a long batch until its second image is done; the command and its engine processes."""
    command = [sys.executable, "-m", "sfumato.core.cli", "generate", "--model", str(model),
               "--prompt", "a red circle", "--width", "64", "--height", "64", "--steps", "20",
               "--batch", str(BATCH), "--device", "cpu", "--out", str(out)]  # fmt: skip
    env = {**os.environ, "SFUMATO_HOME": str(home)}
    cli = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    assert cli.stderr is not None
    for line in cli.stderr:  # wait until images are being made, so the engine is busy with the job
        if f"image 2/{BATCH} done" in line:
            break
    engines = children(cli.pid)
    assert engines, "the CLI should run its engine in a child process"
    return cli, engines


def assert_only_whole_images_of_the_batch(out: Path, *, killed: bool = False) -> list[Path]:
    """`killed`: the command had no chance to clean up, so the hidden temporary file of an image it was
    writing may remain; the images themselves must still be whole."""
    files = sorted(out.parent.iterdir())
    if killed:
        files = [
            path for path in files if not (path.name.startswith(".") and path.name.endswith(PARTIAL_SUFFIX))
        ]
    kept = list(output_paths(out, len(files)))
    assert files == sorted(kept), "only finished images, the first ones of the batch, no partial files"
    assert all(read_recipe(path) is not None for path in kept)
    return kept


@pytest.mark.parametrize(
    ("stop", "to_group", "exit_code"),
    [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stop_signal_cancels_keeps_the_images_made_and_ends_the_engine(
    tiny_model_dir: Path, tmp_path: Path, stop: signal.Signals, to_group: bool, exit_code: int
) -> None:
    out = tmp_path / "images" / "out.png"
    out.parent.mkdir()
    cli, engines = start_busy_cli(tiny_model_dir, out, tmp_path / "home")

    if to_group:
        os.killpg(cli.pid, stop)  # what a terminal does on Ctrl+C
    else:
        os.kill(cli.pid, stop)  # what `kill` or a service manager does: the command alone
    stdout, stderr = cli.communicate(timeout=60)

    assert cli.returncode == exit_code, stderr
    assert gone_within(engines, 15), "the engine process outlived the CLI"
    kept = assert_only_whole_images_of_the_batch(out)
    assert 2 <= len(kept) < BATCH
    assert stdout.splitlines() == [str(path) for path in kept]
    assert f"Cancelled; {len(kept)} of {BATCH} images were saved." in stderr


def test_the_engine_dies_with_a_killed_cli(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "images" / "out.png"
    out.parent.mkdir()
    cli, engines = start_busy_cli(tiny_model_dir, out, tmp_path / "home")

    cli.kill()  # SIGKILL: the command gets no chance to stop its engine
    cli.wait(timeout=10)

    assert gone_within(engines, 10), "the engine process outlived the CLI"
    assert len(assert_only_whole_images_of_the_batch(out, killed=True)) >= 1
