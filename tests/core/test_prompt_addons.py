"""Reading `<lora:...>` tags and embedding names in prompts as AUTOMATIC1111 does."""

from __future__ import annotations

import pytest

from sfumato.core.api import BadInput
from sfumato.core.clip_tokens import count_prompt_tokens
from sfumato.core.prompt_addons import LoraTag, lora_tags, mentioned_embeddings, without_lora_tags


def test_tags_take_automatic1111s_weights_and_leave_the_text_for_clip() -> None:
    prompt = "a castle <lora:Style:0.8>, (river:1.2) <lora:ink> <LORA:Two:0.3:0.9> <lyco:old:te=0.2:unet=0.4>"
    assert [(t.name, t.text_encoder_weight, t.unet_weight) for t in lora_tags(prompt)] == [
        ("Style", 0.8, 0.8),
        ("ink", 1.0, 1.0),
        ("Two", 0.3, 0.9),  # AUTOMATIC1111: text encoder first, then UNet
        ("old", 0.2, 0.4),
    ]
    assert without_lora_tags(prompt) == "a castle , (river:1.2)   "


def test_a_tag_keeps_how_it_was_written() -> None:
    assert lora_tags("x <lora: a b :-1>") == [LoraTag("a b", -1.0, -1.0, "<lora: a b :-1>")]


@pytest.mark.parametrize(
    ("prompt", "fragment"),
    [
        ("<lora:a:heavy>", '"heavy"'),
        ("<lora:a:1:>", "not a number"),
        ("<lora:a:inf>", "not a number"),
        ("<lora:a:1e9>", "too large"),
        ("<lora::1>", "names no LoRA"),
        ("<lora:a:1:2:3>", "more than Sfumato understands"),
        ("<lora:a:dyn=4>", "more than Sfumato understands"),
    ],
)
def test_bad_tags_are_refused_in_plain_words(prompt: str, fragment: str) -> None:
    with pytest.raises(BadInput, match=fragment):
        lora_tags(prompt)


def test_embeddings_are_found_as_words_of_their_own_in_any_case() -> None:
    names = ["emblem", "sfumato-emblem", "bad-hands"]
    assert mentioned_embeddings("a SFUMATO-EMBLEM, (bad-hands:1.2)", names) == ["sfumato-emblem", "bad-hands"]
    assert mentioned_embeddings("emblems, my-emblem-2, emblem_x", names) == []
    assert mentioned_embeddings("emblem and emblem", names) == ["emblem"]
    assert mentioned_embeddings("<lora:emblem:1>", names) == []


def test_the_token_count_leaves_lora_tags_out_as_clip_does() -> None:
    assert count_prompt_tokens("a cat <lora:ink:0.6>, <lora:x>") == count_prompt_tokens("a cat, ")
