"""Each download failure carries the kind a program acts on (retry later, ask for a token, free disk…)."""

from __future__ import annotations

import pytest

from sfumato.core.api import ErrorKind
from sfumato.core.models import hub_errors


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (hub_errors.RepoNotFound("x"), ErrorKind.MODEL_NOT_FOUND),
        (hub_errors.GatedModel("x"), ErrorKind.ACCESS_DENIED),
        (hub_errors.Unauthorized("x"), ErrorKind.ACCESS_DENIED),
        (hub_errors.RateLimited("x", retry_after=3), ErrorKind.NETWORK),
        (hub_errors.HubServerError("x", status=503), ErrorKind.NETWORK),
        (hub_errors.NetworkDown("x"), ErrorKind.NETWORK),
        (hub_errors.OfflineMode("x"), ErrorKind.OFFLINE),
        (hub_errors.NotEnoughDiskSpace("x"), ErrorKind.DISK_FULL),
        (hub_errors.CacheNotWritable("x"), ErrorKind.DISK_FULL),
        (hub_errors.ChecksumMismatch("x"), ErrorKind.MODEL_INVALID),
        (hub_errors.NoSafetensors("x"), ErrorKind.MODEL_INVALID),
        (hub_errors.DownloadCancelled("x"), ErrorKind.CANCELLED),
    ],
)
def test_download_errors_have_distinct_kinds(error: hub_errors.HubError, kind: ErrorKind) -> None:
    assert error.kind == kind
