"""The table `sfumato models list` prints: every installed model, the LoRAs and embeddings that come
with Sfumato, and the upscalers (downloaded, the artist's own, and the catalog's still to download).

An add-on's NAME is the one a prompt uses (`<lora:NAME>`, or the embedding's name as a word); its ID
is the one `remove` and `verify` take.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sfumato.core.api import SfumatoError
from sfumato.core.formatting import format_bytes

if TYPE_CHECKING:
    from sfumato.core.models.inventory import InstalledModel
    from sfumato.core.models.library import ImportKind

COLUMNS = ("ID", "NAME", "KIND", "BASE", "SIZE", "STATUS")
BASE_NAMES = {"sd1": "SD 1.x", "sd2": "SD 2.x"}
UNKNOWN_BASE = "?"
ANY_BASE = "any"  # an upscaler enlarges any picture, whatever model drew it
SHIPPED = "ready, comes with Sfumato"
NOT_DOWNLOADED = "not downloaded"


@dataclass(frozen=True)
class Row:
    id: str
    name: str
    kind: str
    base: str
    size: str
    status: str

    def cells(self) -> tuple[str, ...]:
        return (self.id, self.name, self.kind, self.base, self.size, self.status)


def model_rows(models: list[InstalledModel]) -> list[Row]:
    """Installed models, then the add-ons shipped with Sfumato, then the upscalers."""
    return [*(installed_row(model) for model in models), *shipped_addon_rows(), *upscaler_rows()]


def format_table(rows: list[Row]) -> str:
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(cells[column]) for cells in table) for column in range(len(COLUMNS) - 1)]
    lines = []
    for cells in table:
        padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=True)]
        lines.append("  ".join([*padded, cells[-1]]).rstrip())
    return "\n".join(lines)


def installed_row(model: InstalledModel) -> Row:
    kind = model.kind if model.variant in (None, "normal") else f"{model.kind} ({model.variant})"
    status = str(model.status)
    if model.shared_bytes:
        status += f", shares {format_bytes(model.shared_bytes)} with other files"
    base = BASE_NAMES.get(model.base or "") or _width_of(model)
    return Row(model.id, model.name, kind, base, format_bytes(model.size_bytes), status)


def shipped_addon_rows() -> list[Row]:
    """The LoRAs and embeddings beside the demo model that a prompt can name (an import of the same
    name takes the name over, so that shipped add-on is left out)."""
    from sfumato.core.models.addon_library import demo_addons_dir, installed_addons
    from sfumato.core.models.library import ImportKind

    shipped = demo_addons_dir().resolve()
    rows = []
    for kind in (ImportKind.EMBEDDING, ImportKind.LORA):
        for addon in installed_addons(kind).values():
            if shipped in addon.file.resolve().parents:
                rows.append(
                    Row(
                        f"{kind}:{addon.name}",
                        addon.name,
                        str(kind),
                        _addon_base(addon.file, addon.kind, addon.name),
                        _file_size(addon.file),
                        SHIPPED,
                    )
                )
    return rows


def is_shipped_addon(model_id: str) -> bool:
    wanted = model_id.strip().casefold()
    return any(row.id.casefold() == wanted for row in shipped_addon_rows())


def upscaler_rows() -> list[Row]:
    """Downloaded catalog upscalers and the artist's own ones (ready), then the catalog's others."""
    from sfumato.core.upscalers.catalog import upscaler_catalog
    from sfumato.core.upscalers.library import installed_upscalers, upscaler_file

    entries = {entry.id: entry for entry in upscaler_catalog()}
    rows = []
    for name in installed_upscalers():
        entry = entries.pop(name, None)
        kind = f"upscaler ({entry.scale}x)" if entry is not None else "upscaler"
        label = entry.name if entry is not None else name
        rows.append(Row(name, label, kind, ANY_BASE, _file_size(upscaler_file(name)), "ready"))
    for entry in entries.values():
        size = format_bytes(entry.size_bytes)
        rows.append(Row(entry.id, entry.name, f"upscaler ({entry.scale}x)", ANY_BASE, size, NOT_DOWNLOADED))
    return rows


def _addon_base(file: Path, kind: ImportKind, name: str) -> str:
    """The model family the add-on is for, else the width of text it takes, read from its header."""
    from sfumato.core.models.file_kind import embedding_base, lora_base, lora_widths
    from sfumato.core.models.library import ImportKind
    from sfumato.core.models.safetensors_header import read_header

    try:
        header = read_header(file)
        family = (lora_base if kind is ImportKind.LORA else embedding_base)(header, name)
    except SfumatoError:
        return UNKNOWN_BASE
    if family is not None:
        return BASE_NAMES.get(family, UNKNOWN_BASE)
    if kind is ImportKind.LORA:
        widths = set().union(*lora_widths(header))
    else:
        widths = {info.shape[-1] for info in header.values() if info.shape}
    return _width_label(widths.pop() if len(widths) == 1 else None)


def _width_of(model: InstalledModel) -> str:
    """For a model of no known family (the demo model, say): the width of text it works with."""
    from sfumato.core.models.addon_library import model_widths
    from sfumato.core.models.library import ImportKind

    if model.kind in (ImportKind.LORA, ImportKind.EMBEDDING):
        return _addon_base(model.location, ImportKind(model.kind), model.name)
    if model.kind != ImportKind.CHECKPOINT:
        return UNKNOWN_BASE
    try:
        return _width_label(model_widths(model.id).text)
    except SfumatoError:
        return UNKNOWN_BASE


def _width_label(width: int | None) -> str:
    return UNKNOWN_BASE if width is None else f"{width}-wide"


def _file_size(path: Path) -> str:
    try:
        return format_bytes(path.stat().st_size)
    except OSError:
        return format_bytes(0)
