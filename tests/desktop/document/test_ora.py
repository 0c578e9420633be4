"""OpenRaster files: faithful round trips, layout other programs expect, atomic saves and hostile input."""

from __future__ import annotations

import errno
import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfumato.core.api import BadInput, Mode
from sfumato.desktop.document import BlendMode, Brush, Document, Rect
from sfumato.desktop.document.geometry import union_all
from sfumato.desktop.document.ora import open_ora, save_ora
from tests.desktop.document.helpers import layered_document, png_claiming, random_pixels, sample_recipe, state

STACK = (
    b"<?xml version='1.0' encoding='UTF-8'?>"
    b'<image version="0.0.5" w="4" h="4"><stack>'
    b'<layer name="only" src="data/a.png" x="0" y="0"/>'
    b"</stack></image>"
)


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _archive(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"image/openraster", zipfile.ZIP_STORED)
        for name, data in members:
            archive.writestr(name, data)
    return path


def _rich_document() -> Document:
    document = layered_document(title="Harbour")
    # A recipe with text XML cannot hold as-is, and with optional fields left out.
    awkward = sample_recipe(
        prompt='harbour "at night"\n<lanterns> & rain\tΣ\x01end',
        negative="",
        mode=Mode.INPAINT,
        strength=None,
        mask_blur=6,
        extras={"vae": "ft-mse", "note": "a\nb"},
    )
    document.set_layer_properties(
        document.layers[1], opacity=0.37, visible=False, locked=True, blend=BlendMode.SCREEN, recipe=awkward
    )
    document.add_layer("Empty")
    document.paint_stroke(Brush(size=9, colour=(5, 6, 7)), [(-200, -90), (-150, -60)], document.layers[0])
    document.set_active_layer(document.layers[1])
    document.move_frame(-64, 40)
    document.resize_frame(640, 448)
    return document


def test_round_trip_keeps_every_layer_exactly(tmp_path: Path) -> None:
    document = _rich_document()
    save_ora(document, tmp_path / "harbour.ora")
    reopened = open_ora(tmp_path / "harbour.ora")
    state(reopened).assert_equal(state(document))
    assert reopened.title == "Harbour"
    assert reopened.history.labels == [] and not reopened.history.is_modified()


def test_the_file_has_the_layout_other_programs_expect(tmp_path: Path) -> None:
    document = _rich_document()
    path = tmp_path / "harbour.ora"
    save_ora(document, path)

    raw = path.read_bytes()
    # The mimetype is the first entry, stored uncompressed with no extra field, so the
    # bytes at offset 30 spell the type out (how file managers recognise OpenRaster).
    assert raw[:4] == b"PK\x03\x04"
    name_length, extra_length = struct.unpack("<HH", raw[26:30])
    assert raw[30 : 30 + name_length + extra_length] == b"mimetype"
    assert raw[38:54] == b"image/openraster"
    with zipfile.ZipFile(path) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        names = archive.namelist()
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"} <= set(names)
        assert sum(name.startswith("data/") and name.endswith(".png") for name in names) == 4
        stack = archive.read("stack.xml").decode()
        merged = np.asarray(Image.open(io.BytesIO(archive.read("mergedimage.png"))))
        thumbnail = Image.open(io.BytesIO(archive.read("Thumbnails/thumbnail.png")))
    assert 'composite-op="svg:screen"' in stack and 'composite-op="svg:src-over"' in stack
    assert 'visibility="hidden"' in stack and 'opacity="0.37"' in stack
    assert "sfumato:prompt=" in stack and "sfumato:seed=" in stack
    canvas = union_all(layer.rect for layer in document.layers)
    assert np.array_equal(merged, document.composite(canvas))
    assert max(thumbnail.size) <= 256


def test_names_with_characters_xml_cannot_hold_still_save(tmp_path: Path) -> None:
    document = Document(title="Bell\x07 tower")
    document.add_layer("Sky\x00\x1b[31m", pixels=random_pixels(4, 4, seed=1))
    save_ora(document, tmp_path / "odd.ora")
    reopened = open_ora(tmp_path / "odd.ora")
    assert reopened.title == "Bell tower"
    assert reopened.layers[0].name == "Sky[31m"


