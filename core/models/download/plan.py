"""What to download for a model: the exact commit, and each needed file with its size and checksum."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from sfumato.core.api import BadInput
from sfumato.core.models import hub_errors
from sfumato.core.models.download.http import RetryBudget, file_url, get_bounded, request_headers
from sfumato.core.models.download.listing import (
    MAX_CONFIG_BYTES,
    MAX_DESCRIPTION_BYTES,
    MAX_LISTING_BYTES,
    ListedFile,
    RepoListing,
    listing_subject,
    parse_listing,
)
from sfumato.core.models.download.selection import (
    is_weight_file,
    not_a_pipeline,
    select_pipeline_files,
    select_single_model_files,
)
from sfumato.core.models.download.settings import hub_settings
from sfumato.core.models.hub_cache import (
    GIT_OID,
    MODEL_CONFIG,
    MODEL_INDEX,
    SHA256,
    SINGLE_MODEL_CLASSES,
    is_safe_repo_path,
)

DEFAULT_REVISION = "main"


@dataclass(frozen=True)
class PlannedFile:
    """A file of the repository. `sha256` is set for LFS files (the big ones), `git_oid` otherwise."""

    path: str
    size: int
    sha256: str | None
    git_oid: str | None = None

    @property
    def blob_name(self) -> str:
        """The file's name in the cache's blobs/ folder, as huggingface_hub names it."""
        name = self.sha256 or self.git_oid
        assert name is not None
        return name

    @property
    def is_weight(self) -> bool:
        return is_weight_file(self.path)


@dataclass(frozen=True)
class DownloadPlan:
    repo_id: str
    revision: str
    commit: str
    files: tuple[PlannedFile, ...]
    fp16: bool = False

    @property
    def total_bytes(self) -> int:
        return sum(file.size for file in self.files)

    @property
    def variant(self) -> str | None:
        """ "fp16" when half-precision weights were chosen (pass it to `from_pretrained`)."""
        return "fp16" if any(".fp16" in file.path for file in self.files if file.is_weight) else None


def plan_download(repo_id: str, *, revision: str | None = None, fp16: bool = False) -> DownloadPlan:
    """Ask the hub what the Stable Diffusion pipeline `repo_id` consists of, pinned to one commit.

    Only what a diffusers pipeline loads is planned: model_index.json, each part's configuration and
    tokenizer files, and its weights as .safetensors (half precision when `fp16` and available).
    A repository holding a single TAESD preview decoder (config.json of an AutoencoderTiny) is
    accepted too: its config.json and .safetensors weights are planned.
    """
    repo_id = normalise_repo_id(repo_id)
    revision = revision or DEFAULT_REVISION
    listing = fetch_listing(repo_id, revision)
    settings = hub_settings()
    budget = RetryBudget(repo_id, settings, revision=revision)
    headers = request_headers(settings)
    description = _description_file(repo_id, listing)
    what = _file_of(repo_id, description)
    listed_size = listing.files[description].size
    if listed_size is not None and listed_size > MAX_DESCRIPTION_BYTES:
        raise hub_errors.listed_too_large(what, listed_size, MAX_DESCRIPTION_BYTES)
    url = file_url(settings, repo_id, listing.commit, description)
    contents = budget.run(lambda: get_bounded(url, headers, limit=MAX_DESCRIPTION_BYTES, what=what))
    return plan_from_listing(repo_id, revision, listing, contents, fp16=fp16)


def fetch_listing(repo_id: str, revision: str) -> RepoListing:
    """The hub's list of the files of `repo_id` at `revision`, with the commit it resolves to."""
    if not is_safe_repo_path(revision):
        raise BadInput(f"“{revision}” is not a valid version name for “{repo_id}”.")
    settings = hub_settings()
    if settings.offline:
        raise hub_errors.offline_mode(repo_id)
    budget = RetryBudget(repo_id, settings, revision=revision)
    headers = request_headers(settings)
    info_url = f"{settings.endpoint}/api/models/{repo_id}/revision/{quote(revision, safe='')}?blobs=true"
    return parse_listing(
        repo_id,
        budget.run(
            lambda: get_bounded(info_url, headers, limit=MAX_LISTING_BYTES, what=listing_subject(repo_id))
        ),
    )


def plan_from_listing(
    repo_id: str, revision: str, listing: RepoListing, description: bytes, *, fp16: bool = False
) -> DownloadPlan:
    """The plan for `repo_id` from the hub's file list and the repository's model_index.json (or, for
    a single model, config.json) as it sent them."""
    name = _description_file(repo_id, listing)
    try:
        contents = json.loads(description)
    except (ValueError, RecursionError) as error:
        raise hub_errors.NotADiffusersPipeline(
            f"The {name} of “{repo_id}” is damaged, so it can't be loaded as a model."
        ) from error
    if name == MODEL_INDEX:
        paths = select_pipeline_files(repo_id, contents, listing.files, fp16=fp16)
    elif isinstance(contents, dict) and contents.get("_class_name") in SINGLE_MODEL_CLASSES:
        paths = select_single_model_files(repo_id, contents, listing.files, fp16=fp16)
    else:
        raise not_a_pipeline(repo_id, listing.files)
    return DownloadPlan(
        repo_id=repo_id,
        revision=revision,
        commit=listing.commit,
        files=tuple(planned_file(repo_id, listing.files[path]) for path in paths),
        fp16=fp16,
    )


def _file_of(repo_id: str, path: str) -> str:
    return f"the file “{path}” of “{repo_id}”"


def _description_file(repo_id: str, listing: RepoListing) -> str:
    description = MODEL_INDEX if MODEL_INDEX in listing.files else MODEL_CONFIG
    if description not in listing.files:
        raise not_a_pipeline(repo_id, listing.files)
    return description


def normalise_repo_id(text: str) -> str:
    """Accept "owner/name" and also a model page address pasted from the browser."""
    repo_id = text.strip()
    if "://" in repo_id:
        repo_id = urlsplit(repo_id).path
    repo_id = repo_id.strip("/")
    for marker in ("/tree/", "/blob/", "/resolve/"):
        repo_id = repo_id.split(marker, 1)[0]
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise BadInput(
            f"“{text.strip()}” is not a Hugging Face model name. It should look like “owner/model-name”."
        ) from error
    return repo_id


def planned_file(repo_id: str, file: ListedFile) -> PlannedFile:
    if file.is_lfs and file.lfs_sha256 is not None and file.lfs_size is not None:
        if not SHA256.fullmatch(file.lfs_sha256):
            raise hub_errors.unsafe_file_name(repo_id, file.lfs_sha256)
        if not file.is_weight and file.lfs_size > MAX_CONFIG_BYTES:
            raise hub_errors.listed_too_large(_file_of(repo_id, file.path), file.lfs_size, MAX_CONFIG_BYTES)
        return PlannedFile(file.path, file.lfs_size, sha256=file.lfs_sha256)
    if file.is_lfs or file.size is None or not GIT_OID.fullmatch(file.git_oid or ""):
        raise hub_errors.HubServerError(
            f"Hugging Face sent an incomplete file list for “{repo_id}” (nothing about "
            f"“{file.path}”). Try again in a few minutes."
        )
    if file.size > MAX_CONFIG_BYTES:  # configurations are read whole when the model loads
        raise hub_errors.listed_too_large(_file_of(repo_id, file.path), file.size, MAX_CONFIG_BYTES)
    return PlannedFile(file.path, file.size, sha256=None, git_oid=file.git_oid)
