"""Every catalog entry against its real repository's recorded file listing, served on a loopback hub:
the plan downloads only what the pipeline loads, never a pickle, fp16 weights only where they exist,
and the catalog states the size that is downloaded."""

from __future__ import annotations

import re

import pytest

from sfumato.core.formatting import format_bytes
from sfumato.core.models.catalog import CatalogEntry, catalog, entry
from sfumato.core.models.hub_cache import COMMIT
from tests.core.catalog.contract import plan_bounds, plan_entry
from tests.core.catalog.recorded import LISTINGS, SMALL_JSON, RecordedFile, recorded_listing, size_bounds
from tests.support.fake_hub import FakeHub

ENTRIES = [item.id for item in catalog()]


def weight_folders_read(item: CatalogEntry) -> list[str]:
    listing = recorded_listing(item.id)
    return [folder for folder in listing.read_components() if folder in ("unet", "text_encoder", "vae")]


def test_every_entry_has_a_recorded_listing_of_the_repository_it_names() -> None:
    assert sorted(path.stem for path in LISTINGS.glob("*.json")) == sorted(ENTRIES)
    for item in catalog():
        listing = recorded_listing(item.id)
        assert (listing.entry, listing.repo) == (item.id, item.repo)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", listing.read_on) and listing.pages
        assert all(page.startswith(f"https://huggingface.co/{item.repo}/") for page in listing.pages)
        # The catalog pins the commit the listing was read at; a listing read without one stays unpinned.
        assert item.revision == listing.commit
        assert listing.commit is None or COMMIT.fullmatch(listing.commit)


