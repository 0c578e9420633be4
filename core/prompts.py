"""Prompt weighting and prompts of any length, read the way AUTOMATIC1111 reads them.

Syntax (the same as in AUTOMATIC1111, so prompts can be pasted across):
  (words)        weight ×1.1; nesting multiplies: ((words)) ×1.21
  [words]        weight ÷1.1
  (words:1.3)    weight ×1.3 (any number, also below 1 or negative; see core/prompt_syntax.py for
                 the limits on weights and nesting)
  \\( \\) \\[ \\] \\\\  the literal bracket or backslash
  BREAK          (capitals, a word of its own) ends the current 75-token chunk and starts a new one
Brackets left open are closed at the end of the prompt; a stray closing bracket is plain text.

CLIP reads 77 tokens: start, 75 tokens of text, end. A longer prompt is cut into chunks of 75 tokens,
each encoded on its own and joined along the sequence, so nothing is dropped. A chunk that runs full
ends after its last comma when that comma is within the last 20 tokens, so a phrase is not split.
Weights scale the encoder's output vector of each token; the chunk is then rescaled so its overall
mean stays what it was without weights (AUTOMATIC1111's "Original" emphasis).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from sfumato.core.api import BadInput
from sfumato.core.prompt_chunks import ChunkContents, chunk_contents
from sfumato.core.prompt_syntax import BREAK, parse_weighted

__all__ = ["BREAK", "PromptChunk", "encode_prompts", "parse_weighted", "prompt_chunks"]

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class PromptChunk:
    """One window of the text encoder: start token, up to 75 prompt tokens, end token, padding.
    `inserted`: (position, embedding name, vector row) for each token an embedding stands in for."""

    ids: list[int]
    weights: list[float]
    text_tokens: int
    inserted: tuple[tuple[int, str, int], ...] = ()


def prompt_chunks(
    tokenizer: PreTrainedTokenizerBase, text: str, embeddings: Mapping[str, int] | None = None
) -> list[PromptChunk]:
    """The chunks a prompt is encoded in (at least one, even for an empty prompt). `embeddings`: the
    number of vectors of each embedding whose name, standing in the prompt, it replaces."""
    length = int(tokenizer.model_max_length)

    def tokenize(words: list[str]) -> list[list[int]]:
        return list(tokenizer(words, add_special_tokens=False, verbose=False)["input_ids"])

    # Any id will do for an embedding's tokens: their vectors are replaced before the encoder sees them.
    placeholder = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else tokenizer.eos_token_id
    comma = tokenizer.get_vocab().get(",</w>")
    contents = chunk_contents(text, tokenize, comma, length - 2, embeddings, placeholder)
    return [_framed(tokenizer, chunk, length) for chunk in contents]


def _framed(tokenizer: PreTrainedTokenizerBase, chunk: ChunkContents, length: int) -> PromptChunk:
    """Add start and end tokens and pad to the window, as the tokenizer itself would."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    padding = length - len(chunk.ids) - 2
    return PromptChunk(
        ids=[tokenizer.bos_token_id, *chunk.ids, tokenizer.eos_token_id, *[pad] * padding],
        weights=[1.0, *chunk.weights, 1.0, *[1.0] * padding],
        text_tokens=len(chunk.ids),
        inserted=tuple((index + 1, *slot) for index, slot in enumerate(chunk.slots) if slot is not None),
    )


