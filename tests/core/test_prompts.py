"""Prompt weighting and long prompts: AUTOMATIC1111 syntax, chunking, and fit with diffusers."""

from __future__ import annotations

import contextlib
import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline
from transformers import CLIPTextModel, CLIPTokenizer

from sfumato.core.api import BadInput
from sfumato.core.limits import MAX_NESTING, MAX_PROMPT_TEXT, MAX_PROMPT_WEIGHT, MIN_PROMPT_WEIGHT
from sfumato.core.prompts import BREAK, encode_prompts, parse_weighted, prompt_chunks

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> CLIPTokenizer:
    return CLIPTokenizer.from_pretrained(tiny_model_dir / "tokenizer")


@pytest.fixture(scope="module")
def text_encoder(tiny_model_dir: Path) -> CLIPTextModel:
    return CLIPTextModel.from_pretrained(tiny_model_dir / "text_encoder").eval()


@pytest.fixture(scope="module")
def pipeline(tiny_model_dir: Path) -> Any:
    pipe = StableDiffusionPipeline.from_pretrained(tiny_model_dir)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def encode(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel, prompt: str, negative: str = ""
) -> tuple[torch.Tensor, torch.Tensor]:
    return encode_prompts(tokenizer, text_encoder, prompt, negative, CPU, torch.float32)


# --- parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("normal text", [("normal text", 1.0)]),
        ("an (important) word", [("an ", 1.0), ("important", 1.1), (" word", 1.0)]),
        ("a [faded] word", [("a ", 1.0), ("faded", 1 / 1.1), (" word", 1.0)]),
        ("(abc:3.12)", [("abc", 3.12)]),
        ("(cat: 0.5 ) and dog", [("cat", 0.5), (" and dog", 1.0)]),
        ("(unbalanced", [("unbalanced", 1.1)]),
        ("[unbalanced", [("unbalanced", 1 / 1.1)]),
        (r"\(literal\]", [("(literal]", 1.0)]),
        (r"back\\slash", [("back\\slash", 1.0)]),
        ("(unnecessary)(parens)", [("unnecessaryparens", 1.1)]),
        ("stray) and] closers", [("stray) and] closers", 1.0)]),
        ("time: 5:30", [("time: 5:30", 1.0)]),
        (
            "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
            [
                ("a ", 1.0),
                ("house", 1.1 * 1.1 * 1.3),
                (" ", 1.1),
                ("on", 1.0),
                (" a ", 1.1),
                ("hill", 0.55),
                (", sun, ", 1.1),
                ("sky", 1.1**4),
                (".", 1.1),
            ],
        ),
        ("", [("", 1.0)]),
    ],
)
def test_parse_follows_automatic1111(text: str, expected: list[tuple[str, float]]) -> None:
    parsed = parse_weighted(text)
    assert [fragment for fragment, _ in parsed] == [fragment for fragment, _ in expected]
    assert [weight for _, weight in parsed] == pytest.approx([weight for _, weight in expected])


def test_break_is_a_marker_between_fragments_and_never_weighted() -> None:
    assert parse_weighted("a cat BREAK a dog") == [("a cat", 1.0), BREAK, ("a dog", 1.0)]
    parsed = parse_weighted("(red BREAK blue:1.5)")
    assert parsed == [("red", 1.5), BREAK, ("blue", 1.5)]
    assert parsed[1] is BREAK
    # Only the capitalised word of its own is a break.
    assert BREAK not in parse_weighted("break BREAKING")


# --- encoding ----------------------------------------------------------------------------------------


def test_plain_short_prompt_encodes_exactly_like_diffusers(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel, pipeline: Any
) -> None:
    for prompt, negative in [("a red cat on the sea", "blurry, dark"), ("a photo of a horse", "")]:
        with torch.no_grad():
            expected, expected_negative = pipeline.encode_prompt(
                prompt, CPU, 1, True, negative_prompt=negative
            )
        embeds, negative_embeds = encode(tokenizer, text_encoder, prompt, negative)
        assert torch.equal(embeds, expected)
        assert torch.equal(negative_embeds, expected_negative)


