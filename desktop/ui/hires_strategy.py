"""What the Generate button will do with a frame larger than the model: the words shown beside it."""

from __future__ import annotations

from functools import lru_cache

from sfumato.core.hires_plan import AUTO, plan_hires
from sfumato.core.models.defaults import native_size


@lru_cache(maxsize=32)
def _native_side(model: str) -> int | None:
    """The model's native side by pixel count, read once per model (it reads config files)."""
    size = native_size(model) if model else None
    return None if size is None else round((size[0] * size[1]) ** 0.5)


def hires_strategy(model: str, width: int, height: int) -> str:
    """E.g. "64 → 256 with hires fix" when a `width` × `height` frame is drawn small first and
    enlarged; "" when it is drawn in one pass (or the model's size is unknown)."""
    native = _native_side(model)
    if native is None:
        return ""
    plan = plan_hires(AUTO, width, height, native)
    if plan is None:
        return ""
    return f"{_size(plan.first_width, plan.first_height)} → {_size(width, height)} with hires fix"


def _size(width: int, height: int) -> str:
    return str(width) if width == height else f"{width}×{height}"
