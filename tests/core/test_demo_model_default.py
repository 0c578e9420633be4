"""A new artist with nothing downloaded can generate at once with the built-in demo model."""

from __future__ import annotations

import numpy as np

from sfumato.core.api import Finished, Txt2Img
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.core.engine import Engine


async def test_the_demo_model_generates_through_the_engine_by_its_id(engine: Engine) -> None:
    job = Txt2Img(
        model=DEMO_MODEL_ID, prompt="a red circle on a blue background", steps=8, width=64, height=64, seed=3
    )
    finished = await engine.run(job)
    assert isinstance(finished, Finished)
    image = finished.images[0]
    assert image.shape == (64, 64, 3) and np.ptp(image) > 0
    assert finished.recipes[0].model_hash
