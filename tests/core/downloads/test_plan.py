"""Planning a download: which files, at which commit, and the errors a user can run into."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from sfumato.core.api import BadInput, ModelInvalid, ModelNotFound
from sfumato.core.models import hub_errors
from sfumato.core.models.download import plan_download
from tests.core.downloads.repos import TINY_REPO, noise, pipeline_files
from tests.support.fake_hub import API, FakeHub, FakeRepo, Reply

SD_INDEX: dict[str, object] = {
    "_class_name": "StableDiffusionPipeline",
    "_diffusers_version": "0.30.0",
    "feature_extractor": ["transformers", "CLIPImageProcessor"],
    "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
    "scheduler": ["diffusers", "PNDMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}


def sd_repo(
    repo_id: str,
    *,
    index: dict[str, object] = SD_INDEX,
    add: dict[str, bytes] | None = None,
    remove: tuple[str, ...] = (),
) -> FakeRepo:
    """An SD 1.5-shaped repository (file contents don't matter for planning)."""
    base = {
        "model_index.json": json.dumps(index).encode(),
        "feature_extractor/preprocessor_config.json": b"{}",
        "safety_checker/config.json": b"{}",
        "safety_checker/model.safetensors": noise(100, 1),
        "safety_checker/pytorch_model.bin": noise(100, 2),
        "scheduler/scheduler_config.json": b"{}",
        "text_encoder/config.json": b"{}",
        "text_encoder/model.safetensors": noise(100, 3),
        "tokenizer/merges.txt": b"#version: 0.2\n",
        "tokenizer/special_tokens_map.json": b"{}",
        "tokenizer/tokenizer_config.json": b"{}",
        "tokenizer/vocab.json": b"{}",
        "unet/config.json": b"{}",
        "unet/diffusion_pytorch_model.safetensors": noise(100, 4),
        "vae/config.json": b"{}",
        "vae/diffusion_pytorch_model.safetensors": noise(100, 5),
    }
    files = {**base, **(add or {})}
    return FakeRepo(repo_id, {path: data for path, data in files.items() if path not in remove})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_plans_exactly_the_pipeline_files_at_the_current_commit(
    hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path
) -> None:
    plan = plan_download(TINY_REPO)

    assert {file.path for file in plan.files} == pipeline_files(tiny_model_dir)
    assert plan.commit == tiny_repo.commit
    assert plan.total_bytes == sum(len(tiny_repo.files[file.path].content) for file in plan.files)
    for file in plan.files:
        served = tiny_repo.files[file.path]
        assert file.size == len(served.content)
        assert file.sha256 == (served.sha256 if served.lfs else None)
    assert plan.variant is None


def test_fp16_takes_half_precision_weights_where_the_repo_has_them(
    hf_cache: Path, tiny_repo: FakeRepo
) -> None:
    plan = plan_download(TINY_REPO, fp16=True)

    weights = {file.path for file in plan.files if file.path.endswith(".safetensors")}
    assert weights == {
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "text_encoder/model.fp16.safetensors",
        "vae/diffusion_pytorch_model.safetensors",  # no fp16 version: the full one
    }
    assert plan.variant == "fp16"


def test_leaves_out_the_safety_checker_but_keeps_small_configs(hub: FakeHub, hf_cache: Path) -> None:
    hub.add(sd_repo("owner/sd15"))

    paths = {file.path for file in plan_download("owner/sd15").files}

    assert not any(path.startswith("safety_checker/") for path in paths)
    assert "feature_extractor/preprocessor_config.json" in paths
    assert "tokenizer/special_tokens_map.json" in paths


def test_sharded_weights_come_with_their_safetensors_index(hub: FakeHub, hf_cache: Path) -> None:
    shards = {
        "unet/diffusion_pytorch_model-00001-of-00002.safetensors": noise(50, 6),
        "unet/diffusion_pytorch_model-00002-of-00002.safetensors": noise(50, 7),
        "unet/diffusion_pytorch_model.safetensors.index.json": b"{}",
        "unet/diffusion_pytorch_model.bin.index.json": b"{}",
        "unet/diffusion_pytorch_model-00001-of-00002.bin": noise(50, 8),
    }
    hub.add(sd_repo("owner/sharded", add=shards, remove=("unet/diffusion_pytorch_model.safetensors",)))

    unet = {file.path for file in plan_download("owner/sharded").files if file.path.startswith("unet/")}

    assert unet == {
        "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors.index.json",
        "unet/diffusion_pytorch_model-00001-of-00002.safetensors",
        "unet/diffusion_pytorch_model-00002-of-00002.safetensors",
    }


def test_a_single_file_checkpoint_repo_is_not_a_pipeline(hub: FakeHub, hf_cache: Path) -> None:
    hub.add(FakeRepo("owner/single", {"v1-5-pruned.safetensors": noise(100, 1), "README.md": b"hi"}))

    with pytest.raises(hub_errors.NotADiffusersPipeline, match=r"v1-5-pruned\.safetensors") as caught:
        plan_download("owner/single")
    assert isinstance(caught.value, ModelInvalid)


def test_another_kind_of_pipeline_is_refused(hub: FakeHub, hf_cache: Path) -> None:
    hub.add(sd_repo("owner/flux", index={**SD_INDEX, "_class_name": "FluxPipeline"}))

    with pytest.raises(hub_errors.NotADiffusersPipeline, match="FluxPipeline"):
        plan_download("owner/flux")


def test_weights_only_in_pickle_formats_are_refused(hub: FakeHub, hf_cache: Path) -> None:
    weights = "unet/diffusion_pytorch_model"
    hub.add(
        sd_repo("owner/pickled", add={f"{weights}.bin": noise(100, 9)}, remove=(f"{weights}.safetensors",))
    )

    with pytest.raises(hub_errors.NoSafetensors, match="unet"):
        plan_download("owner/pickled")


def test_a_part_missing_from_the_repo_is_reported(hub: FakeHub, hf_cache: Path) -> None:
    vae = ("vae/config.json", "vae/diffusion_pytorch_model.safetensors")
    hub.add(sd_repo("owner/no-vae", remove=vae))

    with pytest.raises(hub_errors.NotADiffusersPipeline, match="vae"):
        plan_download("owner/no-vae")


@pytest.mark.parametrize(
    "name", ["../evil.json", "unet/../../evil.json", "/etc/passwd", "unet\\..\\evil.json"]
)
def test_hostile_file_names_are_refused(
    hub: FakeHub, hf_cache: Path, tiny_model_dir: Path, name: str
) -> None:
    hub.add(FakeRepo.from_folder("owner/hostile", tiny_model_dir, listed_only=[name]))

    with pytest.raises(hub_errors.UnsafeFileName):
        plan_download("owner/hostile")


def test_a_commit_id_that_is_a_path_is_refused(hub: FakeHub, hf_cache: Path, tiny_model_dir: Path) -> None:
    hub.add(FakeRepo.from_folder("owner/bad-commit", tiny_model_dir, commit="../../../../outside"))

    with pytest.raises(hub_errors.UnsafeFileName):
        plan_download("owner/bad-commit")


def test_a_browser_address_is_accepted_and_nonsense_is_bad_input(hf_cache: Path, tiny_repo: FakeRepo) -> None:
    assert plan_download(f"https://huggingface.co/{TINY_REPO}/tree/main").repo_id == TINY_REPO
    with pytest.raises(BadInput):
        plan_download("not a model name!")


def test_unknown_repo_and_unknown_version(hf_cache: Path, tiny_repo: FakeRepo) -> None:
    with pytest.raises(hub_errors.RepoNotFound, match="owner/model-name") as caught:
        plan_download("nobody/nothing")
    assert isinstance(caught.value, ModelNotFound)
    with pytest.raises(hub_errors.RepoNotFound, match="v9"):
        plan_download(TINY_REPO, revision="v9")


def test_a_refused_token_says_how_to_replace_it(
    hf_cache: Path, tiny_repo: FakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_expired")

    with pytest.raises(hub_errors.Unauthorized, match="HF_TOKEN"):
        plan_download(TINY_REPO)


def test_gated_model_without_token_explains_licence_and_token(
    hub: FakeHub, hf_cache: Path, tiny_model_dir: Path
) -> None:
    hub.add(FakeRepo.from_folder("owner/gated", tiny_model_dir, gated=True))

    with pytest.raises(hub_errors.GatedModel) as caught:
        plan_download("owner/gated")
    assert f"{hub.url}/owner/gated" in caught.value.message
    assert "HF_TOKEN" in caught.value.message and "hf auth login" in caught.value.message


def test_gated_model_with_a_token_not_yet_approved(
    hub: FakeHub, hf_cache: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add(FakeRepo.from_folder("owner/gated", tiny_model_dir, gated=True, allowed_tokens={"hf_approved"}))
    hub.tokens |= {"hf_pending", "hf_approved"}
    monkeypatch.setenv("HF_TOKEN", "hf_pending")

    with pytest.raises(hub_errors.GatedModel, match="not been given access"):
        plan_download("owner/gated")

    monkeypatch.setenv("HF_TOKEN", "hf_approved")
    assert plan_download("owner/gated").files


@pytest.mark.parametrize(
    ("wait_header", "wait"), [({"Retry-After": "1"}, 1.0), ({"RateLimit": '"api";r=0;t=3'}, 3.0)]
)
def test_rate_limit_waits_as_told_then_succeeds(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, wait_header: dict[str, str], wait: float
) -> None:
    hub.inject(API, Reply(429, wait_header))

    plan_download(TINY_REPO)

    first, second = [request for request in hub.log if request.target == API][:2]
    assert first.status == 429
    assert second.time - first.time >= wait - 0.1


def test_rate_limit_that_persists_is_reported(hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo) -> None:
    hub.inject(API, *[Reply(429, {"Retry-After": "0"})] * 10)

    with pytest.raises(hub_errors.RateLimited):
        plan_download(TINY_REPO)
    assert len([request for request in hub.log if request.target == API]) <= 4


def test_a_long_rate_limit_is_reported_at_once_with_the_wait(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo
) -> None:
    hub.inject(API, Reply(429, {"Retry-After": "3600"}))
    started = time.monotonic()

    with pytest.raises(hub_errors.RateLimited, match="60 minutes") as caught:
        plan_download(TINY_REPO)
    assert caught.value.retry_after == 3600
    assert time.monotonic() - started < 2


def test_server_errors_are_retried_then_reported(hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo) -> None:
    hub.inject(API, Reply(503))
    assert plan_download(TINY_REPO).commit == tiny_repo.commit

    hub.inject(API, *[Reply(503)] * 5)
    with pytest.raises(hub_errors.HubServerError, match="503") as caught:
        plan_download(TINY_REPO)
    assert caught.value.status == 503


def test_no_server_listening_means_network_down(hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")

    with pytest.raises(hub_errors.NetworkDown, match=r"127\.0\.0\.1"):
        plan_download(TINY_REPO)


def test_offline_mode_is_reported_without_any_request(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with pytest.raises(hub_errors.OfflineMode, match="HF_HUB_OFFLINE"):
        plan_download(TINY_REPO)
    assert hub.log == []