@pytest.fixture(scope="module")
def offset_text_encoder(text_encoder: CLIPTextModel) -> CLIPTextModel:
    """The tiny encoder with a trained-looking final norm bias: like real CLIP, its output vectors
    do not average to zero (the freshly initialised tiny one's do)."""
    encoder = copy.deepcopy(text_encoder)
    generator = torch.Generator().manual_seed(1)
    bias = next(p for name, p in encoder.named_parameters() if name.endswith("final_layer_norm.bias"))
    with torch.no_grad():
        bias.copy_(0.3 + 0.2 * torch.randn(bias.shape, generator=generator))
    return encoder


def weighted_and_plain(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel, weighted: str
) -> tuple[torch.Tensor, torch.Tensor, int]:
    plain = encode(tokenizer, text_encoder, "a red cat")[0][0]
    emphasised = encode(tokenizer, text_encoder, f"a {weighted} cat")[0][0]
    red = tokenizer("a red cat").input_ids.index(tokenizer.convert_tokens_to_ids("red</w>"))
    return emphasised, plain, red


@pytest.mark.parametrize(
    ("weighted", "factor"), [("(red:1.5)", 1.5), ("(red)", 1.1), ("((red))", 1.21), ("[red]", 1 / 1.1)]
)
def test_weight_scales_only_the_weighted_token_up_to_mean_renormalisation(
    tokenizer: CLIPTokenizer, offset_text_encoder: CLIPTextModel, weighted: str, factor: float
) -> None:
    emphasised, plain, red = weighted_and_plain(tokenizer, offset_text_encoder, weighted)
    others = torch.ones(plain.shape[0], dtype=torch.bool)
    others[red] = False

    # Every other position is the plain embedding times one common scale...
    scale = float((emphasised[others] * plain[others]).sum() / (plain[others] ** 2).sum())
    torch.testing.assert_close(emphasised[others], scale * plain[others])
    # ...the weighted token carries its weight on top of that scale...
    torch.testing.assert_close(emphasised[red], factor * scale * plain[red])
    assert not torch.allclose(emphasised[red], plain[red], atol=1e-3)
    # ...and the scale restores the overall mean of the unweighted prompt.
    assert abs(plain.mean()) > 0.1
    assert scale != pytest.approx(1.0, abs=1e-4)
    assert float(emphasised.mean()) == pytest.approx(float(plain.mean()), rel=1e-5)


def test_weight_on_vectors_averaging_zero_only_scales_the_weighted_token(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel
) -> None:
    # With no mean to restore, the other tokens must stay as they are, neither blown up nor wiped out.
    emphasised, plain, red = weighted_and_plain(tokenizer, text_encoder, "(red:1.5)")
    others = torch.ones(plain.shape[0], dtype=torch.bool)
    others[red] = False
    torch.testing.assert_close(emphasised[others], plain[others])
    torch.testing.assert_close(emphasised[red], 1.5 * plain[red])


def test_long_prompt_is_chunked_not_truncated(tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel) -> None:
    opening = ", ".join(["a red cat"] * 25)  # about 124 tokens
    assert len(tokenizer(opening).input_ids) > 77
    with_dog = encode(tokenizer, text_encoder, opening + ", a blue dog")[0]
    with_horse = encode(tokenizer, text_encoder, opening + ", a green horse")[0]

    assert with_dog.shape == (1, 2 * 77, text_encoder.config.hidden_size)
    torch.testing.assert_close(with_dog[:, :77], with_horse[:, :77])
    assert not torch.allclose(with_dog[:, 77:], with_horse[:, 77:], atol=1e-3)


