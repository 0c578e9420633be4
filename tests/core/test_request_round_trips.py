"""Every declared generation setting survives each form a request takes: the recipe, its AUTOMATIC1111
"parameters" text and the PNG file that carries it."""

from __future__ import annotations

import tempfile
from dataclasses import fields
from pathlib import Path

import numpy as np
from hypothesis import given, settings

from sfumato.core.api import Recipe, Request, Txt2Img, request_values
from sfumato.core.metadata import format_parameters, parse_parameters, read_recipe, save_png
from tests.support.requests import recipes, requests


@settings(max_examples=200, deadline=None)
@given(requests())
def test_a_request_survives_recipe_text_and_back(request: Request) -> None:
    recipe = Recipe(**request_values(request))

    read = parse_parameters(format_parameters(recipe))

    assert request_values(read) == request_values(request)
    assert read == recipe


@settings(max_examples=100, deadline=None)
@given(recipes())
def test_every_recipe_field_survives_a_png_file(recipe: Recipe) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image.png"
        save_png(path, np.zeros((8, 8, 3), np.uint8), recipe)

        assert read_recipe(path) == recipe


@given(requests())
def test_an_engine_job_carries_every_field_of_its_request(request: Request) -> None:
    job = Txt2Img(**request_values(request), model="m")

    assert request_values(job) == request_values(request)
    assert {field.name for field in fields(Request)} <= {field.name for field in fields(Recipe)}
