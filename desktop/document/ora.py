"""Save and open OpenRaster (.ora) files, the layered format Krita, GIMP and MyPaint share.

Layout: `mimetype` (first, uncompressed), `stack.xml`, one PNG per layer under `data/`,
`mergedimage.png` and `Thumbnails/thumbnail.png`. Sfumato's extras (each layer's recipe, the
canvas origin, the frame and the mask) live in attributes of its own namespace, which other
programs ignore. Opening treats the file as untrusted: nothing is extracted to disk, names,
sizes and dimensions are checked before anything is decoded.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from defusedxml import ElementTree as defused_tree
from defusedxml.common import DefusedXmlException
from PIL import Image

from sfumato.core.api import BadInput
from sfumato.core.atomic import write_atomically
from sfumato.desktop.document.document import Document
from sfumato.desktop.document.frame import Frame
from sfumato.desktop.document.geometry import Rect, union_all
from sfumato.desktop.document.history import DEFAULT_BUDGET_BYTES
from sfumato.desktop.document.images import (
    MAX_PIXELS,
    MAX_SIDE,
    check_size,
    decode_gray,
    decode_rgba,
    encode_png,
)
from sfumato.desktop.document.layers import BlendMode, Layer
from sfumato.desktop.document.mask import Mask
from sfumato.desktop.document.recipe_xml import (
    NAMESPACE,
    PREFIX,
    qualified,
    recipe_from_attributes,
    recipe_to_attributes,
    xml_safe,
)

MIMETYPE = "image/openraster"
ORA_VERSION = "0.0.5"
THUMBNAIL_SIZE = 256
MASK_SRC = "sfumato/mask.png"

MAX_MEMBERS = 10_000
MAX_LAYERS = 2_000
MAX_MEMBER_BYTES = 1 << 30
MAX_ARCHIVE_BYTES = 8 << 30
MAX_STACK_XML_BYTES = 16 << 20
MAX_TOTAL_PIXELS = 1 << 29
MAX_GROUP_DEPTH = 100
# A canvas over this many times the layers' own pixels is mostly empty: the frame is saved as the canvas.
SPARSE_CANVAS_FACTOR = 4

ET.register_namespace(PREFIX, NAMESPACE)

_DRIVE = re.compile(r"^[A-Za-z]:")
_DAMAGED_MEMBER = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError)


# ---- saving -------------------------------------------------------------------------------------


def save_ora(document: Document, path: Path | str, *, compress_level: int = 6) -> None:
    """Write `document` to `path` atomically: the old file stays intact if anything fails."""
    target = Path(path)
    write_atomically(target, lambda stream: write_ora(document, stream, compress_level=compress_level))


def _canvas_area(document: Document) -> Rect:
    """The area the saved image spans: every layer, so other programs see all of it.

    The merged image and the thumbnail are as large as this area, so when the layers lie so far
    apart that it would be mostly empty (or larger than a canvas can be), the frame is the canvas
    instead: the layers keep their places outside it, and memory scales with their pixels.
    """
    frame = document.frame.rect
    area = union_all(layer.rect for layer in document.layers)
    if area.is_empty():
        return frame
    painted = sum(layer.rect.area for layer in document.layers)
    fits = area.width <= MAX_SIDE and area.height <= MAX_SIDE and area.area <= MAX_PIXELS
    if fits and area.area <= max(frame.area, SPARSE_CANVAS_FACTOR * painted):
        return area
    return frame


def _text(value: float | int) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def write_ora(document: Document, stream: BinaryIO, *, compress_level: int = 6) -> None:
    area = _canvas_area(document)
    frame = document.frame
    image = ET.Element(
        "image",
        {
            "version": ORA_VERSION,
            "w": str(area.width),
            "h": str(area.height),
            qualified("origin-x"): str(area.x),
            qualified("origin-y"): str(area.y),
            qualified("frame-x"): str(frame.x),
            qualified("frame-y"): str(frame.y),
            qualified("frame-width"): str(frame.width),
            qualified("frame-height"): str(frame.height),
            qualified("title"): xml_safe(document.title),
        },
    )
    stack = ET.SubElement(image, "stack")
    pngs: list[tuple[str, bytes]] = []
    layers = document.layers
    for number, layer in reversed(list(enumerate(layers))):
        src = f"data/layer{number:04d}.png"
        attributes = {
            "name": xml_safe(layer.name),
            "src": src,
            "x": str(layer.x - area.x),
            "y": str(layer.y - area.y),
            "opacity": _text(layer.opacity),
            "visibility": "visible" if layer.visible else "hidden",
            "composite-op": layer.blend.svg_name,
            "edit-locked": "true" if layer.locked else "false",
            "selected": "true" if layer is document.active_layer else "false",
        }
        pixels = layer.pixels
        if pixels.size == 0:
            attributes[qualified("empty")] = "true"
            pixels = np.zeros((1, 1, 4), dtype=np.uint8)
        if layer.recipe is not None:
            attributes.update(recipe_to_attributes(layer.recipe))
        ET.SubElement(stack, "layer", attributes)
        pngs.append((src, encode_png(pixels, compress_level)))
    mask = document.mask
    if mask.pixels.size:
        image.set(qualified("mask-src"), MASK_SRC)
        image.set(qualified("mask-x"), str(mask.x))
        image.set(qualified("mask-y"), str(mask.y))
        pngs.append((MASK_SRC, encode_png(mask.pixels, compress_level)))
    merged = document.composite(area)
    with zipfile.ZipFile(stream, "w") as archive:
        # The mimetype must come first, stored, so tools can sniff the format from the first bytes.
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        stack_xml = ET.tostring(image, encoding="utf-8", xml_declaration=True)
        archive.writestr("stack.xml", stack_xml, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in pngs:
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "mergedimage.png", encode_png(merged, compress_level), compress_type=zipfile.ZIP_STORED
        )
        archive.writestr(
            "Thumbnails/thumbnail.png", encode_png(_thumbnail(merged), compress_level), zipfile.ZIP_STORED
        )


def _thumbnail(merged: np.ndarray) -> np.ndarray:
    height, width = merged.shape[:2]
    if width == 0 or height == 0:
        return np.zeros((1, 1, 4), dtype=np.uint8)
    scale = min(1.0, THUMBNAIL_SIZE / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(merged).resize(size, Image.Resampling.LANCZOS))


# ---- opening ------------------------------------------------------------------------------------


@dataclass
class _LayerEntry:
    element: ET.Element
    visible: bool
    opacity: float
    dx: int
    dy: int


def open_ora(path: Path | str, *, history_budget: int = DEFAULT_BUDGET_BYTES) -> Document:
    """Read an OpenRaster file. Anything broken or hostile raises `BadInput`; nothing is written."""
    source = Path(path)
    label = f"'{source.name}'"
    if not source.is_file():
        raise BadInput(f"Cannot open {label}: the file does not exist.")
    with source.open("rb") as stream:
        return read_ora(stream, label, history_budget=history_budget)


def read_ora(stream: BinaryIO, label: str, *, history_budget: int = DEFAULT_BUDGET_BYTES) -> Document:
    """Read OpenRaster bytes from `stream`; `label` names the file in error messages."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise BadInput(
            f"Cannot open {label}: it is not an OpenRaster file (not a valid zip archive)."
        ) from error
    with archive:
        return _read_document(_Members(archive, label), label, history_budget)


