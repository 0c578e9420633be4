"""OpenRaster files at the reader's limits: whatever opens saves again, and hostile structure (deep
nesting, other encodings, members named over and over) is refused in bounded time and memory."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfumato.core.api import BadInput
from sfumato.desktop.document import Document, ora
from sfumato.desktop.document.ora import open_ora, save_ora
from tests.desktop.document.helpers import random_pixels, state

NAMESPACE = 'xmlns:sfumato="https://sfumato.app/xmlns/openraster/1"'
FAR = 2_097_152  # as far from the origin as the reader lets a layer lie


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _ora(path: Path, stack_xml: bytes, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster", zipfile.ZIP_STORED)
        archive.writestr("stack.xml", stack_xml)
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _stack(layers: str, *, image_attributes: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><image {NAMESPACE} version="0.0.5" w="4" h="4" '
        f"{image_attributes}><stack>{layers}</stack></image>"
    ).encode()


def _peak_bytes(action: object) -> int:
    tracemalloc.start()
    try:
        action()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_file_with_layers_far_apart_opens_and_saves_in_memory_of_its_pixels(tmp_path: Path) -> None:
    left, right = random_pixels(2, 3, seed=1), random_pixels(3, 2, seed=2)
    layers = (
        f'<layer name="left" src="data/l.png" x="-{FAR}" y="-{FAR}"/>'
        f'<layer name="right" src="data/r.png" x="{FAR - 2}" y="{FAR - 3}"/>'
    )
    source = _ora(tmp_path / "far.ora", _stack(layers), {"data/l.png": _png(left), "data/r.png": _png(right)})
    document = open_ora(source)

    peak = _peak_bytes(lambda: save_ora(document, tmp_path / "saved.ora"))

    assert peak < 32 * 2**20  # the bounding box holds 17.6 trillion pixels
    reopened = open_ora(tmp_path / "saved.ora")
    state(reopened).assert_equal(state(document))
    assert [(layer.x, layer.y) for layer in reopened.layers] == [(FAR - 2, FAR - 3), (-FAR, -FAR)]
    with zipfile.ZipFile(tmp_path / "saved.ora") as archive:
        merged = Image.open(io.BytesIO(archive.read("mergedimage.png")))
        # Other programs get the frame as the canvas, the layers keeping their places around it.
        assert merged.size == (document.frame.width, document.frame.height)


def test_a_painting_whose_layers_drifted_far_apart_saves_and_reopens(tmp_path: Path) -> None:
    document = Document()
    document.add_layer("Sketch", pixels=random_pixels(64, 64, seed=3), x=-1_500_000, y=20)
    document.add_layer("Detail", pixels=random_pixels(16, 16, seed=4), x=1_800_000, y=-1_000_000)

    save_ora(document, tmp_path / "drift.ora")

    state(open_ora(tmp_path / "drift.ora")).assert_equal(state(document))


def test_a_dense_canvas_is_still_saved_whole(tmp_path: Path) -> None:
    document = Document()
    document.add_layer("A", pixels=random_pixels(100, 100, seed=1), x=-600, y=0)
    document.add_layer("B", pixels=random_pixels(100, 100, seed=2), x=700, y=40)
    save_ora(document, tmp_path / "wide.ora")
    with zipfile.ZipFile(tmp_path / "wide.ora") as archive:
        merged = Image.open(io.BytesIO(archive.read("mergedimage.png")))
    assert merged.size == (1400, 140)


def _padded_png(pixels: np.ndarray, padding: int) -> bytes:
    """A valid PNG followed by zeros that deflate to almost nothing (readers stop at its end)."""
    return _png(pixels) + bytes(padding)


def test_a_member_named_by_every_layer_is_unpacked_once(tmp_path: Path) -> None:
    pixels = random_pixels(4, 4, seed=5)
    layers = '<layer name="again" src="data/big.png"/>' * ora.MAX_LAYERS
    source = _ora(tmp_path / "repeat.ora", _stack(layers), {"data/big.png": _padded_png(pixels, 64 << 20)})

    started = time.perf_counter()
    document = open_ora(source)

    assert time.perf_counter() - started < 20  # unpacking it for every layer took minutes
    assert len(document.layers) == ora.MAX_LAYERS
    assert all(np.array_equal(layer.pixels, pixels) for layer in document.layers)
    document.layers[0].pixels[0, 0] = 0  # each layer has pixels of its own
    assert np.array_equal(document.layers[1].pixels, pixels)


def test_every_read_counts_against_the_unpacking_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ora, "MAX_ARCHIVE_BYTES", 48 << 20)
    big = _padded_png(np.zeros((4, 4), dtype=np.uint8), 32 << 20)
    stack = _stack("", image_attributes='sfumato:mask-src="data/big.png"')
    # The same member as a layer and as the mask: two reads of 32 MiB against a budget of 48.
    stack = stack.replace(b"<stack>", b'<stack><layer name="a" src="data/big.png"/>')
    source = _ora(tmp_path / "twice.ora", stack, {"data/big.png": big})

    with pytest.raises(BadInput, match="zip bomb"):
        open_ora(source)


def test_stack_xml_in_any_encoding_is_parsed_and_its_document_types_refused(tmp_path: Path) -> None:
    pixels = random_pixels(4, 4, seed=6)
    plain = _stack('<layer name="Ünïcode" src="data/a.png"/>').replace(b"UTF-8", b"UTF-16")
    utf16 = _ora(tmp_path / "utf16.ora", plain.decode().encode("utf-16"), {"data/a.png": _png(pixels)})
    assert open_ora(utf16).layers[0].name == "Ünïcode"

    laughs = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE image [<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<image w="4" h="4"><stack><layer name="' + "&c;" * 1_000_000 + '" src="data/a.png"/></stack></image>'
    )
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        text = laughs if encoding == "utf-16" else laughs.replace("UTF-16", encoding.upper())
        bomb = _ora(tmp_path / f"{encoding}.ora", text.encode(encoding), {"data/a.png": _png(pixels)})
        started = time.perf_counter()
        with pytest.raises(BadInput, match=r"document type|malformed"):  # expat reads no UTF-32
            open_ora(bomb)
        assert time.perf_counter() - started < 5


def test_groups_nested_without_end_are_refused_as_damaged(tmp_path: Path) -> None:
    nested = "<stack>" * 5000 + '<layer name="deep" src="data/a.png"/>' + "</stack>" * 5000
    source = _ora(tmp_path / "deep.ora", _stack(nested), {"data/a.png": _png(random_pixels(4, 4, seed=7))})
    with pytest.raises(BadInput, match=r"nested .* deep, so the file is damaged"):
        open_ora(source)


@pytest.mark.parametrize(
    "attribute",
    [
        'sfumato:prompt="x" sfumato:extras="{}"'.replace("{}", '{"a": ' * 100_000 + "1" + "}" * 100_000),
        'sfumato:prompt-json="' + "[" * 100_000 + "]" * 100_000 + '"',
    ],
)
def test_recipe_json_nested_without_end_is_refused_as_unreadable(tmp_path: Path, attribute: str) -> None:
    escaped = attribute.replace('"a"', "&quot;a&quot;")
    layer = f'<layer name="a" src="data/a.png" {escaped}/>'
    source = _ora(tmp_path / "json.ora", _stack(layer), {"data/a.png": _png(random_pixels(4, 4, seed=8))})
    with pytest.raises(BadInput, match="unreadable"):
        open_ora(source)