def test_chunks_keep_every_token_and_end_at_a_nearby_comma(tokenizer: CLIPTokenizer) -> None:
    red, blue, comma = (tokenizer.convert_tokens_to_ids(t) for t in ("red</w>", "blue</w>", ",</w>"))

    near = prompt_chunks(tokenizer, "red " * 72 + ", " + "blue " * 10)
    assert [chunk.text_tokens for chunk in near] == [73, 10]
    assert near[0].ids[1:75] == [red] * 72 + [comma, tokenizer.eos_token_id]
    assert near[1].ids[1:12] == [blue] * 10 + [tokenizer.eos_token_id]

    far = prompt_chunks(tokenizer, "red " * 40 + ", " + "blue " * 45)
    assert [chunk.text_tokens for chunk in far] == [75, 11]

    for chunk in [*near, *far]:
        assert len(chunk.ids) == len(chunk.weights) == 77
        assert chunk.ids[0] == tokenizer.bos_token_id


def test_padding_uses_the_tokenizers_pad_token(tiny_model_dir: Path) -> None:
    # SD 2.x tokenizers pad with "!" rather than with the end token; chunks must pad the same way.
    tokenizer = CLIPTokenizer.from_pretrained(tiny_model_dir / "tokenizer", pad_token="!")
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    chunks = prompt_chunks(tokenizer, "a red cat BREAK a blue dog")
    for chunk, text in zip(chunks, ["a red cat", "a blue dog"], strict=True):
        assert chunk.ids == tokenizer(text, padding="max_length", max_length=77).input_ids


def test_break_starts_a_new_chunk(tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel) -> None:
    both = encode(tokenizer, text_encoder, "a red cat BREAK a blue dog")[0]
    assert both.shape[1] == 2 * 77
    torch.testing.assert_close(both[:, :77], encode(tokenizer, text_encoder, "a red cat")[0])
    torch.testing.assert_close(both[:, 77:], encode(tokenizer, text_encoder, "a blue dog")[0])


def test_positive_and_negative_come_back_with_equal_length(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel
) -> None:
    long = ", ".join(["a small house in the forest"] * 20)
    empty = encode(tokenizer, text_encoder, "")[0]

    embeds, negative_embeds = encode(tokenizer, text_encoder, "a cat", long)
    assert embeds.shape == negative_embeds.shape
    assert embeds.shape[1] % 77 == 0 and embeds.shape[1] >= 3 * 77
    # The short side is padded with chunks that mean "nothing", like an empty prompt.
    for start in range(77, embeds.shape[1], 77):
        torch.testing.assert_close(embeds[:, start : start + 77], empty)

    embeds, negative_embeds = encode(tokenizer, text_encoder, long, "")
    assert embeds.shape == negative_embeds.shape


def test_requested_dtype_is_returned(tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel) -> None:
    embeds, negative_embeds = encode_prompts(tokenizer, text_encoder, "a (cat)", "", CPU, torch.bfloat16)
    assert embeds.dtype == negative_embeds.dtype == torch.bfloat16


def test_pipeline_generates_from_the_embeddings(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel, pipeline: Any
) -> None:
    prompt = ", ".join(["a (red:1.3) circle on a [blue] background"] * 10) + " BREAK a castle"
    embeds, negative_embeds = encode(tokenizer, text_encoder, prompt, "blurry")
    assert embeds.shape[1] > 77
    result = pipeline(
        prompt_embeds=embeds,
        negative_prompt_embeds=negative_embeds,
        num_inference_steps=2,
        height=64,
        width=64,
        guidance_scale=7.0,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
    )
    image = np.asarray(result.images)
    assert image.shape == (1, 64, 64, 3)
    assert np.isfinite(image).all()


# --- clip skip ---------------------------------------------------------------------------------------


def without_last_layers(text_encoder: CLIPTextModel, count: int) -> CLIPTextModel:
    """The encoder cut short: what clip skip `count + 1` conditions on, by definition (A1111's)."""
    cut = copy.deepcopy(text_encoder)
    encoder = getattr(cut, "text_model", cut).encoder
    encoder.layers = encoder.layers[:-count]
    return cut


