"""Reading what the hub says about a repository, trusting none of it.

The hub's answers are JSON of bounded size (see `http.get_bounded`); here they are decoded and every
field Sfumato relies on is checked for its type, so a missing or mistyped field ends in a clear
`HubError`, never a `KeyError` deep inside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sfumato.core.models import hub_errors
from sfumato.core.models.download.selection import is_weight_file
from sfumato.core.models.hub_cache import COMMIT, is_safe_repo_path

# The file list of a repository with thousands of files is a few megabytes.
MAX_LISTING_BYTES = 16 * 2**20
# model_index.json and config.json are a few hundred bytes to a few kilobytes.
MAX_DESCRIPTION_BYTES = 2**20
# Any other file that is not weights (tokenizer vocabularies, scheduler and part configurations) is
# at most a few megabytes, and is read whole when the model loads.
MAX_CONFIG_BYTES = 16 * 2**20


@dataclass(frozen=True)
class ListedFile:
    """One file as the listing describes it; a field the listing lacks (or mistypes) is None."""

    path: str
    size: int | None
    git_oid: str | None
    lfs_sha256: str | None
    lfs_size: int | None
    is_lfs: bool

    @property
    def is_weight(self) -> bool:
        return is_weight_file(self.path)


@dataclass(frozen=True)
class RepoListing:
    commit: str
    files: dict[str, ListedFile]


def listing_subject(repo_id: str) -> str:
    return f"a file list for “{repo_id}”"


def decode_json(raw: bytes, what: str) -> object:
    """JSON from the hub; anything undecodable (including nesting too deep to parse) is a HubError."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError included
        detail = "nested too deeply" if isinstance(error, RecursionError) else "not valid JSON"
        raise hub_errors.damaged_answer(what, detail) from None


def parse_listing(repo_id: str, raw: bytes) -> RepoListing:
    """The commit and the files of `repo_id`, from the hub's `api/models/...?blobs=true` answer."""
    what = listing_subject(repo_id)
    info = decode_json(raw, what)
    if not isinstance(info, dict):
        raise hub_errors.damaged_answer(what, "it is not a description of a repository")
    commit = info.get("sha")
    if not isinstance(commit, str):
        raise hub_errors.damaged_answer(what, "it names no commit")
    if not COMMIT.fullmatch(commit):
        raise hub_errors.unsafe_file_name(repo_id, commit)
    siblings = info.get("siblings")
    if not isinstance(siblings, list):
        raise hub_errors.damaged_answer(what, "it has no list of files")
    files: dict[str, ListedFile] = {}
    for sibling in siblings:
        name = sibling.get("rfilename") if isinstance(sibling, dict) else None
        if not isinstance(name, str):
            raise hub_errors.damaged_answer(what, "a file in it has no name")
        if not is_safe_repo_path(name):
            raise hub_errors.unsafe_file_name(repo_id, name)
        files[name] = _listed_file(name, sibling)
    return RepoListing(commit, files)


def _listed_file(name: str, sibling: dict[str, object]) -> ListedFile:
    lfs = sibling.get("lfs")
    details = lfs if isinstance(lfs, dict) else {}
    return ListedFile(
        path=name,
        size=_count(sibling.get("size")),
        git_oid=_text(sibling.get("blobId")),
        lfs_sha256=_text(details.get("sha256")),
        lfs_size=_count(details.get("size")),
        is_lfs=lfs is not None,
    )


def _count(value: object) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
