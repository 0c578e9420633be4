"""Writing a batch's images to their files one by one, as the engine finishes each.

An image is written the moment it exists, so a batch cancelled late or cut short by an error keeps
what was already made; a file that cannot be written is reported, and the others are still written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import numpy as np

from sfumato.core.api import Recipe, SfumatoError
from sfumato.core.cli.commands import print_error
from sfumato.core.metadata import save_png


class BatchFiles:
    """The files of one batch: `paths[k]` receives image k; written paths are printed on `out`."""

    def __init__(self, paths: tuple[Path, ...], out: TextIO) -> None:
        self._paths = paths
        self._out = out
        self._written: set[int] = set()
        self._failed: set[int] = set()

    @property
    def written(self) -> int:
        return len(self._written)

    @property
    def failed(self) -> int:
        return len(self._failed)

    def write(self, index: int, image: np.ndarray, recipe: Recipe) -> None:
        """Save image `index` now; a failure is printed as an error and the batch carries on."""
        if index in self._written or index in self._failed or not 0 <= index < len(self._paths):
            return
        path = self._paths[index]
        try:
            save_png(path, image, recipe)
        except SfumatoError as error:
            self._failed.add(index)
            print_error(error.message)
            return
        self._written.add(index)
        print(path, file=self._out, flush=True)

    def write_all(self, images: tuple[np.ndarray, ...], recipes: tuple[Recipe, ...]) -> None:
        """Save every image of a finished batch that has not been handled one by one."""
        for index, (image, recipe) in enumerate(zip(images, recipes, strict=False)):
            self.write(index, image, recipe)

    def summary(self) -> str:
        """What was kept, for a batch that ended early."""
        if not self._written:
            return "no images were saved"
        return f"{len(self._written)} of {len(self._paths)} images were saved"
