"""The document as a whole: layer actions, bounds, export, import and change notifications."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfumato.core.api import BadInput
from sfumato.desktop.document import (
    ActiveLayerChanged,
    BlendMode,
    Change,
    Document,
    FrameChanged,
    LayersChanged,
    PixelsChanged,
    Rect,
)
from tests.desktop.document.helpers import layered_document, random_pixels, sample_recipe, solid


def test_bounds_cover_painted_pixels_of_every_layer() -> None:
    document = Document()
    assert document.bounds() is None
    pixels = np.zeros((50, 50, 4), dtype=np.uint8)
    pixels[10:20, 5:8, 3] = 255
    document.add_layer(pixels=pixels, x=-100, y=40)
    document.add_layer(pixels=solid(2, 2, (0, 0, 0, 9)), x=300, y=-7)
    assert document.bounds() == Rect.from_edges(-95, -7, 302, 60)


def test_export_visible_crops_to_the_visible_content() -> None:
    document = Document()
    document.add_layer(pixels=solid(4, 6, (10, 20, 30, 255)), x=-3, y=2)
    hidden = document.add_layer(pixels=solid(4, 4, (99, 99, 99, 255)), x=50, y=50)
    document.set_layer_properties(hidden, visible=False)
    image = document.export_visible()
    assert image.shape == (4, 6, 4)
    assert (image == [10, 20, 30, 255]).all()
    assert document.export_visible(Rect(-4, 2, 2, 1)).tolist() == [[[0, 0, 0, 0], [10, 20, 30, 255]]]
    assert Document().export_visible().shape == (0, 0, 4)


def test_merge_down_keeps_the_picture_and_the_lower_layer_settings() -> None:
    document = Document()
    lower = document.add_layer("Base", pixels=random_pixels(40, 40, seed=1, opaque=True), x=0, y=0)
    document.add_layer("Glaze", pixels=random_pixels(30, 50, seed=2), x=20, y=-10, blend=BlendMode.OVERLAY)
    area = Rect(-5, -15, 80, 70)
    picture = document.composite(area)
    merged = document.merge_down()
    assert [layer.name for layer in document.layers] == ["Base"]
    assert merged.name == lower.name and document.active_layer is merged
    assert np.abs(document.composite(area).astype(int) - picture.astype(int)).max() <= 1


def test_flatten_keeps_the_picture() -> None:
    document = layered_document()
    area = Rect(-40, -20, 160, 120)
    picture = document.composite(area)
    document.flatten()
    assert len(document.layers) == 1
    assert np.array_equal(document.composite(area), picture)


def test_merges_that_would_lose_pixels_are_refused_plainly() -> None:
    document = layered_document()
    with pytest.raises(BadInput, match="bottom layer"):
        document.merge_down(document.layers[0])
    document.set_layer_properties(document.layers[2], visible=False)
    with pytest.raises(BadInput, match="hidden"):
        document.merge_down(document.layers[2])
    document.set_layer_properties(document.layers[0], locked=True)
    with pytest.raises(BadInput, match="locked"):
        document.merge_down(document.layers[1])
    assert len(document.layers) == 3


def test_generated_layers_land_on_the_frame_with_their_recipe() -> None:
    document = Document()
    document.move_frame(256, -128)
    recipe = sample_recipe(prompt="a quiet harbour at dawn\nwith fishing boats and gulls")
    layer = document.add_generated_layer(random_pixels(512, 512, seed=3)[..., :3], recipe)
    assert (layer.x, layer.y) == (256, -128)
    assert layer.recipe == recipe
    assert (layer.pixels[..., 3] == 255).all()
    assert layer.name == "a quiet harbour at dawn with fishing boats and gulls"  # whole, on one line
    assert document.history.labels[-1] == "Generated layer"


def test_new_layers_go_above_the_active_one_and_deleting_selects_a_neighbour() -> None:
    document = layered_document()
    document.set_active_layer(document.layers[0])
    added = document.add_layer("Sketch")
    assert document.index_of(added) == 1 and document.active_layer is added
    document.delete_layer()
    assert document.active_layer is document.layers[0]


def test_importing_a_png_file_keeps_its_pixels(tmp_path: Path) -> None:
    pixels = random_pixels(33, 47, seed=8)
    Image.fromarray(pixels).save(tmp_path / "sketch.png")
    layer = Document().import_image(tmp_path / "sketch.png", x=5, y=6)
    assert layer.name == "sketch" and (layer.x, layer.y) == (5, 6)
    assert np.array_equal(layer.pixels, pixels)


def test_importing_a_photo_turns_it_upright(tmp_path: Path) -> None:
    photo = Image.fromarray(random_pixels(20, 40, seed=4, opaque=True)[..., :3])
    exif = photo.getexif()
    exif[0x0112] = 6  # orientation: rotated 90° clockwise
    photo.save(tmp_path / "photo.jpg", exif=exif)
    layer = Document().import_image(tmp_path / "photo.jpg")
    assert layer.pixels.shape == (40, 20, 4)


def test_importing_something_that_is_not_an_image_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("shopping list")
    with pytest.raises(BadInput, match=r"notes\.png"):
        Document().import_image(tmp_path / "notes.png")
    with pytest.raises(BadInput, match="does not exist"):
        Document().import_image(tmp_path / "missing.png")


def test_listeners_learn_what_changed() -> None:
    document = Document()
    changes: list[Change] = []
    document.changed.connect(changes.append)
    layer = document.add_layer(pixels=solid(8, 8, (1, 1, 1, 255)), x=4, y=4)
    assert LayersChanged() in changes
    assert PixelsChanged(Rect(4, 4, 8, 8)) in changes
    assert ActiveLayerChanged(layer) in changes

    changes.clear()
    document.translate_layer(layer, 10, 0)
    assert changes == [LayersChanged(), PixelsChanged(Rect(4, 4, 18, 8), layer)]

    changes.clear()
    document.rename_layer(layer, "Ink")
    assert changes == [LayersChanged()]

    changes.clear()
    document.move_frame(64, 64)
    document.undo()
    assert [type(change) for change in changes] == [FrameChanged, FrameChanged]
    assert changes[-1] == FrameChanged(document.frame)
