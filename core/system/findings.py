"""One line of `sfumato doctor`: what was checked, how bad it is, and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Finding:
    topic: str
    severity: Severity
    message: str
    fix: str | None = None

    def line(self) -> str:
        fix = f" Fix: {self.fix}" if self.fix and self.severity is not Severity.OK else ""
        return f"[{self.severity.value}] {self.topic}: {self.message}{fix}"
