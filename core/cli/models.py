"""`sfumato models`: list, download, import, convert, remove and verify models.

The model modules are imported inside the handlers, so `sfumato --help` stays quick.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sfumato.core.cli.commands import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROGRAM,
    CommandParser,
    Commands,
    print_error,
)
from sfumato.core.cli.models_table import BASE_NAMES, format_table, is_shipped_addon, model_rows
from sfumato.core.formatting import download_amounts, format_bytes

if TYPE_CHECKING:
    from sfumato.core.models.download import DownloadPlan, DownloadProgress
    from sfumato.core.models.library import ImportedModel
    from sfumato.core.upscalers.catalog import UpscalerEntry

DESCRIPTION = f"""\
Models live in two places: downloads in the shared Hugging Face cache (where other tools see them
too), and imported files in Sfumato's data folder. Give any model's ID to `{PROGRAM} generate --model`.

  list             the installed models, LoRAs, embeddings and upscalers (also: `{PROGRAM} models`)
  download ID      a catalog model (e.g. openjourney, or taesd for sharp live previews) or any
                   Hugging Face repo holding a diffusers Stable Diffusion 1.x/2.x pipeline
                   (owner/name); resumes where it stopped
  import PATH      a .safetensors checkpoint, textual-inversion embedding or LoRA
  convert PATH     an old .ckpt/.pt/.pth/.bin file: converted to .safetensors without running it
  remove ID        delete a model's files
  verify ID        read every file again and compare it with its recorded checksum
