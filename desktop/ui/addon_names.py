"""The names of the LoRAs and embeddings the artist has, for highlighting, completing and picking
them in prompts. Read again at most every few seconds: highlighting asks for them on every keystroke."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sfumato.core.models.addon_library import installed_addons
from sfumato.core.models.library import WEIGHTS_SUFFIX, ImportKind

REREAD_SECONDS = 2.0


@dataclass(frozen=True)
class AddonNames:
    loras: tuple[str, ...] = ()
    embeddings: tuple[str, ...] = ()
    _lora_keys: frozenset[str] = field(default=frozenset(), repr=False)

    @classmethod
    def of(cls, loras: list[str], embeddings: list[str]) -> AddonNames:
        return cls(tuple(sorted(loras, key=str.casefold)), tuple(sorted(embeddings, key=str.casefold)),
                   frozenset(name.casefold() for name in loras))  # fmt: skip

    def knows_lora(self, name: str) -> bool:
        """Whether `<lora:name>` would be found: a LoRA's name, or a .safetensors file's path."""
        if name.removesuffix(WEIGHTS_SUFFIX).casefold() in self._lora_keys:
            return True
        path = Path(name).expanduser()
        return path.suffix.lower() == WEIGHTS_SUFFIX and path.is_file()


class AddonDirectory:
    """The installed add-ons' names, re-read when asked for after `REREAD_SECONDS`."""

    def __init__(self) -> None:
        self._names = AddonNames()
        self._read_at = -REREAD_SECONDS

    def names(self) -> AddonNames:
        if time.monotonic() - self._read_at >= REREAD_SECONDS:
            self.refresh()
        return self._names

    def refresh(self) -> None:
        loras = [addon.name for addon in installed_addons(ImportKind.LORA).values()]
        embeddings = [addon.name for addon in installed_addons(ImportKind.EMBEDDING).values()]
        self._names = AddonNames.of(loras, embeddings)
        self._read_at = time.monotonic()
