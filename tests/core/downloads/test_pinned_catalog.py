"""A catalog model installs at the commit the catalog recorded, even after the repository moved on,
and is found there later without a network; a catalog model without a recorded commit follows main."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfumato.core.cli import main
from sfumato.core.cli.commands import EXIT_OK
from sfumato.core.models.catalog import entry
from sfumato.core.models.inventory import Status, list_installed
from sfumato.core.models.source import resolve_model
from tests.core.downloads.repos import SCHEDULER, moved_on
from tests.core.models.conftest import go_offline
from tests.support.fake_hub import FakeHub


def download_with_the_cli(model_id: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["models", "download", model_id])
    err = capsys.readouterr().err
    assert code == EXIT_OK, err
    return err


def ready_ids() -> set[str]:
    return {model.id for model in list_installed() if model.status is Status.READY}


@pytest.mark.parametrize(("model_id", "pinned"), [("openjourney", True), ("anything-v3", False)])
def test_a_catalog_model_installs_and_is_found_offline_at_its_recorded_commit_else_main(
    model_id: str,
    pinned: bool,
    hub: FakeHub,
    hf_cache: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = entry(model_id)
    assert (model.revision is not None) is pinned
    first, newer = moved_on(hub, model.repo, tiny_model_dir)
    expected, other = (first, newer) if pinned else (newer, first)
    assert not pinned or first.commit == model.revision

    err = download_with_the_cli(model_id, capsys)

    assert f"(version {expected.commit[:10]})" in err
    go_offline(hub, monkeypatch)
    source = resolve_model(model_id)
    assert source.path.name == expected.commit
    assert (source.path / SCHEDULER).read_bytes() == expected.files[SCHEDULER].content
    assert not (source.path.parent / other.commit).exists()
    assert resolve_model(model.repo).path == source.path
    assert model_id in ready_ids()


def test_a_main_download_made_before_the_pin_stays_usable_until_the_pinned_commit_is_installed(
    hub: FakeHub, hf_cache: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openjourney = entry("openjourney")
    pinned, newer = moved_on(hub, openjourney.repo, tiny_model_dir)

    assert main(["models", "download", "openjourney", "--revision", "main"]) == EXIT_OK
    assert resolve_model("openjourney").path.name == newer.commit
    assert "openjourney" in ready_ids()

    download_with_the_cli("openjourney", capsys)
    assert resolve_model("openjourney").path.name == pinned.commit
    assert "openjourney" in ready_ids()