@pytest.mark.parametrize("entry_id", [item.id for item in catalog() if item.revision is not None])
def test_every_pinned_commit_is_one_the_hub_showed_for_that_repository(entry_id: str) -> None:
    listing = recorded_listing(entry_id)
    assert listing.commit is not None
    read_at_commit = any(f"/{listing.commit}" in page for page in listing.pages)
    # Or the pages show only its short form, and where the full one was read is written down.
    short_form_shown = bool(listing.commit_short) and listing.commit.startswith(listing.commit_short or "")
    assert read_at_commit or (short_form_shown and listing.commit_sources), (
        f"{entry_id}: nothing recorded ties {listing.commit} to {listing.repo}"
    )


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("743 Bytes", (743, 743)),
        ("3.44 GB", (3_435_000_000, 3_445_000_000)),
        ("4.9 MB", (4_850_000, 4_950_000)),
    ],
)
def test_a_rounded_size_stands_for_the_range_it_was_rounded_from(text: str, bounds: tuple[int, int]) -> None:
    assert size_bounds(text) == bounds


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"path": "unet/model.safetensors", "size_unknown": SMALL_JSON}, "only a small JSON"),
        ({"path": "text_encoder/config.json", "size_unknown": "a few bytes"}, "only a small JSON"),
        ({"path": "vae/config.json"}, "without a size"),
        ({"path": "vae/config.json", "size_text": "547 Bytes", "size_bytes": 574}, "574 bytes is not 547"),
    ],
    ids=["weights of unknown size", "unknown size not a small JSON", "no size", "exact size off the page"],
)
def test_a_file_is_recorded_only_with_a_size_or_as_a_small_json_of_unknown_size(
    fields: dict[str, object], refusal: str
) -> None:
    with pytest.raises(ValueError, match=refusal):
        RecordedFile(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("fp16", [False, True], ids=["full", "fp16"])
@pytest.mark.parametrize("entry_id", ENTRIES)
def test_each_entry_plans_only_what_the_pipeline_loads_at_the_size_the_catalog_shows(
    hub: FakeHub, entry_id: str, fp16: bool
) -> None:
    item = entry(entry_id)
    listing = recorded_listing(entry_id)
    if not item.available:
        with pytest.raises(AssertionError, match=rf"'{entry_id}'.*only available as \.bin"):
            plan_entry(hub, item, listing, fp16=fp16)
        return
    if item.kind.value == "checkpoint" and not weight_folders_read(item):
        pytest.skip(f"{entry_id}: no weight folder of {item.repo} was recorded ({listing.folders_not_read})")

    plan = plan_entry(hub, item, listing, fp16=fp16)

    low, high = plan_bounds(listing, plan)
    shown = item.download_bytes(fp16=fp16)
    if listing.complete or listing.covers_pipeline():
        assert low <= shown <= high, f"{entry_id}: the catalog shows {shown} bytes, the plan is {low}..{high}"
        # What the model manager prints is right whatever the plan's exact total within its bounds.
        assert format_bytes(low) == format_bytes(shown) == format_bytes(high)
    else:  # the parts recorded are a lower bound for the whole download
        assert shown >= low, f"{entry_id}: the catalog shows {shown} bytes, the recorded parts are {low}"


@pytest.mark.parametrize("entry_id", ["openjourney", "openjourney-v4"])
def test_openjourney_has_no_half_precision_weights_so_both_downloads_are_full_size(
    hub: FakeHub, entry_id: str
) -> None:
    item = entry(entry_id)
    plan = plan_entry(hub, item, recorded_listing(entry_id), fp16=True)

    paths = {file.path for file in plan.files}
    assert "unet/diffusion_pytorch_model.safetensors" in paths
    assert not any(path.endswith((".ckpt", ".bin")) or path.startswith("safety_checker/") for path in paths)
    assert plan.variant is None
    assert item.download_bytes(fp16=True) == item.download_bytes(fp16=False) > 3_435_000_000


def test_sd15_half_precision_takes_the_fp16_unet_and_never_the_non_ema_one(hub: FakeHub) -> None:
    listing = recorded_listing("sd15")
    half = plan_entry(hub, entry("sd15"), listing, fp16=True)
    full = plan_entry(hub, entry("sd15"), listing, fp16=False)

    assert [f.path for f in half.files if f.is_weight] == [
        "text_encoder/model.fp16.safetensors",
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "vae/diffusion_pytorch_model.fp16.safetensors",
    ]
    assert [f.path for f in full.files if f.is_weight] == [
        "text_encoder/model.safetensors",
        "unet/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
    ]


def test_sd15_half_precision_download_is_known_to_the_byte(hub: FakeHub) -> None:
    listing = recorded_listing("sd15")
    plan = plan_entry(hub, entry("sd15"), listing, fp16=True)

    # Every file planned has its SHA-256 at the pinned commit, and a byte count, not a rounded size.
    assert all(listing.files[file.path].sha256 is not None for file in plan.files)
    assert plan_bounds(listing, plan) == (plan.total_bytes, plan.total_bytes)
    assert entry("sd15").download_bytes(fp16=True) == plan.total_bytes


@pytest.mark.parametrize("entry_id", ["openjourney", "openjourney-v4"])
def test_a_text_encoder_config_of_unknown_size_is_planned_and_tolerated_as_a_small_json(
    hub: FakeHub, entry_id: str
) -> None:
    listing = recorded_listing(entry_id)
    plan = plan_entry(hub, entry(entry_id), listing, fp16=False)

    planned = {file.path for file in plan.files}
    assert {"text_encoder/config.json", "text_encoder/model.safetensors"} <= planned
    unknown = [path for path, file in listing.files.items() if path in planned and file.size_unknown]
    assert unknown == ["text_encoder/config.json"]


def test_taesd_takes_only_the_diffusers_decoder(hub: FakeHub) -> None:
    plan = plan_entry(hub, entry("taesd"), recorded_listing("taesd"), fp16=False)

    assert {file.path for file in plan.files} == {"config.json", "diffusion_pytorch_model.safetensors"}


@pytest.mark.parametrize(
    ("gone", "named"),
    [(("unet/diffusion_pytorch_model.safetensors",), r"unet.*only available as \.bin"), (("vae/",), "vae")],
    ids=["weights only as bin", "folder removed"],
)
def test_a_listing_change_that_breaks_an_entry_fails_naming_the_entry(
    hub: FakeHub, gone: tuple[str, ...], named: str
) -> None:
    changed = recorded_listing("openjourney").without(*gone)

    with pytest.raises(AssertionError, match=rf"'openjourney'.*{named}"):
        plan_entry(hub, entry("openjourney"), changed, fp16=False)
