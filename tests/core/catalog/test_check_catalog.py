"""tools/check_catalog.py, the maintainers' drift check, against a loopback hub serving the recordings."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from sfumato.core.models.catalog import entry
from tests.core.catalog.recorded import RecordedRepo, recorded_listing
from tests.support.fake_hub import FakeHub
from tools.check_catalog import check, drift, live_listing


def test_a_repository_as_recorded_shows_no_drift(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    hub.add(RecordedRepo(entry("taesd"), recorded_listing("taesd")))

    assert check([entry("taesd")]) == 0
    assert "taesd (madebyollin/taesd): as recorded" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("main_at", "said"),
    [("0" * 40, ""), ("8bc61fd" + "1" * 33, ", the commit the recorded pages show as 8bc61fd")],
    ids=["elsewhere", "where the pages were read"],
)
def test_an_entry_not_pinned_yet_is_told_the_full_commit_main_is_at(
    hub: FakeHub, capsys: pytest.CaptureFixture[str], main_at: str, said: str
) -> None:
    item = entry("anything-v3")
    recorded = recorded_listing("anything-v3")
    assert recorded.commit is None and recorded.commit_short == "8bc61fd"
    hub.add(RecordedRepo(item, replace(recorded, commit=main_at)))

    check([item])

    assert f"(not pinned; main is at {main_at}{said})" in capsys.readouterr().out


def test_a_removed_weight_file_is_reported_as_drift(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    item = entry("openjourney")
    recorded = recorded_listing("openjourney")
    hub.add(RecordedRepo(item, recorded.without("unet/diffusion_pytorch_model.safetensors")))

    assert drift(item, recorded, live_listing(item.repo)) == [
        "unet/diffusion_pytorch_model.safetensors is gone"
    ]
    assert check([item]) == 1
    assert "only available as .bin" in capsys.readouterr().out


def test_an_unreachable_hub_is_said_plainly(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")

    assert check([entry("taesd")]) == 2
    assert "could not be asked" in capsys.readouterr().out