def test_clip_skip_conditions_on_an_earlier_layer_through_the_final_norm(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel
) -> None:
    prompt, negative = "a red (cat:1.2) on the sea", "blurry, dark"
    shortened = without_last_layers(text_encoder, 1)

    skip_1 = encode_prompts(tokenizer, text_encoder, prompt, negative, CPU, torch.float32, clip_skip=1)
    skip_2 = encode_prompts(tokenizer, text_encoder, prompt, negative, CPU, torch.float32, clip_skip=2)
    today = encode_prompts(tokenizer, text_encoder, prompt, negative, CPU, torch.float32)
    cut_short = encode_prompts(tokenizer, shortened, prompt, negative, CPU, torch.float32)

    assert torch.equal(skip_1[0], today[0]) and torch.equal(skip_1[1], today[1])
    assert torch.allclose(skip_2[0], cut_short[0], atol=1e-6)
    assert torch.allclose(skip_2[1], cut_short[1], atol=1e-6)  # the negative prompt too, as in A1111
    assert not torch.allclose(skip_2[0], skip_1[0], atol=1e-3)


def test_clip_skip_beyond_the_encoders_layers_is_refused_in_plain_words(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel
) -> None:
    with pytest.raises(BadInput, match="has only 2 layers; use at most 2"):
        encode_prompts(tokenizer, text_encoder, "a cat", "", CPU, torch.float32, clip_skip=3)


# ---- limits: weights, nesting, time ----------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "(red circle:1e30)",  # gave a uniform grey picture
        "(red circle:" + "9" * 400 + ")",
        "(red circle:11)",
        "(red circle:-10.5)",
        "(" * 25 + "red circle",  # 1.1 ** 25 = 10.8
        "((red circle:9.5))",
    ],
)
def test_weights_beyond_the_range_are_refused_naming_the_words(prompt: str) -> None:
    with pytest.raises(BadInput, match="red circle") as caught:
        parse_weighted(prompt)
    assert f"between {MIN_PROMPT_WEIGHT:g} and {MAX_PROMPT_WEIGHT:g}" in caught.value.message


def test_weights_at_the_ends_of_the_range_are_kept() -> None:
    assert parse_weighted("(a:10) (b:-10)") == [("a", 10.0), (" ", 1.0), ("b", -10.0)]
    assert parse_weighted("(" * 24 + "a")[0][1] == pytest.approx(1.1**24)


def test_brackets_nest_up_to_the_limit() -> None:
    assert parse_weighted("[" * MAX_NESTING + "a")[0][1] == pytest.approx(1.1**-MAX_NESTING)
    with pytest.raises(BadInput, match=f"{MAX_NESTING} deep"):
        parse_weighted("[" * (MAX_NESTING + 1) + "a")


@pytest.mark.parametrize(
    "unit",
    [" ", "(a)", "(" * 90 + "a:", "\\(a", "a BREAK ", "a:" + " " * 20],
    ids=["spaces", "many-groups", "deep-and-long", "escapes", "breaks", "colons"],
)
def test_prompts_of_the_longest_length_are_read_quickly(unit: str) -> None:
    prompt = "a" + unit * ((MAX_PROMPT_TEXT - 2) // len(unit)) + "b"  # spaces: BREAK used to be looked for
    assert len(prompt) <= MAX_PROMPT_TEXT  # by backtracking, which took 2 s at this length
    started = time.perf_counter()
    with contextlib.suppress(BadInput):
        parse_weighted(prompt)
    assert time.perf_counter() - started < 0.5


def test_prompts_beyond_the_longest_length_are_refused() -> None:
    parse_weighted("a" * MAX_PROMPT_TEXT)
    with pytest.raises(BadInput, match=f"{MAX_PROMPT_TEXT:,}"):
        parse_weighted("a" * (MAX_PROMPT_TEXT + 1))
