"""Hostile answers from the hub: the repository listing (api/models/...?blobs=true) and the
model_index.json or config.json it leads to, structure-aware and as raw bytes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from sfumato.core.models.download.listing import parse_listing
from sfumato.core.models.download.plan import plan_from_listing
from tests.fuzz.weighting import mostly
from tests.support.fuzzing import FuzzTarget

REPO = "owner/model"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SHA256 = "ab" * 32
COMPONENTS = ["unet", "vae", "text_encoder", "tokenizer", "scheduler", "safety_checker", "feature_extractor"]
PATHS = [
    "model_index.json",
    "config.json",
    "diffusion_pytorch_model.safetensors",
    *(f"{part}/{name}" for part in COMPONENTS for name in ("config.json", "model.safetensors")),
    "unet/diffusion_pytorch_model.fp16.safetensors",
    "unet/diffusion_pytorch_model-00001-of-00002.safetensors",
    "unet/diffusion_pytorch_model.safetensors.index.json",
    "vae/diffusion_pytorch_model.bin",
    "tokenizer/vocab.json",
    "../escape.json",
    "/etc/passwd",
    "a\\b",
    "",
    "unet//x",
]

odd = st.one_of(
    st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=8), st.just([]), st.just({})
)
size = st.one_of(st.integers(0, 10**6), st.integers(), odd)
hexes = st.one_of(st.sampled_from([COMMIT, SHA256, COMMIT.upper(), "../x", ""]), odd)
lfs = st.one_of(
    st.none(),
    st.fixed_dictionaries({"size": size, "sha256": hexes}, optional={"pointerSize": size}),
    odd,
)
sibling = st.one_of(
    st.fixed_dictionaries(
        {"rfilename": st.one_of(st.sampled_from(PATHS), st.text(max_size=20))},
        optional={"size": size, "blobId": hexes, "lfs": lfs},
    ),
    odd,
)
listing = st.fixed_dictionaries(
    {"sha": st.one_of(st.just(COMMIT), hexes), "siblings": st.one_of(st.lists(sibling, max_size=25), odd)},
    optional={"id": st.text(max_size=10), "gated": odd, "private": odd},
)


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _raw_json(value: object) -> bytes:
    return json.dumps(value).encode()


hostile_bytes = st.one_of(
    st.integers(1, 300_000).map(_deep),
    st.integers(1, 100_000).map(lambda digits: b'{"sha": ' + b"7" * digits + b"}"),
    st.sampled_from([b"", b"null", b"{", b"\xff\xfe", b'{"siblings": [{"rfilename": "\\ud800"}]}']),
    st.binary(max_size=256),
)
listing_bytes = st.one_of(listing.map(_raw_json), hostile_bytes)

component = st.one_of(
    st.tuples(st.sampled_from(["diffusers", "transformers"]), st.text(max_size=12)).map(list), odd
)
model_index = st.fixed_dictionaries(
    {
        "_class_name": mostly(
            st.sampled_from(["StableDiffusionPipeline", "StableDiffusionInpaintPipeline", "FluxPipeline"]),
            odd,
        )
    },
    optional={name: component for name in COMPONENTS},
).flatmap(
    lambda index: st.dictionaries(st.text(max_size=10), component, max_size=3).map(
        lambda more: {**more, **index}
    )
)
config = st.fixed_dictionaries({"_class_name": st.one_of(st.just("AutoencoderTiny"), odd)})
description_bytes = st.one_of(model_index.map(_raw_json), config.map(_raw_json), hostile_bytes)


@st.composite
def usable_listing(draw: Any) -> bytes:
    """A listing Sfumato accepts, so that the description's parsing is reached."""
    files = draw(st.lists(st.sampled_from(PATHS[1:-5]), max_size=20, unique=True))
    if draw(mostly(st.just(True), st.just(False))):
        files.append("model_index.json")
    siblings = []
    for path in files:
        entry: dict[str, object] = {"rfilename": path, "size": 10, "blobId": COMMIT}
        if path.endswith(".safetensors"):
            entry["lfs"] = {"size": 10, "sha256": SHA256}
        siblings.append(entry)
    return _raw_json({"sha": COMMIT, "siblings": siblings})


def read_listing(raw: bytes) -> None:
    parse_listing(REPO, raw)


def plan(answers: tuple[bytes, bytes]) -> None:
    listing_raw, description = answers
    plan_from_listing(REPO, "main", parse_listing(REPO, listing_raw), description)


TARGETS = [
    FuzzTarget("hub listing", listing_bytes, read_listing),
    FuzzTarget(
        "hub model_index.json / config.json",
        st.tuples(
            mostly(usable_listing(), listing_bytes),
            mostly(model_index.map(_raw_json), description_bytes),
        ),
        plan,
    ),
]
