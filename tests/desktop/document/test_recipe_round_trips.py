"""Every declared generation setting of a generated layer survives saving and opening the .ora file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings

from sfumato.core.api import Recipe, Request, request_values
from sfumato.desktop.document import Document
from sfumato.desktop.document.frame import Frame
from sfumato.desktop.document.ora import open_ora, save_ora
from sfumato.desktop.document.recipe_xml import qualified, recipe_from_attributes, recipe_to_attributes
from tests.support.requests import recipes, requests


def reopened_recipe(recipe: Recipe) -> Recipe | None:
    document = Document(frame=Frame(0, 0, 64, 64))
    document.add_generated_layer(np.zeros((64, 64, 3), np.uint8), recipe)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "picture.ora"
        save_ora(document, path)
        (layer,) = open_ora(path).layers
    return layer.recipe


@settings(max_examples=100, deadline=None)
@given(requests())
def test_a_request_survives_an_ora_file(request: Request) -> None:
    reopened = reopened_recipe(Recipe(**request_values(request)))

    assert reopened is not None and request_values(reopened) == request_values(request)


@settings(max_examples=50, deadline=None)
@given(recipes())
def test_every_recipe_field_survives_an_ora_file(recipe: Recipe) -> None:
    assert reopened_recipe(recipe) == recipe


def test_layers_saved_before_clip_skip_existed_open_with_clip_skip_1() -> None:
    attributes = recipe_to_attributes(Recipe(prompt="an old harbour", seed=3))
    del attributes[qualified("clip-skip")]

    recipe = recipe_from_attributes(attributes, "old.ora")

    assert recipe == Recipe(prompt="an old harbour", seed=3) and recipe.clip_skip == 1
