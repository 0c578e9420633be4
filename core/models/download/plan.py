"""What to download for a model: the exact commit, and each needed file with its size and checksum."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from huggingface_hub import HfApi
from huggingface_hub.errors import HFValidationError
from huggingface_hub.hf_api import ModelInfo, RepoSibling
from huggingface_hub.utils import validate_repo_id

from sfumato.core.api import BadInput
from sfumato.core.models import hub_errors
from sfumato.core.models.download.http import TIMEOUT, RetryBudget, file_url, get_json, request_headers
from sfumato.core.models.download.selection import (
    is_weight_file,
    not_a_pipeline,
    select_pipeline_files,
    select_single_model_files,
)
from sfumato.core.models.download.settings import hub_settings
from sfumato.core.models.hub_cache import (
    COMMIT,
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
    if not is_safe_repo_path(revision):
        raise BadInput(f"“{revision}” is not a valid version name for “{repo_id}”.")
    settings = hub_settings()
    if settings.offline:
        raise hub_errors.offline_mode(repo_id)
    budget = RetryBudget(repo_id, settings, revision=revision)
    api = HfApi(endpoint=settings.endpoint, token=settings.token or False, library_name="sfumato")
    info = budget.run(
        lambda: api.model_info(repo_id, revision=revision, files_metadata=True, timeout=TIMEOUT.read)
    )
    commit = _commit_of(repo_id, info)
    listing = _listing_of(repo_id, info)
    description = MODEL_INDEX if MODEL_INDEX in listing else MODEL_CONFIG
    if description not in listing:
        raise not_a_pipeline(repo_id, listing)

    headers = request_headers(settings)
    url = file_url(settings, repo_id, commit, description)
    try:
        contents = budget.run(lambda: get_json(url, headers))
    except ValueError as error:
        raise hub_errors.NotADiffusersPipeline(
            f"The {description} of “{repo_id}” is damaged, so it can't be loaded as a model."
        ) from error
    if description == MODEL_INDEX:
        paths = select_pipeline_files(repo_id, contents, listing, fp16=fp16)
    elif isinstance(contents, dict) and contents.get("_class_name") in SINGLE_MODEL_CLASSES:
        paths = select_single_model_files(repo_id, contents, listing, fp16=fp16)
    else:
        raise not_a_pipeline(repo_id, listing)
    return DownloadPlan(
        repo_id=repo_id,
        revision=revision,
        commit=commit,
        files=tuple(_planned_file(repo_id, listing[path]) for path in paths),
        fp16=fp16,
    )


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


def _commit_of(repo_id: str, info: ModelInfo) -> str:
    commit = info.sha or ""
    if not COMMIT.fullmatch(commit):
        raise hub_errors.unsafe_file_name(repo_id, commit)
    return commit


def _listing_of(repo_id: str, info: ModelInfo) -> dict[str, RepoSibling]:
    listing: dict[str, RepoSibling] = {}
    for sibling in info.siblings or []:
        if not is_safe_repo_path(sibling.rfilename):
            raise hub_errors.unsafe_file_name(repo_id, sibling.rfilename)
        listing[sibling.rfilename] = sibling
    return listing


def _planned_file(repo_id: str, sibling: RepoSibling) -> PlannedFile:
    if sibling.lfs is not None:
        sha256, size = sibling.lfs.sha256, sibling.lfs.size
        if not SHA256.fullmatch(sha256 or ""):
            raise hub_errors.unsafe_file_name(repo_id, sha256)
        return PlannedFile(sibling.rfilename, int(size), sha256=sha256)
    if sibling.size is None or not GIT_OID.fullmatch(sibling.blob_id or ""):
        raise hub_errors.HubServerError(
            f"Hugging Face sent an incomplete file list for “{repo_id}” (nothing about "
            f"“{sibling.rfilename}”). Try again in a few minutes."
        )
    return PlannedFile(sibling.rfilename, int(sibling.size), sha256=None, git_oid=sibling.blob_id)