class _Members:
    """The archive's checked members, unpacked within one budget that every read counts against
    (a member named by many layers is unpacked and decoded once)."""

    def __init__(self, archive: zipfile.ZipFile, label: str) -> None:
        self.archive = archive
        self.label = label
        self.names = _checked_members(archive, label)
        self.unpack_budget = MAX_ARCHIVE_BYTES
        self._images: dict[str, np.ndarray] = {}

    def read(self, name: str, limit: int) -> bytes:
        label = self.label
        _check_name(name, label)
        if name not in self.names:
            raise BadInput(f"Cannot open {label}: '{name}' is listed in stack.xml but missing from the file.")
        # zipfile stops at the declared size, so charging it up front bounds what this read unpacks.
        cost = min(self.archive.getinfo(name).file_size, limit + 1)
        if cost > self.unpack_budget:
            raise BadInput(
                f"Cannot open {label}: it would unpack more than {MAX_ARCHIVE_BYTES:,} bytes "
                "(the file may be a zip bomb)."
            )
        self.unpack_budget -= cost
        try:
            with self.archive.open(name) as stream:
                data = stream.read(limit + 1)
        except _DAMAGED_MEMBER as error:
            raise BadInput(f"Cannot open {label}: '{name}' inside it is damaged ({error}).") from error
        if len(data) > limit:
            raise BadInput(f"Cannot open {label}: '{name}' is larger than Sfumato accepts.")
        return data

    def rgba(self, name: str, what: str) -> np.ndarray:
        """The member decoded as RGBA; a member decoded before gives a copy of its pixels."""
        cached = self._images.get(name)
        if cached is not None:
            return cached.copy()
        pixels = decode_rgba(self.read(name, MAX_MEMBER_BYTES), what)
        self._images[name] = pixels
        return pixels


