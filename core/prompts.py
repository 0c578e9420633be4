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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from sfumato.core.api import BadInput
from sfumato.core.prompt_chunks import chunk_contents
from sfumato.core.prompt_syntax import BREAK, parse_weighted

__all__ = ["BREAK", "PromptChunk", "encode_prompts", "parse_weighted", "prompt_chunks"]

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class PromptChunk:
    """One window of the text encoder: start token, up to 75 prompt tokens, end token, padding."""

    ids: list[int]
    weights: list[float]
    text_tokens: int


def prompt_chunks(tokenizer: PreTrainedTokenizerBase, text: str) -> list[PromptChunk]:
    """The chunks a prompt is encoded in (at least one, even for an empty prompt)."""
    length = int(tokenizer.model_max_length)

    def tokenize(words: list[str]) -> list[list[int]]:
        return list(tokenizer(words, add_special_tokens=False, verbose=False)["input_ids"])

    contents = chunk_contents(text, tokenize, tokenizer.get_vocab().get(",</w>"), length - 2)
    return [_framed(tokenizer, ids, weights, length) for ids, weights in contents]


def _framed(
    tokenizer: PreTrainedTokenizerBase, ids: list[int], weights: list[float], length: int
) -> PromptChunk:
    """Add start and end tokens and pad to the window, as the tokenizer itself would."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    padding = length - len(ids) - 2
    return PromptChunk(
        ids=[tokenizer.bos_token_id, *ids, tokenizer.eos_token_id, *[pad] * padding],
        weights=[1.0, *weights, 1.0, *[1.0] * padding],
        text_tokens=len(ids),
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
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode prompt and negative prompt into (prompt_embeds, negative_embeds), each (1, 77*k, dim).

    Both have the same number of chunks k (the shorter is padded with empty chunks) so classifier-free
    guidance can batch them; pass them to diffusers as `prompt_embeds=` / `negative_prompt_embeds=`.
    `clip_skip` 1 takes the encoder's last layer; 2 the one before it, and so on (AUTOMATIC1111's
    "Clip skip").
    """
    layers = _layer_count(text_encoder)
    if clip_skip > layers:
        raise BadInput(
            f"Clip skip is {clip_skip}, but this model's text encoder has only {layers} layers; "
            f"use at most {layers}."
        )
    positive_chunks = prompt_chunks(tokenizer, prompt)
    negative_chunks = prompt_chunks(tokenizer, negative)
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
            hidden = _hidden_states(text_encoder, ids, clip_skip)
            weights = torch.tensor([chunk.weights], dtype=torch.float32, device=hidden.device)
            encoded.append(_weighted(hidden.float(), weights).to(device=device, dtype=dtype))
    return torch.cat(encoded[:count], dim=1), torch.cat(encoded[count:], dim=1)


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
