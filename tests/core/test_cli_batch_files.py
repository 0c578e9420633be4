"""`sfumato generate` writes each image of a batch as soon as it is made: one file that cannot be
written is reported, and the rest of the batch is still written."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from sfumato.core.cli import main
from sfumato.core.metadata import read_recipe


@pytest.fixture(autouse=True)
def _engine_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFUMATO_IN_PROCESS", "1")


def test_an_image_that_cannot_be_written_does_not_cost_the_rest_of_the_batch(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.png"

    class BlockTheFirstFileOnceItsImageIsDone(io.StringIO):
        """A folder appears where the first image goes, after the command checked the path."""

        def write(self, text: str) -> int:
            if "image 1/3 done" in text:
                out.mkdir()
            return super().write(text)

    stderr = BlockTheFirstFileOnceItsImageIsDone()
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(
        ["generate", "--model", str(tiny_model_dir), "--prompt", "a red circle", "--steps", "2",
         "--width", "64", "--height", "64", "--batch", "3", "--seed", "41", "--out", str(out)]
    )  # fmt: skip

    assert code == 1
    written = [tmp_path / "out-1.png", tmp_path / "out-2.png"]
    assert capsys.readouterr().out.splitlines() == [str(path) for path in written]
    assert [recipe.seed for path in written if (recipe := read_recipe(path))] == [42, 43]
    errors = [line for line in stderr.getvalue().splitlines() if line.startswith("sfumato: error:")]
    assert len(errors) == 1 and f'Could not save "{out}"' in errors[0]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out-1.png", "out-2.png", "out.png"]
    assert out.is_dir() and not any(out.iterdir())
