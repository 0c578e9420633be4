"""Hostile OpenRaster files: valid zip archives around a hostile stack.xml (other encodings, document
types, deep nesting, huge attributes, members named by many layers) and hostile PNG members.

Whatever opens must also save, and the saved file must open again.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from typing import Any

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from sfumato.core.api import BadInput
from sfumato.desktop.document.ora import read_ora, write_ora
from tests.desktop.document.helpers import png_claiming
from tests.fuzz.weighting import mostly
from tests.support.fuzzing import FuzzTarget

NAMESPACE = "https://sfumato.app/xmlns/openraster/1"
LABEL = "'fuzzed.ora'"


def _png(width: int, height: int, mode: str, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, len(mode)), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


small_png = st.builds(
    _png, st.integers(1, 8), st.integers(1, 8), st.sampled_from(["RGBA", "RGB", "L"]), st.integers(0, 9)
)
png_member = mostly(
    small_png,
    # a valid picture followed by megabytes that deflate to almost nothing
    st.builds(lambda png, megabytes: png + bytes(megabytes << 20), small_png, st.integers(1, 8)),
    st.builds(png_claiming, st.sampled_from([1, 40_000, 2**31 - 1]), st.sampled_from([1, 40_000, 2**31 - 1])),
    st.builds(lambda png, cut: png[:cut], small_png, st.integers(0, 80)),
    st.binary(max_size=200),
    st.just(b"GIF89a\x01\x00\x01\x00"),
)


number = mostly(
    st.integers(-64, 600).map(str),
    st.integers(-(2**22), 2**22).map(str),
    st.sampled_from(["0", "-0", "1e3", "1e400", "nan", "-inf", "2.5", "", " 7 ", "0x10", "9" * 5000]),
)
xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
text = mostly(
    xml_text,
    st.text(max_size=30),
    st.builds(lambda unit, count: unit * count, st.text(min_size=1, max_size=3), st.integers(1, 50_000)),
)


def _nested_json(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a": ' * depth + "1" + "}" * depth


json_text = st.one_of(
    st.builds(_nested_json, st.integers(1, 100_000), st.sampled_from(["list", "dict"])),
    st.sampled_from(
        ['{"vae": "x"}', '{"a": 1}', "[]", '"text"', "1e999", "{", '{"a": "' + "b" * 10_000 + '"}']
    ),
)
recipe_attributes = st.dictionaries(
    st.sampled_from(
        [
            "prompt",
            "prompt-json",
            "negative",
            "steps",
            "seed",
            "cfg",
            "width",
            "height",
            "mode",
            "extras",
            "strength",
        ]
    ).map(lambda name: f"sfumato:{name}"),
    st.one_of(number, text, json_text),
    max_size=5,
)
layer = st.fixed_dictionaries(
    {"src": st.sampled_from(["data/a.png", "data/b.png", "data/missing.png", "../x.png", "", "mimetype"])},
    optional={
        "name": text,
        "x": number,
        "y": number,
        "opacity": number,
        "visibility": st.sampled_from(["visible", "hidden", "?"]),
        "composite-op": st.sampled_from(["svg:multiply", "svg:src-over", "krita:nope", ""]),
        "selected": st.sampled_from(["true", "false"]),
        "sfumato:empty": st.sampled_from(["true", "false"]),
    },
).flatmap(lambda attributes: recipe_attributes.map(lambda recipe: {**attributes, **recipe}))


def _attributes(values: dict[str, str]) -> str:
    def escaped(value: str) -> str:
        return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace("\x00", "")

    return " ".join(f'{name}="{escaped(value)}"' for name, value in values.items())


@st.composite
def stack_xml(draw: Any) -> bytes:
    image = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "w": number,
                "h": number,
                "sfumato:origin-x": number,
                "sfumato:frame-width": number,
                "sfumato:title": text,
                "sfumato:mask-src": st.sampled_from(["data/a.png", "data/b.png", "data/missing.png"]),
                "sfumato:mask-x": number,
            },
        )
    )
    layers = draw(st.lists(layer, max_size=4))
    body = "".join(f"<layer {_attributes(attributes)}/>" for attributes in layers)
    # One member named by many layers (opening, saving and reopening 2000 takes longer than an example
    # may on a busy machine; the regression tests open 2000).
    repeats = draw(mostly(st.sampled_from([0, 2, 50]), st.sampled_from([100, 2001])))
    body += '<layer src="data/b.png" x="3"/>' * repeats
    depth = draw(mostly(st.sampled_from([0, 1, 3]), st.sampled_from([99, 100, 5000])))
    body = '<stack x="1" opacity="0.5">' * depth + body + "</stack>" * depth
    doctype = draw(
        mostly(
            st.just(""),
            st.sampled_from(
                [
                    '<!DOCTYPE image [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
                    '<!DOCTYPE image [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                    '<!DOCTYPE image SYSTEM "http://127.0.0.1:9/evil.dtd">',
                ]
            ),
        )
    )
    reference = "&b;" * draw(st.sampled_from([0, 1, 100_000])) if "ENTITY b" in doctype else ""
    encoding = draw(mostly(st.just("utf-8"), st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1"])))
    declared = draw(mostly(st.sampled_from([encoding, None]), st.sampled_from(["utf-8", "ebcdic"])))
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    root = draw(mostly(st.just("image"), st.just("svg")))
    document = (
        f'{declaration}{doctype}<{root} xmlns:sfumato="{NAMESPACE}" {_attributes(image)}>'
        f'<stack name="{reference}">{body}</stack></{root}>'
    )
    return document.encode(encoding, errors="replace")


@st.composite
def ora_file(draw: Any) -> bytes:
    members: list[tuple[str, bytes]] = []
    mimetype = draw(mostly(st.sampled_from([b"image/openraster", None]), st.just(b"application/zip")))
    if mimetype is not None:
        members.append(("mimetype", mimetype))
    if draw(mostly(st.just(True), st.just(False))):
        members.append(("stack.xml", draw(stack_xml())))
    members += [("data/a.png", draw(png_member)), ("data/b.png", draw(png_member))]
    hostile_names = st.sampled_from(["../evil", "/abs", "C:\\x", "data/a.png"])
    members += draw(
        mostly(st.just([]), st.lists(st.tuples(hostile_names, st.binary(max_size=8)), max_size=1))
    )
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # duplicate names are one of the hostile cases
        for name, data in members:
            method = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


def open_then_save(data: bytes) -> None:
    document = read_ora(io.BytesIO(data), LABEL)
    saved = io.BytesIO()
    write_ora(document, saved, compress_level=1)
    try:
        read_ora(io.BytesIO(saved.getvalue()), "'saved.ora'")
    except BadInput as error:  # what was opened and saved must open again
        raise AssertionError(f"a saved file does not open again: {error.message}") from error


TARGETS = [
    FuzzTarget("ora structure", ora_file(), open_then_save),
    FuzzTarget("ora bytes", st.binary(max_size=4096), open_then_save),
]