def _weighted(hidden: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Scale each token's vector by its weight, then restore each chunk's unweighted mean."""
    scaled = hidden * weights.unsqueeze(-1)
    original_mean = hidden.mean(dim=(1, 2), keepdim=True)
    new_mean = scaled.mean(dim=(1, 2), keepdim=True)
    # A mean that is about zero next to the values themselves says nothing about their level;
    # dividing by it would blow the chunk up or wipe it out, so such a chunk is left unscaled.
    floor = 1e-3 * scaled.abs().mean(dim=(1, 2), keepdim=True)
    usable = (original_mean.abs() > floor) & (new_mean.abs() > floor)
    return scaled * torch.where(usable, original_mean / new_mean, torch.ones_like(new_mean))


def encode_prompts(
    tokenizer: PreTrainedTokenizerBase,
    text_encoder: torch.nn.Module,
    prompt: str,
    negative: str,
    device: torch.device,
    dtype: torch.dtype,
    clip_skip: int = 1,
    embeddings: Mapping[str, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode prompt and negative prompt into (prompt_embeds, negative_embeds), each (1, 77*k, dim).

    Both have the same number of chunks k (the shorter is padded with empty chunks) so classifier-free
    guidance can batch them; pass them to diffusers as `prompt_embeds=` / `negative_prompt_embeds=`.
    `clip_skip` 1 takes the encoder's last layer; 2 the one before it, and so on (AUTOMATIC1111's
    "Clip skip"). `embeddings`: the (tokens, width) vectors of each textual-inversion embedding, used
    where its name stands in a prompt. `<lora:...>` tags are left out of the text.
    """
    layers = _layer_count(text_encoder)
    if clip_skip > layers:
        raise BadInput(
            f"Clip skip is {clip_skip}, but this model's text encoder has only {layers} layers; "
            f"use at most {layers}."
        )
    vectors = embeddings or {}
    counts = {name: int(table.shape[0]) for name, table in vectors.items()}
    positive_chunks = prompt_chunks(tokenizer, prompt, counts)
    negative_chunks = prompt_chunks(tokenizer, negative, counts)
    count = max(len(positive_chunks), len(negative_chunks))
    empty = prompt_chunks(tokenizer, "")[0]
    positive_chunks += [empty] * (count - len(positive_chunks))
    negative_chunks += [empty] * (count - len(negative_chunks))
    chunks = positive_chunks + negative_chunks

    encoded = []
    with torch.no_grad():
        # One chunk per call: batching would make a chunk's numbers depend on its batch neighbours.
        for chunk in chunks:
            ids = torch.tensor([chunk.ids], dtype=torch.long, device=device)
            with _inserted(text_encoder, chunk, vectors):
                hidden = _hidden_states(text_encoder, ids, clip_skip)
            weights = torch.tensor([chunk.weights], dtype=torch.float32, device=hidden.device)
            encoded.append(_weighted(hidden.float(), weights).to(device=device, dtype=dtype))
    return torch.cat(encoded[:count], dim=1), torch.cat(encoded[count:], dim=1)


@contextmanager
def _inserted(text_encoder: Any, chunk: PromptChunk, vectors: Mapping[str, torch.Tensor]) -> Iterator[None]:
    """While encoding `chunk`, its embeddings' vectors take the place of their tokens' own."""
    if not chunk.inserted:
        yield
        return

    def replace(_module: Any, _args: Any, output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        for position, name, row in chunk.inserted:
            output[0, position] = vectors[name][row].to(device=output.device, dtype=output.dtype)
        return output

    handle = text_encoder.get_input_embeddings().register_forward_hook(replace)
    try:
        yield
    finally:
        handle.remove()


def _layer_count(text_encoder: Any) -> int:
    return int(text_encoder.config.num_hidden_layers)


def _hidden_states(text_encoder: Any, ids: torch.Tensor, clip_skip: int) -> torch.Tensor:
    """The encoder's output for `ids`; with clip skip, an earlier layer's, through the final layer
    norm as AUTOMATIC1111 and diffusers do."""
    if clip_skip <= 1:
        hidden: torch.Tensor = text_encoder(ids)[0]
        return hidden
    states = text_encoder(ids, output_hidden_states=True).hidden_states
    # transformers 4 keeps the layers under `text_model`; transformers 5 puts them on the model itself.
    final_layer_norm = getattr(text_encoder, "text_model", text_encoder).final_layer_norm
    earlier: torch.Tensor = final_layer_norm(states[-clip_skip])
    return earlier