"""


def register(commands: Commands) -> None:
    parser = commands.add(
        "models",
        summary="list, download, import, convert, remove and verify models",
        handler=list_models,
        description=DESCRIPTION,
    )
    actions = Commands(
        parser.add_subparsers(title="actions", dest="action", metavar="ACTION", parser_class=CommandParser)
    )
    actions.add("list", summary="show the installed models, add-ons and upscalers", handler=list_models)
    download = actions.add(
        "download", summary="download a catalog or Hugging Face model", handler=download_model
    )
    download.add_argument("id", metavar="ID", help="a catalog id (see `list`) or owner/name")
    download.add_argument(
        "--revision",
        metavar="REV",
        help="a branch, tag or commit; default: a catalog model's recorded commit, else main",
    )
    download.add_argument(
        "--fp16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="half-precision weights where offered; default: when this computer runs models in fp16 (a GPU)",
    )
    imports = actions.add(
        "import", summary="add a .safetensors checkpoint, embedding or LoRA", handler=import_model
    )
    imports.add_argument("path", metavar="PATH", type=Path)
    convert = actions.add(
        "convert", summary="safely convert a .ckpt/.pt/.pth/.bin file and import it", handler=convert_model
    )
    convert.add_argument("path", metavar="PATH", type=Path)
    remove = actions.add("remove", summary="delete a model's files", handler=remove_model)
    remove.add_argument("id", metavar="ID")
    verify = actions.add(
        "verify", summary="check a model's files against their checksums", handler=verify_model
    )
    verify.add_argument("id", metavar="ID")


# ---- list ----------------------------------------------------------------------------------------


def list_models(args: argparse.Namespace) -> int:
    from sfumato.core.models.catalog import EntryKind, catalog
    from sfumato.core.models.inventory import list_installed

    models = list_installed()
    rows = model_rows(models)
    if rows:
        print(format_table(rows))
    else:
        print("No models installed yet.")
    installed = {model.id for model in models}
    entries = [e for e in catalog() if e.kind is EntryKind.CHECKPOINT and e.id not in installed]
    ready = [e.id for e in entries if e.available]
    blocked = [e.id for e in entries if not e.available]
    if ready:
        print(f"\nIn the catalog, ready to download: {', '.join(ready)}")
        print(f"Download one with `{PROGRAM} models download ID`.")
    if blocked:
        print(
            f"Listed but not downloadable as published (`{PROGRAM} models download ID` says why): "
            + ", ".join(blocked)
        )
    return EXIT_OK


# ---- download ------------------------------------------------------------------------------------


def download_model(args: argparse.Namespace) -> int:
    from sfumato.core.api import BadInput
    from sfumato.core.devices import runs_in_half_precision
    from sfumato.core.models.catalog import EntryKind, find_entry
    from sfumato.core.models.download import plan_download
    from sfumato.core.upscalers.catalog import find_upscaler_entry

    if (upscaler := find_upscaler_entry(args.id)) is not None:
        return _download_upscaler(upscaler)
    entry = find_entry(args.id)
    if entry is not None and not entry.available and not args.revision:
        # Asking the hub would only end in the planner's refusal, after a round trip.
        raise BadInput(f"{entry.name} can't be downloaded. {entry.unavailable}")
    repo_id = entry.repo if entry is not None else args.id
    label = f"{entry.name} ({entry.repo})" if entry is not None else repo_id
    print(f"Asking Hugging Face about {label}…", file=sys.stderr, flush=True)
    fp16 = runs_in_half_precision() if args.fp16 is None else args.fp16
    # A catalog model comes at the commit the catalog describes, unless another one is asked for.
    revision = args.revision or (entry.revision if entry is not None else None)
    plan = plan_download(repo_id, revision=revision, fp16=fp16)
    print(
        f"{label}: {len(plan.files)} files, {format_bytes(plan.total_bytes)} "
        f"(version {plan.commit[:10]}). Press Ctrl+C to stop; downloading again continues.",
        file=sys.stderr,
        flush=True,
    )
    folder = _download_until_interrupted(plan, DownloadDisplay.for_stream(sys.stderr))
    if folder is None:
        return EXIT_INTERRUPTED
    model_id = entry.id if entry is not None else plan.repo_id
    print(f"Downloaded {label} to {folder}")
    if entry is not None and entry.kind is EntryKind.PREVIEW_DECODER:
        print("Live previews use it from the next model Sfumato loads.")
    else:
        print(f"Use it with `{PROGRAM} generate --model {model_id}`.")
    return EXIT_OK


def _download_upscaler(entry: UpscalerEntry) -> int:
    from sfumato.core.upscalers.catalog import download_upscaler

    print(f"Downloading the upscaler {entry.name} ({entry.repo})…", file=sys.stderr, flush=True)
    path = _until_interrupted(
        lambda progress, cancel: download_upscaler(entry, on_progress=progress, cancel=cancel),
        DownloadDisplay.for_stream(sys.stderr),
    )
    if path is None:
        return EXIT_INTERRUPTED
    print(f"Downloaded {entry.name} to {path}")
    print(f"Use it with `{PROGRAM} upscale IMAGE --factor {entry.scale} --upscaler {entry.id} --out OUT`.")
    return EXIT_OK


def _download_until_interrupted(plan: DownloadPlan, display: DownloadDisplay) -> Path | None:
    """Download on a thread so Ctrl+C reaches this one; returns None when cancelled."""
    from sfumato.core.models.download import download

    return _until_interrupted(
        lambda progress, cancel: download(plan, on_progress=progress, cancel=cancel), display
    )


def _until_interrupted(
    fetch: Callable[[Callable[[DownloadProgress], None], threading.Event], Path], display: DownloadDisplay
) -> Path | None:
    from sfumato.core.models.hub_errors import DownloadCancelled

    cancel = threading.Event()
    finished = threading.Event()
    outcome: list[Path | BaseException] = []

    def work() -> None:
        try:
            outcome.append(fetch(display.show, cancel))
        except BaseException as error:
            outcome.append(error)
        finally:
            finished.set()

    threading.Thread(target=work, name="download", daemon=True).start()
    try:
        while not finished.wait(0.2):
            pass
    except KeyboardInterrupt:
        cancel.set()  # the download stops within a second, keeping its partial file
        while not finished.wait(0.2):
            pass
    display.end_line()
    result = outcome[0]
    if isinstance(result, DownloadCancelled):
        print_error(result.message)
        return None
    if isinstance(result, BaseException):
        raise result
    return result


class DownloadDisplay:
    """One redrawn progress line on a terminal; a line per finished file otherwise."""

    def __init__(self, stream: TextIO, interactive: bool) -> None:
        self._stream = stream
        self._interactive = interactive
        self._drawn = 0
        self._files_done = -1
        self._lock = threading.Lock()

    @classmethod
    def for_stream(cls, stream: TextIO) -> DownloadDisplay:
        isatty = getattr(stream, "isatty", None)
        return cls(stream, bool(isatty and isatty()))

    def show(self, progress: DownloadProgress) -> None:
        with self._lock:
            if self._interactive:
                text = progress_line(progress)
                self._stream.write(f"\r{text}{' ' * max(self._drawn - len(text), 0)}")
                self._drawn = len(text)
            elif progress.files_done != self._files_done:
                self._files_done = progress.files_done
                self._stream.write(progress_line(progress) + "\n")
            self._stream.flush()

    def end_line(self) -> None:
        with self._lock:
            if self._drawn:
                self._stream.write("\n")
                self._stream.flush()
                self._drawn = 0


def progress_line(progress: DownloadProgress) -> str:
    """`42% 900.0 MB of 2.1 GB, 11.2 MB/s, 1 min 50 s left, file 3/12 unet/...`"""
    amounts, *rest = download_amounts(progress)
    parts = [f"{progress.fraction:4.0%} {amounts}", *rest]
    parts.append(f"file {min(progress.files_done + 1, progress.files_total)}/{progress.files_total}")
    return ", ".join(parts) + (f" {progress.file}" if progress.file else "")


# ---- import, convert -----------------------------------------------------------------------------


def import_model(args: argparse.Namespace) -> int:
    from sfumato.core.models.imports import import_file

    _report_import(import_file(args.path))
    return EXIT_OK


def convert_model(args: argparse.Namespace) -> int:
    from sfumato.core.models.convert import import_legacy

    print(
        f"Converting {args.path.name} in a separate, locked-down process (no code in it can run)…",
        file=sys.stderr,
        flush=True,
    )
    _report_import(import_legacy(args.path))
    return EXIT_OK


def _report_import(record: ImportedModel) -> None:
    from sfumato.core.models.library import ImportKind

    described = {
        ImportKind.CHECKPOINT: "checkpoint",
        ImportKind.EMBEDDING: "embedding",
        ImportKind.LORA: "LoRA",
    }[record.kind]
    details = ", ".join(
        part
        for part in (
            BASE_NAMES.get(record.base or "", "base unknown"),
            record.variant or "",
            f"hash {record.short_hash}",
        )
        if part and part != "normal"
    )
    origin = f" (converted from {record.converted_from})" if record.converted_from else ""
    print(f"Imported {described} {record.id}{origin}: {details}. Stored as {record.file}")
    if record.kind is ImportKind.CHECKPOINT:
        print(f"Use it with `{PROGRAM} generate --model {record.id}`.")


# ---- remove, verify ------------------------------------------------------------------------------


def remove_model(args: argparse.Namespace) -> int:
    from sfumato.core.api import BadInput
    from sfumato.core.models.inventory import remove

    if is_shipped_addon(args.id):
        raise BadInput(f"{args.id} comes with Sfumato and cannot be removed.")
    removed = remove(args.id)
    kept = " (files other models still use were kept)" if removed.model.shared_bytes else ""
    print(f"Removed {removed.model.id}; {format_bytes(removed.freed_bytes)} freed{kept}.")
    return EXIT_OK


def verify_model(args: argparse.Namespace) -> int:
    from sfumato.core.models.inventory import verify

    interactive = sys.stderr.isatty()

    def checking(name: str) -> None:
        if interactive:
            sys.stderr.write(f"\rchecking {name}\x1b[K")
            sys.stderr.flush()

    report = verify(args.id, on_file=checking)
    if interactive:
        sys.stderr.write("\r\x1b[K")
    if report.ok:
        print(f"{report.model_id}: all {report.checked} files are intact.")
        return EXIT_OK
    for problem in report.problems:
        print(f"{problem.path}: {problem.problem}")
    print_error(
        f"{report.model_id}: {len(report.problems)} of {report.checked} files have problems (listed above)."
    )
    return EXIT_FAILED
