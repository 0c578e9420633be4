"""Undo history bounded by memory, not by a number of steps.

Each step is a command that knows how to do and undo itself and how many bytes of pixels only
the history keeps alive (a deleted layer while the deletion is applied, an added layer once the
addition is undone). When the total goes over the budget the oldest steps are forgotten (the newest one
is always kept, so the last action can be undone however large it was).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from sfumato.desktop.document.signals import Signal

DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024
# Charged per step on top of its pixels, so even pixel-free steps cannot pile up without end.
STEP_OVERHEAD_BYTES = 512


class Command(ABC):
    """One undoable change. `label` is what a history panel shows."""

    label: str = ""

    @abstractmethod
    def do(self) -> None: ...

    @abstractmethod
    def undo(self) -> None: ...

    @property
    def nbytes(self) -> int:
        """Bytes of pixel data this step keeps alive while it is applied."""
        return 0

    @property
    def undone_nbytes(self) -> int:
        """Bytes of pixel data this step keeps alive while it is undone."""
        return self.nbytes


class History:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if budget_bytes <= 0:
            raise ValueError("the history budget must be positive")
        self._budget = budget_bytes
        self._steps: list[Command] = []
        self._sizes: list[tuple[int, int]] = []
        self._position = 0
        self._dropped = 0
        self._clean_at: int | None = 0
        self.changed: Signal[History] = Signal()

    # ---- reading -------------------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        """Labels of the kept steps, oldest first. Step i is undone by jumping to position i."""
        return [step.label for step in self._steps]

    @property
    def position(self) -> int:
        """How many of the kept steps are applied (0: the oldest state still reachable)."""
        return self._position

    @property
    def dropped(self) -> int:
        """Steps forgotten to stay within the budget."""
        return self._dropped

    @property
    def nbytes(self) -> int:
        """Memory the history holds beyond the document itself."""
        applied = sum(size[0] for size in self._sizes[: self._position])
        undone = sum(size[1] for size in self._sizes[self._position :])
        return applied + undone + STEP_OVERHEAD_BYTES * len(self._sizes)

    @property
    def budget_bytes(self) -> int:
        return self._budget

    @budget_bytes.setter
    def budget_bytes(self, value: int) -> None:
        if value <= 0:
            raise ValueError("the history budget must be positive")
        self._budget = value
        self._trim()
        self.changed.emit(self)

    def can_undo(self) -> bool:
        return self._position > 0

    def can_redo(self) -> bool:
        return self._position < len(self._steps)

    def is_modified(self) -> bool:
        """Whether the document differs from the state last marked clean (for example saved)."""
        return self._clean_at != self._dropped + self._position

    # ---- changing ------------------------------------------------------------------------------

    def execute(self, command: Command) -> None:
        command.do()
        self.record(command)

    def record(self, command: Command) -> None:
        """Add a command whose change has already been made (for example a finished stroke)."""
        del self._steps[self._position :]
        del self._sizes[self._position :]
        if self._clean_at is not None and self._clean_at > self._dropped + self._position:
            self._clean_at = None
        self._steps.append(command)
        self._sizes.append((command.nbytes, command.undone_nbytes))
        self._position += 1
        self._trim()
        self.changed.emit(self)

    def undo(self) -> bool:
        if not self.can_undo():
            return False
        self._position -= 1
        self._steps[self._position].undo()
        self.changed.emit(self)
        return True

    def redo(self) -> bool:
        if not self.can_redo():
            return False
        self._steps[self._position].do()
        self._position += 1
        self.changed.emit(self)
        return True

    def jump_to(self, position: int) -> None:
        """Undo or redo as many steps as it takes to have `position` steps applied."""
        if not 0 <= position <= len(self._steps):
            raise ValueError(f"no history step {position} (there are {len(self._steps)})")
        while self._position > position:
            self._position -= 1
            self._steps[self._position].undo()
        while self._position < position:
            self._steps[self._position].do()
            self._position += 1
        self.changed.emit(self)

    def mark_clean(self) -> None:
        self._clean_at = self._dropped + self._position
        self.changed.emit(self)

    def mark_unsaved(self) -> None:
        """No state in reach is saved anywhere (work brought back from an autosave, say): the
        document counts as modified, whatever is undone or redone, until `mark_clean`."""
        self._clean_at = None
        self.changed.emit(self)

    def clear(self) -> None:
        self._steps.clear()
        self._sizes.clear()
        self._dropped = 0
        self._position = 0
        self._clean_at = 0
        self.changed.emit(self)

    def _trim(self) -> None:
        total = self.nbytes
        oldest = 0
        while total > self._budget and self._position - oldest > 1:
            total -= self._sizes[oldest][0] + STEP_OVERHEAD_BYTES
            oldest += 1
        del self._steps[:oldest]
        del self._sizes[:oldest]
        self._position -= oldest
        self._dropped += oldest
        while total > self._budget and len(self._steps) > max(self._position, 1):
            self._steps.pop()
            total -= self._sizes.pop()[1] + STEP_OVERHEAD_BYTES
