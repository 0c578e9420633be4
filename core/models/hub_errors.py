"""Errors a model download can end with, each worded for the artist and telling them what to do.

They are `SfumatoError`s, so a front end shows `message` and may act on `kind`. The two that mean
"this model cannot be had" or "this is not a usable model" also derive from the shared
`ModelNotFound` / `ModelInvalid`, so code that already handles those handles these too.
"""

from __future__ import annotations

from sfumato.core.api import ErrorKind, ModelInvalid, ModelNotFound, SfumatoError
from sfumato.core.formatting import format_bytes

TOKEN_HELP = (
    "Give Sfumato your Hugging Face access token: set the HF_TOKEN environment variable, "
    "or run `hf auth login` once in a terminal."
)


class HubError(SfumatoError):
    """Anything that stops a model download. The subclasses say which problem it was (and, through
    `kind`, which family: the first base in each subclass that sets one wins)."""


class RepoNotFound(HubError, ModelNotFound):
    pass


class GatedModel(HubError, ModelNotFound):
    """The model exists but its authors ask each user to accept a licence first."""

    kind = ErrorKind.ACCESS_DENIED


class Unauthorized(HubError, ModelNotFound):
    """The hub refused the token (or the account behind it may not read this model)."""

    kind = ErrorKind.ACCESS_DENIED


class RateLimited(HubError):
    kind = ErrorKind.NETWORK

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HubServerError(HubError):
    kind = ErrorKind.NETWORK

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NetworkDown(HubError):
    kind = ErrorKind.NETWORK


class OfflineMode(HubError):
    kind = ErrorKind.OFFLINE


class NotEnoughDiskSpace(HubError):
    kind = ErrorKind.DISK_FULL

    def __init__(self, message: str, needed: int | None = None, free: int | None = None) -> None:
        super().__init__(message)
        self.needed = needed
        self.free = free


class CacheNotWritable(HubError):
    kind = ErrorKind.DISK_FULL


class ChecksumMismatch(HubError, ModelInvalid):
    pass


class NotADiffusersPipeline(HubError, ModelInvalid):
    pass


class NoSafetensors(HubError, ModelInvalid):
    """A part of the model comes only in formats that can run code when loaded (.ckpt, .bin...)."""


class UnsafeFileName(HubError, ModelInvalid):
    pass


class DownloadCancelled(HubError):
    kind = ErrorKind.CANCELLED


def repo_not_found(repo_id: str, revision: str | None = None) -> RepoNotFound:
    if revision:
        return RepoNotFound(f"The model “{repo_id}” has no version called “{revision}” on Hugging Face.")
    return RepoNotFound(
        f"Couldn't find the model “{repo_id}” on Hugging Face. Check the name: it looks like "
        "“owner/model-name”. If it is a private model, you need to be signed in. " + TOKEN_HELP
    )


def gated_model(repo_id: str, page_url: str, *, token_sent: bool) -> GatedModel:
    if token_sent:
        return GatedModel(
            f"Your Hugging Face account has not been given access to “{repo_id}” yet. Open {page_url} "
            "while signed in with the account your token belongs to, accept the licence, and try again "
            "(some models need the authors' approval, which can take a while)."
        )
    return GatedModel(
        f"“{repo_id}” asks every user to accept its licence before downloading. Open {page_url}, sign in "
        "and accept the licence, then download again. " + TOKEN_HELP
    )


def unauthorized(repo_id: str, tokens_url: str) -> Unauthorized:
    return Unauthorized(
        f"Hugging Face refused your access token while downloading “{repo_id}”. Create a new token at "
        f"{tokens_url} (read access is enough) and use it instead. " + TOKEN_HELP
    )


def rate_limited(repo_id: str, retry_after: float | None) -> RateLimited:
    wait = f"about {_duration(retry_after)}" if retry_after else "a few minutes"
    return RateLimited(
        f"Hugging Face is limiting how many downloads you can start right now (while downloading "
        f"“{repo_id}”). Wait {wait} and try again; the files already downloaded are kept.",
        retry_after,
    )


def server_error(repo_id: str, status: int) -> HubServerError:
    return HubServerError(
        f"Hugging Face had a problem on its side (error {status}) while sending “{repo_id}”. This is "
        "usually temporary: try again in a few minutes; the files already downloaded are kept.",
        status,
    )


def network_down(host: str) -> NetworkDown:
    return NetworkDown(
        f"Couldn't reach {host}. Check that this computer is online (and any proxy settings), then try "
        "again; the files already downloaded are kept."
    )


def offline_mode(repo_id: str) -> OfflineMode:
    return OfflineMode(
        f"Can't download “{repo_id}”: offline mode is on (the HF_HUB_OFFLINE environment variable is set). "
        "Unset HF_HUB_OFFLINE to allow downloads."
    )


def not_enough_disk_space(repo_id: str, folder: str, needed: int, free: int) -> NotEnoughDiskSpace:
    return NotEnoughDiskSpace(
        f"Not enough free disk space to download “{repo_id}”: it needs {format_bytes(needed)} but only "
        f"{format_bytes(free)} is free on the drive holding {folder}. Free up some space, or set HF_HOME "
        "to a folder on a larger drive.",
        needed,
        free,
    )


def disk_full(repo_id: str, folder: str) -> NotEnoughDiskSpace:
    return NotEnoughDiskSpace(
        f"The disk holding {folder} filled up while downloading “{repo_id}”. Free up some space and "
        "download again: it continues where it stopped."
    )


def cache_not_writable(repo_id: str, folder: str, error: OSError) -> CacheNotWritable:
    return CacheNotWritable(
        f"Couldn't save “{repo_id}” into {folder} ({error.strerror or error}). Check that this folder "
        "can be written to, or set HF_HOME to a folder that can."
    )


def checksum_mismatch(repo_id: str, path: str) -> ChecksumMismatch:
    return ChecksumMismatch(
        f"The downloaded file “{path}” of “{repo_id}” is damaged: its contents don't match the checksum "
        "Hugging Face lists for it. The damaged copy was deleted; start the download again."
    )


def unsafe_file_name(repo_id: str, name: str) -> UnsafeFileName:
    return UnsafeFileName(
        f"The server listed a file with an unsafe name ({name!r}) for “{repo_id}”, so nothing was "
        "downloaded from it. Check that HF_ENDPOINT points to a trustworthy Hugging Face server."
    )


def damaged_answer(what: str, detail: str) -> HubServerError:
    """The hub's answer about `what` (its file list, its model_index.json...) cannot be used."""
    return HubServerError(
        f"Hugging Face sent {what} that Sfumato cannot use ({detail}). Try again in a few minutes; "
        "if it keeps happening, check that HF_ENDPOINT points to a trustworthy Hugging Face server."
    )


def answer_too_large(what: str, limit: int) -> HubServerError:
    return damaged_answer(what, f"larger than {format_bytes(limit)}, far more than it should be")


def listed_too_large(what: str, size: int, limit: int) -> HubServerError:
    return HubServerError(
        f"Hugging Face lists {what} at {format_bytes(size)}, far more than such a file can be (at most "
        f"{format_bytes(limit)}), so nothing was downloaded. Check that HF_ENDPOINT points to a "
        "trustworthy Hugging Face server."
    )


def cancelled(repo_id: str) -> DownloadCancelled:
    return DownloadCancelled(
        f"Download of “{repo_id}” cancelled. The part already downloaded is kept, so starting it again "
        "continues where it stopped."
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    return f"{seconds / 60:.0f} minutes"
