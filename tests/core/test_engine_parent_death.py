"""The engine process never outlives the app that started it, even in the middle of a job: when its
pipe from the app closes (on every OS, however the app ended), it exits at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import BinaryIO, cast

from sfumato.core.api import Step, Txt2Img
from sfumato.core.engine_settings import EngineInfo, EngineSettings
from sfumato.core.protocol import Submit, read_message, write_message


def test_the_engine_process_exits_mid_job_when_the_app_goes_away(tiny_model_dir: Path) -> None:
    settings = EngineSettings(device="cpu", preview_every=0)
    engine = subprocess.Popen(
        [sys.executable, "-m", "sfumato.core.engine_process", settings.to_json()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        to_engine, from_engine = cast(BinaryIO, engine.stdin), cast(BinaryIO, engine.stdout)
        assert isinstance(read_message(from_engine), EngineInfo)
        # A job of many minutes: 100 images of 500 steps.
        job = Txt2Img(model=str(tiny_model_dir), prompt="a red circle", steps=500, width=64, height=64,
                      batch=100)  # fmt: skip
        write_message(to_engine, Submit("job-1", job))
        while not isinstance(read_message(from_engine), Step):
            pass

        to_engine.close()  # all the engine sees of its app dying

        assert engine.wait(timeout=10) is not None
    finally:
        engine.kill()
        engine.wait()