def test_layer_offsets_are_relative_to_the_saved_canvas(tmp_path: Path) -> None:
    document = Document()
    document.add_layer("A", pixels=random_pixels(10, 10, seed=1), x=-50, y=-20)
    document.add_layer("B", pixels=random_pixels(10, 10, seed=2), x=30, y=40)
    save_ora(document, tmp_path / "two.ora")
    with zipfile.ZipFile(tmp_path / "two.ora") as archive:
        stack = archive.read("stack.xml").decode()
    # Other programs see a canvas starting at the top-left layer: no negative offsets.
    assert 'w="90" h="70"' in stack
    assert 'name="B" src="data/layer0001.png" x="80" y="60"' in stack


def test_files_from_other_programs_open(tmp_path: Path) -> None:
    top = random_pixels(8, 8, seed=1)
    bottom = random_pixels(16, 16, seed=2, opaque=True)
    stack = (
        b'<?xml version="1.0"?><image version="0.0.3" w="16" h="16"><stack>'
        b'<stack name="group" opacity="0.5" visibility="visible" x="2" y="3">'
        b'<layer name="ink" src="data/ink.png" x="1" y="1" composite-op="svg:multiply"/>'
        b"</stack>"
        b'<layer name="paper" src="data/paper.png" composite-op="krita:unknown" selected="true"/>'
        b"</stack></image>"
    )
    path = _archive(
        tmp_path / "krita.ora",
        [("stack.xml", stack), ("data/ink.png", _png(top)), ("data/paper.png", _png(bottom))],
    )
    document = open_ora(path)
    paper, ink = document.layers
    assert (paper.name, paper.blend, paper.rect) == ("paper", BlendMode.NORMAL, Rect(0, 0, 16, 16))
    assert (ink.blend, ink.opacity, (ink.x, ink.y)) == (BlendMode.MULTIPLY, 0.5, (3, 4))
    assert np.array_equal(ink.pixels, top) and document.active_layer is paper
    assert ink.recipe is None


def test_a_failed_save_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "harbour.ora"
    document = _rich_document()
    save_ora(document, path)
    previous = path.read_bytes()

    document.add_layer("More", pixels=random_pixels(64, 64, seed=3))
    real_writestr = zipfile.ZipFile.writestr
    calls = 0

    def disk_fills_up(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_writestr(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_fills_up)
    with pytest.raises(BadInput, match="No space left on device"):
        save_ora(document, path)
    assert calls == 4
    assert path.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["harbour.ora"]  # no half-written leftovers

    monkeypatch.undo()
    save_ora(document, path)
    assert len(open_ora(path).layers) == len(document.layers)


def _bomb_with_huge_declared_size(path: Path) -> Path:
    _archive(path, [("stack.xml", STACK), ("data/a.png", _png(random_pixels(4, 4, seed=1)))])
    raw = bytearray(path.read_bytes())
    # Rewrite its central directory entry so data/a.png claims to unpack to almost 4 GiB.
    entry = raw.rindex(b"PK\x01\x02")  # the last entry written is data/a.png
    assert raw[entry + 46 : entry + 56] == b"data/a.png"
    raw[entry + 24 : entry + 28] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(raw))
    return path


def _stack_with(src: str) -> bytes:
    return STACK.replace(b"data/a.png", src.encode())


