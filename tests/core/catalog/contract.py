"""What every catalog entry promises about its download, checked against a recorded listing.

`plan_entry` serves the recording on a loopback hub and plans the download exactly as the model
manager does; any broken promise is an AssertionError that names the entry.
"""

from __future__ import annotations

from sfumato.core.api import SfumatoError
from sfumato.core.models.catalog import CatalogEntry
from sfumato.core.models.download import DownloadPlan, plan_download
from sfumato.core.models.hub_cache import MODEL_CONFIG, MODEL_INDEX
from tests.core.catalog.recorded import STAND_IN_COMMIT, RecordedListing, RecordedRepo
from tests.support.fake_hub import FakeHub

FP16 = ".fp16."


def plan_entry(hub: FakeHub, entry: CatalogEntry, listing: RecordedListing, *, fp16: bool) -> DownloadPlan:
    hub.add(RecordedRepo(entry, listing))
    try:
        plan = plan_download(entry.repo, revision=listing.commit or STAND_IN_COMMIT, fp16=fp16)
    except SfumatoError as error:
        raise AssertionError(f"catalog entry {entry.id!r} ({entry.repo}) can't be planned: {error}") from None
    problems = _broken_promises(listing, plan, fp16=fp16)
    if problems:
        raise AssertionError(f"catalog entry {entry.id!r} ({entry.repo}): " + "; ".join(problems))
    return plan


def plan_bounds(listing: RecordedListing, plan: DownloadPlan) -> tuple[int, int]:
    """The byte counts the plan's total can stand for, given the precision of the recorded sizes."""
    low = high = 0
    for file in plan.files:
        recorded = listing.files.get(file.path)
        file_low, file_high = recorded.bounds if recorded is not None else (file.size, file.size)
        low, high = low + file_low, high + file_high
    return low, high


def _broken_promises(listing: RecordedListing, plan: DownloadPlan, *, fp16: bool) -> list[str]:
    problems = []
    paths = {file.path for file in plan.files}
    single_model = MODEL_CONFIG in paths and MODEL_INDEX not in paths  # TAESD: its files sit at the top
    loaded = set(listing.read_components()) | ({""} if single_model else set())
    by_folder: dict[str, list[str]] = {}
    for file in plan.files:
        folder = file.path.rsplit("/", 1)[0] if "/" in file.path else ""
        if file.path not in (MODEL_INDEX, MODEL_CONFIG) and folder not in loaded:
            problems.append(f"plans {file.path}, which the pipeline does not load")
        if file.is_weight and not file.path.endswith(".safetensors"):
            problems.append(f"plans the pickle {file.path}")
        if file.is_weight:
            by_folder.setdefault(folder, []).append(file.path)
    for folder, weights in sorted(by_folder.items()):
        expected = _expects_fp16(listing, folder, fp16=fp16)
        for path in weights:
            if (FP16 in path) != expected:
                kind = "half-precision" if FP16 in path else "full-precision"
                problems.append(f"plans the {kind} {path} although the listing has the other kind")
    return problems


def _expects_fp16(listing: RecordedListing, folder: str, *, fp16: bool) -> bool:
    """fp16 weights only where they exist: when asked for and listed, or when nothing else is listed."""
    prefix = f"{folder}/" if folder else ""
    safetensors = [
        path[len(prefix) :]
        for path in listing.files
        if path.startswith(prefix) and "/" not in path[len(prefix) :] and path.endswith(".safetensors")
    ]
    has_fp16 = any(FP16 in name for name in safetensors)
    has_full = any(FP16 not in name for name in safetensors)
    return has_fp16 and (fp16 or not has_full)
