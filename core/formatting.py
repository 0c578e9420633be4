"""Sizes and durations written the way the command line and the studio show them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfumato.core.models.download import DownloadProgress


def format_bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def download_amounts(progress: DownloadProgress) -> list[str]:
    """`900.0 MB of 2.1 GB`, then `11.2 MB/s` and `1 min 50 s left` once they are known."""
    parts = [f"{format_bytes(progress.done)} of {format_bytes(progress.total)}"]
    if progress.bytes_per_second > 0:
        parts.append(f"{format_bytes(progress.bytes_per_second)}/s")
    if progress.eta_seconds is not None and progress.done < progress.total:
        parts.append(f"{format_duration(progress.eta_seconds)} left")
    return parts