def _read_document(members: _Members, label: str, history_budget: int) -> Document:
    if "mimetype" in members.names:
        mimetype = members.read("mimetype", 1024).strip()
        if mimetype != MIMETYPE.encode():
            raise BadInput(f"Cannot open {label}: it is not an OpenRaster file (wrong mimetype).")
    if "stack.xml" not in members.names:
        raise BadInput(f"Cannot open {label}: stack.xml, the list of layers, is missing.")
    root = parse_stack_xml(members.read("stack.xml", MAX_STACK_XML_BYTES), label)

    origin_x = _int(root, qualified("origin-x"), 0, label)
    origin_y = _int(root, qualified("origin-y"), 0, label)
    check_size(_int(root, "w", 1, label), _int(root, "h", 1, label), f"The canvas of {label}")
    stack = root.find("stack")
    if stack is None:
        raise BadInput(f"Cannot open {label}: stack.xml has no <stack> of layers.")
    entries = _layer_entries(stack, label)
    if len(entries) > MAX_LAYERS:
        raise BadInput(f"Cannot open {label}: it has {len(entries)} layers, more than {MAX_LAYERS}.")

    layers: list[Layer] = []
    active: Layer | None = None
    total_pixels = 0
    for entry in reversed(entries):
        layer, pixel_count = _read_layer(members, entry, origin_x, origin_y, label)
        total_pixels += pixel_count
        if total_pixels > MAX_TOTAL_PIXELS:
            raise BadInput(f"Cannot open {label}: its layers hold more pixels than Sfumato can open.")
        layers.append(layer)
        if entry.element.get("selected") == "true":
            active = layer

    mask = _read_mask(members, root, label)
    frame = Frame(
        _int(root, qualified("frame-x"), 0, label),
        _int(root, qualified("frame-y"), 0, label),
        _int(root, qualified("frame-width"), 512, label),
        _int(root, qualified("frame-height"), 512, label),
    )
    check_size(frame.width, frame.height, f"The frame stored in {label}")
    title = root.get(qualified("title")) or label.strip("'").rsplit(".", 1)[0]
    document = Document(frame=frame, history_budget=history_budget, title=title)
    document._load(layers, active if active is not None else (layers[-1] if layers else None), mask, frame)
    return document


def _checked_members(archive: zipfile.ZipFile, label: str) -> set[str]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise BadInput(f"Cannot open {label}: it holds {len(infos)} files, far more than a picture needs.")
    total = 0
    for info in infos:
        _check_name(info.filename, label)
        if info.file_size > MAX_MEMBER_BYTES:
            raise BadInput(
                f"Cannot open {label}: '{info.filename}' would unpack to {info.file_size:,} bytes, "
                "more than Sfumato accepts (the file may be a zip bomb)."
            )
        total += info.file_size
    if total > MAX_ARCHIVE_BYTES:
        raise BadInput(
            f"Cannot open {label}: it would unpack to {total:,} bytes (the file may be a zip bomb)."
        )
    return {info.filename for info in infos}


def _check_name(name: str, label: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or _DRIVE.match(name)
        or any(part in ("..", ".") for part in parts)
    ):
        raise BadInput(f"Cannot open {label}: it contains an unsafe file path '{name}' and may be malicious.")


