"""Each model brings its own size, CFG scale, sampler and steps: from its config, the catalog, the
demo model's own, and the artist's settings file, each overriding the one before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sfumato.core.api import BadInput
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.core.models.catalog import entry
from sfumato.core.models.configs import config_dir
from sfumato.core.models.defaults import (
    artist_defaults_path,
    declared_defaults,
    model_defaults,
    native_size,
    save_artist_defaults,
)
from sfumato.core.models.last_used import default_model, remember_last_model
from tests.support.tiny_models import NATIVE_SIZE


def test_the_demo_model_starts_at_its_own_size_and_guidance() -> None:
    defaults = model_defaults(DEMO_MODEL_ID)
    assert (defaults.width, defaults.height, defaults.cfg) == (64, 64, 2.0)
    assert native_size(DEMO_MODEL_ID) == (64, 64), "the UNet's 16 latents times the VAE's 4"


def test_a_model_folder_and_its_single_file_checkpoint_give_their_native_size(
    tiny_model_dir: Path, tiny_checkpoint: Path
) -> None:
    assert native_size(str(tiny_model_dir)) == (NATIVE_SIZE, NATIVE_SIZE)
    # A single file has no configs of its own: those Sfumato loads it with say SD 1.x, 512.
    assert native_size(str(tiny_checkpoint)) == (512, 512)
    assert model_defaults(str(tiny_model_dir)).cfg == declared_defaults().cfg


def test_sd2_v_prediction_draws_at_768_and_sd2_base_at_512(tmp_path: Path) -> None:
    assert native_size(str(config_dir("sd2-v"))) == (768, 768)
    assert native_size(str(config_dir("sd2"))) == (512, 512)
    # A v-prediction SD 2.x folder whose UNet config says 64 latents still draws at 768.
    folder = tmp_path / "sd2-v-small-config"
    for part in ("unet", "vae", "scheduler"):
        (folder / part).mkdir(parents=True)
        for name in ("config.json", "scheduler_config.json"):
            source = config_dir("sd2-v") / part / name
            if source.exists():
                (folder / part / name).write_text(source.read_text())
    unet = json.loads((folder / "unet" / "config.json").read_text()) | {"sample_size": 64}
    (folder / "unet" / "config.json").write_text(json.dumps(unet))
    (folder / "model_index.json").write_text("{}")
    assert native_size(str(folder)) == (768, 768)


def test_the_catalog_block_gives_a_catalog_model_its_settings() -> None:
    block = entry("openjourney").defaults
    assert block is not None
    defaults = model_defaults("openjourney")
    assert (defaults.steps, defaults.cfg, defaults.width) == (block.steps, block.guidance, block.width)


def test_the_artists_settings_override_everything_else_and_can_be_forgotten() -> None:
    save_artist_defaults(DEMO_MODEL_ID, {"steps": 12, "sampler": "DPM++ 2M"})
    defaults = model_defaults("Demo")  # ids are compared as the library compares them
    assert (defaults.steps, defaults.sampler, defaults.cfg, defaults.width) == (12, "DPM++ 2M", 2.0, 64)
    save_artist_defaults(DEMO_MODEL_ID, {})
    assert model_defaults(DEMO_MODEL_ID).steps == 20


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"steps": 0}, "Steps must be between 1"),
        ({"cfg": "high"}, "CFG scale must be a number"),
        ({"width": 100}, "multiple of 8"),
        ({"colour": 3}, "not a model setting"),
    ],
)
def test_settings_out_of_range_are_refused_in_plain_words(values: dict[str, object], words: str) -> None:
    with pytest.raises(BadInput, match=words):
        save_artist_defaults(DEMO_MODEL_ID, values)


def test_a_damaged_settings_file_is_ignored_rather_than_breaking_generation() -> None:
    artist_defaults_path().write_text("{not json")
    assert model_defaults(DEMO_MODEL_ID).cfg == 2.0
    artist_defaults_path().write_text(json.dumps({DEMO_MODEL_ID: {"steps": -4, "cfg": 3}}))
    defaults = model_defaults(DEMO_MODEL_ID)
    assert (defaults.steps, defaults.cfg) == (20, 3.0), "the bad value is left out, the good one kept"


def test_the_last_model_used_is_the_default_while_it_is_installed(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    assert default_model() == DEMO_MODEL_ID
    remember_last_model(str(tiny_model_dir))
    assert default_model() == str(tiny_model_dir)
    remember_last_model(str(tmp_path / "deleted-model"))
    assert default_model() == DEMO_MODEL_ID
