"""Compare every catalog entry's live file listing on the hub with the one recorded in the tests.

    python tools/check_catalog.py            # every entry, at the branch the hub serves (main)
    python tools/check_catalog.py openjourney taesd

For maintainers, not part of the test suite: it needs the hub (HF_ENDPOINT and HF_TOKEN are honoured).
It reports, per entry, a head commit that moved away from the pinned one, recorded files that are gone
or changed size or checksum, new weight files, and whether the download planner still accepts the
repository; for an entry not pinned yet, the full commit main is at, to pin once its listing is read.
Exit status: 0 when nothing drifted, 1 when something did, 2 when the hub was not reachable.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sfumato.core.api import SfumatoError
from sfumato.core.models.catalog import CatalogEntry, catalog, entry
from sfumato.core.models.download.http import RetryBudget, file_url, get_bounded, request_headers
from sfumato.core.models.download.listing import (
    MAX_DESCRIPTION_BYTES,
    MAX_LISTING_BYTES,
    RepoListing,
    parse_listing,
)
from sfumato.core.models.download.plan import plan_from_listing
from sfumato.core.models.download.settings import hub_settings
from sfumato.core.models.hub_cache import MODEL_CONFIG, MODEL_INDEX
from tests.core.catalog.recorded import RecordedListing, recorded_listing

BRANCH = "main"


def fetch(repo_id: str, url: str, *, limit: int, what: str) -> bytes:
    """A bounded GET, retried and its failure worded as the download planner words it."""
    settings = hub_settings()
    headers = request_headers(settings)
    return RetryBudget(repo_id, settings).run(lambda: get_bounded(url, headers, limit=limit, what=what))


def live_listing(repo_id: str, revision: str = BRANCH) -> RepoListing:
    url = f"{hub_settings().endpoint}/api/models/{repo_id}/revision/{revision}?blobs=true"
    return parse_listing(
        repo_id, fetch(repo_id, url, limit=MAX_LISTING_BYTES, what=f"the file list of {repo_id}")
    )


def planner_verdict(item: CatalogEntry, live: RepoListing) -> str | None:
    """None when the planner accepts the live repository, else what it says."""
    description = MODEL_INDEX if MODEL_INDEX in live.files else MODEL_CONFIG
    try:
        url = file_url(hub_settings(), item.repo, live.commit, description)
        body = fetch(item.repo, url, limit=MAX_DESCRIPTION_BYTES, what=description)
        plan_from_listing(item.repo, BRANCH, live, body, fp16=True)
    except SfumatoError as error:
        return str(error)
    return None


def drift(item: CatalogEntry, recorded: RecordedListing, live: RepoListing) -> list[str]:
    """How the live listing differs from the recorded one, in plain words."""
    found = []
    if recorded.commit is not None and live.commit != recorded.commit:
        found.append(f"{BRANCH} is at {live.commit}, the catalog pins {recorded.commit}")
    for path, file in sorted(recorded.files.items()):
        now = live.files.get(path)
        if now is None:
            found.append(f"{path} is gone")
            continue
        size = now.lfs_size if now.lfs_size is not None else now.size
        low, high = file.bounds
        if size is None or not low <= size <= high:
            found.append(f"{path} is {size} bytes, recorded as {file.size_text}")
        if file.lfs and file.sha256 is not None and now.lfs_sha256 != file.sha256:
            found.append(f"{path} has SHA-256 {now.lfs_sha256}, recorded as {file.sha256}")
    # A folder no page listed whole may hold files never recorded; only those read whole can gain one.
    read = (set(recorded.read_components()) | {""}) - set(recorded.folders_not_read)
    for path in sorted(set(live.files) - set(recorded.files)):
        folder = path.split("/", 1)[0] if "/" in path else ""
        if live.files[path].is_weight and folder in read:
            found.append(f"{path} is new")
    return found


def unpinned_note(recorded: RecordedListing, live: RepoListing) -> str:
    """For an entry without a pinned commit: where main is now, and whether that is the commit the
    recorded pages showed in short form."""
    if recorded.commit is not None:
        return ""
    short = recorded.commit_short
    shown = short is not None and live.commit.startswith(short)
    same = f", the commit the recorded pages show as {short}" if shown else ""
    return f" (not pinned; {BRANCH} is at {live.commit}{same})"


def check(items: Sequence[CatalogEntry]) -> int:
    status = 0
    for item in items:
        try:
            live = live_listing(item.repo)
        except SfumatoError as error:
            print(f"{item.id}: the hub could not be asked ({error})")
            return 2
        recorded = recorded_listing(item.id)
        changes = drift(item, recorded, live)
        refusal = planner_verdict(item, live)
        if item.available and refusal is not None:
            changes.append(f"the download planner refuses it: {refusal}")
        if not item.available and refusal is None:
            changes.append("the download planner now accepts it, but the catalog marks it not downloadable")
        verdict = "as recorded" if not changes else "; ".join(changes)
        print(f"{item.id} ({item.repo}): {verdict}{unpinned_note(recorded, live)}")
        status = status or (1 if changes else 0)
    return status


def main(argv: Sequence[str]) -> int:
    items = [entry(name) for name in argv] if argv else list(catalog())
    return check(items)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