def parse_stack_xml(data: bytes, label: str) -> ET.Element:
    # Document types and entities have no business in stack.xml and are how XML bombs work. The
    # parser refuses them as it meets them, in whatever encoding the file is written.
    try:
        root = defused_tree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise BadInput(
            f"Cannot open {label}: stack.xml declares a document type or entities, which is not allowed."
        ) from error
    except (ET.ParseError, ValueError, LookupError) as error:
        raise BadInput(f"Cannot open {label}: stack.xml is malformed ({error}).") from error
    if root.tag != "image":
        raise BadInput(f"Cannot open {label}: stack.xml does not describe an image.")
    return root


def _int(element: ET.Element, name: str, default: int, label: str) -> int:
    text = element.get(name)
    if text is None:
        return default
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > 1 << 40 or number != int(number):
        raise BadInput(f"Cannot open {label}: '{_plain(name)}' should be a whole number, not '{text}'.")
    return int(number)


def _plain(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _opacity(element: ET.Element, label: str) -> float:
    text = element.get("opacity", "1.0")
    try:
        opacity = float(text)
    except ValueError:
        opacity = math.nan
    if not math.isfinite(opacity):
        raise BadInput(f"Cannot open {label}: a layer opacity of '{text}' is not a number.")
    return min(max(opacity, 0.0), 1.0)


def _layer_entries(stack: ET.Element, label: str) -> list[_LayerEntry]:
    """Layers top to bottom. Groups are not kept: their layers join the list, inheriting the
    group's visibility, opacity and offset. Walked without recursion, so no nesting can exhaust
    the stack; nesting deeper than any painting program makes means the file is damaged."""
    entries: list[_LayerEntry] = []
    # Each pending group: its children still to visit, and what they inherit.
    pending = [(iter(stack), True, 1.0, 0, 0)]
    while pending and len(entries) <= MAX_LAYERS:
        children, visible, opacity, dx, dy = pending[-1]
        child = next(children, None)
        if child is None:
            pending.pop()
            continue
        shown = visible and child.get("visibility", "visible") != "hidden"
        strength = opacity * _opacity(child, label)
        if child.tag == "layer":
            entries.append(_LayerEntry(child, shown, strength, dx, dy))
        elif child.tag == "stack":
            if len(pending) >= MAX_GROUP_DEPTH:
                raise BadInput(
                    f"Cannot open {label}: its layer groups are nested more than {MAX_GROUP_DEPTH} deep, "
                    "so the file is damaged."
                )
            offset_x, offset_y = _int(child, "x", 0, label), _int(child, "y", 0, label)
            pending.append((iter(child), shown, strength, dx + offset_x, dy + offset_y))
    return entries


def _read_layer(
    members: _Members, entry: _LayerEntry, origin_x: int, origin_y: int, label: str
) -> tuple[Layer, int]:
    element = entry.element
    name = element.get("name", "Layer")
    where = f"{label}, layer '{name}'"
    src = element.get("src")
    if not src:
        raise BadInput(f"Cannot open {where}: the layer names no image.")
    pixels = members.rgba(src, f"The image of layer '{name}' in {label}")
    pixel_count = pixels.shape[0] * pixels.shape[1]
    if element.get(qualified("empty")) == "true":
        pixels = np.zeros((0, 0, 4), dtype=np.uint8)
    x = _int(element, "x", 0, label) + entry.dx + origin_x
    y = _int(element, "y", 0, label) + entry.dy + origin_y
    if max(abs(x), abs(y)) > 64 * MAX_SIDE:
        raise BadInput(f"Cannot open {where}: the layer lies impossibly far away ({x}, {y}).")
    layer = Layer(
        pixels,
        x=x,
        y=y,
        name=name,
        opacity=entry.opacity,
        visible=entry.visible,
        locked=element.get("edit-locked") == "true",
        blend=BlendMode.from_svg_name(element.get("composite-op", "svg:src-over")) or BlendMode.NORMAL,
        recipe=recipe_from_attributes(dict(element.attrib), f"Cannot open {where}"),
    )
    return layer, pixel_count


def _read_mask(members: _Members, root: ET.Element, label: str) -> Mask:
    src = root.get(qualified("mask-src"))
    if src is None:
        return Mask()
    pixels = decode_gray(members.read(src, MAX_MEMBER_BYTES), f"The mask in {label}")
    return Mask(pixels, _int(root, qualified("mask-x"), 0, label), _int(root, qualified("mask-y"), 0, label))