HOSTILE = {
    "not a zip": lambda p: _raw(p, b"definitely not a zip archive"),
    "wrong mimetype": lambda p: _raw(p, _zip_with_mimetype(b"application/x-evil")),
    "missing stack.xml": lambda p: _archive(p, [("data/a.png", _png(random_pixels(4, 4, seed=1)))]),
    "malformed xml": lambda p: _archive(p, [("stack.xml", b"<image><stack><layer"), ("data/a.png", b"")]),
    "not an image root": lambda p: _archive(p, [("stack.xml", b"<svg/>")]),
    "entity expansion": lambda p: _archive(
        p,
        [
            (
                "stack.xml",
                b'<?xml version="1.0"?><!DOCTYPE image [<!ENTITY a "aaaaaaaaaa">'
                b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><image name="&b;"><stack/></image>',
            )
        ],
    ),
    "external entity": lambda p: _archive(
        p,
        [
            (
                "stack.xml",
                b'<?xml version="1.0"?><!DOCTYPE image [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<image><stack><layer name="&x;" src="data/a.png"/></stack></image>',
            ),
            ("data/a.png", _png(random_pixels(4, 4, seed=1))),
        ],
    ),
    "src escaping the archive": lambda p: _archive(
        p, [("stack.xml", _stack_with("../a.png")), ("data/a.png", _png(random_pixels(4, 4, seed=1)))]
    ),
    "absolute src": lambda p: _archive(
        p, [("stack.xml", _stack_with("/etc/passwd")), ("data/a.png", _png(random_pixels(4, 4, seed=1)))]
    ),
    "windows src": lambda p: _archive(
        p, [("stack.xml", _stack_with("C:\\evil.png")), ("data/a.png", _png(random_pixels(4, 4, seed=1)))]
    ),
    "member escaping the archive": lambda p: _archive(
        p, [("stack.xml", STACK), ("data/a.png", _png(random_pixels(4, 4, seed=1))), ("../../evil.sh", b"rm")]
    ),
    "src missing": lambda p: _archive(p, [("stack.xml", STACK)]),
    "corrupt png": lambda p: _archive(
        p, [("stack.xml", STACK), ("data/a.png", _png(random_pixels(32, 32, seed=1))[:120])]
    ),
    "not a png": lambda p: _archive(p, [("stack.xml", STACK), ("data/a.png", b"GIF89a nonsense")]),
    "huge png dimensions": lambda p: _archive(
        p, [("stack.xml", STACK), ("data/a.png", png_claiming(200_000, 200_000))]
    ),
    "png wider than allowed": lambda p: _archive(
        p, [("stack.xml", STACK), ("data/a.png", png_claiming(40_000, 100))]
    ),
    "huge canvas": lambda p: _archive(
        p,
        [
            ("stack.xml", STACK.replace(b'w="4" h="4"', b'w="900000" h="900000"')),
            ("data/a.png", _png(random_pixels(4, 4, seed=1))),
        ],
    ),
    "huge declared size": _bomb_with_huge_declared_size,
    "oversized stack.xml": lambda p: _archive(
        p, [("stack.xml", b"<image><stack>" + b" " * (20 << 20) + b"</stack></image>")]
    ),
    "bad number": lambda p: _archive(
        p, [("stack.xml", STACK.replace(b'x="0"', b'x="left"')), ("data/a.png", _png(random_pixels(4, 4, 1)))]
    ),
    "bad recipe": lambda p: _archive(
        p,
        [
            (
                "stack.xml",
                STACK.replace(
                    b"<layer ",
                    b'<layer xmlns:s="https://sfumato.app/xmlns/openraster/1" s:prompt="x" s:steps="many" ',
                ),
            ),
            ("data/a.png", _png(random_pixels(4, 4, seed=1))),
        ],
    ),
}


def _raw(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip_with_mimetype(mimetype: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("stack.xml", STACK)
        archive.writestr("data/a.png", _png(random_pixels(4, 4, seed=1)))
    return buffer.getvalue()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_or_broken_files_are_refused_and_nothing_is_written(case: str, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    path = HOSTILE[case](folder / "suspicious.ora")
    listing = sorted(folder.rglob("*"))
    outside = sorted(tmp_path.rglob("*"))
    with pytest.raises(BadInput) as raised:
        open_ora(path)
    assert "suspicious.ora" in raised.value.message
    assert sorted(folder.rglob("*")) == listing
    assert sorted(tmp_path.rglob("*")) == outside


def test_a_valid_minimal_file_opens(tmp_path: Path) -> None:
    """The hostile cases above are built from this one; it must open, or they prove nothing."""
    pixels = random_pixels(4, 4, seed=1)
    document = open_ora(_archive(tmp_path / "ok.ora", [("stack.xml", STACK), ("data/a.png", _png(pixels))]))
    assert np.array_equal(document.layers[0].pixels, pixels)
