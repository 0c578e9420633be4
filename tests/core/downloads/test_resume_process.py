"""A download killed with its process is continued, not restarted, by the next process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sfumato.core.models.download import download, plan_download
from tests.core.downloads.repos import TINY_REPO, child_environment
from tests.support.fake_hub import FakeHub, FakeRepo

UNET = "unet/diffusion_pytorch_model.safetensors"
DOWNLOAD_IN_CHILD = """
import sys, threading
from sfumato.core.models.download import download, plan_download
download(plan_download(sys.argv[1]), on_progress=lambda event: None, cancel=threading.Event())
"""


def test_a_killed_download_process_is_resumed_by_the_next_one(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path
) -> None:
    unet = tiny_repo.files[UNET]
    partial = hf_cache / "models--sfumato-test--tiny-sd" / "blobs" / f"{unet.sha256}.incomplete"
    hub.bytes_per_second = 600_000
    child = subprocess.Popen(
        [sys.executable, "-c", DOWNLOAD_IN_CHILD, TINY_REPO],
        env=child_environment(hub, hf_cache),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_size >= 500_000):
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never got halfway"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait(timeout=10)
        if child.stderr:
            child.stderr.close()
    kept = partial.stat().st_size
    assert 0 < kept < len(unet.content)

    hub.bytes_per_second = None
    plan = plan_download(TINY_REPO)
    folder = download(plan, on_progress=lambda event: None, cancel=threading.Event())

    resumed = hub.content_requests(UNET)[-1]
    assert resumed.range == f"bytes={kept}-"
    assert resumed.status == 206 and resumed.length == len(unet.content) - kept
    assert (folder / UNET).read_bytes() == (tiny_model_dir / UNET).read_bytes()
    assert not partial.exists()
