"""Counting a prompt's tokens the way the engine's CLIP tokenizer splits it, without torch or
transformers: the studio shows the count in the prompt box as it is typed.

The tokenizer is built from the vocabulary and merges that ship with Sfumato (shared by SD 1.x, 2.x
and XL) exactly as transformers builds its CLIPTokenizer, so the counts are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import BPE

from sfumato.core.models.configs import clip_tokenizer_dir
from sfumato.core.prompt_chunks import CHUNK_TOKENS, chunk_contents

UNKNOWN = "<|endoftext|>"
_WORDS = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


@dataclass(frozen=True)
class TokenCount:
    tokens: int
    chunks: int

    @property
    def capacity(self) -> int:
        return self.chunks * CHUNK_TOKENS

    def __str__(self) -> str:
        return f"{self.tokens}/{self.capacity}"


@cache
def clip_tokenizer() -> Tokenizer:
    folder = clip_tokenizer_dir()
    vocab, merges = BPE.read_file(str(folder / "vocab.json"), str(folder / "merges.txt"))
    tokenizer = Tokenizer(
        BPE(
            vocab,
            merges,
            dropout=None,
            continuing_subword_prefix="",
            end_of_word_suffix="</w>",
            fuse_unk=False,
            unk_token=UNKNOWN,
        )
    )
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_WORDS), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    return tokenizer


def _tokenize(words: list[str]) -> list[list[int]]:
    return [encoding.ids for encoding in clip_tokenizer().encode_batch(words, add_special_tokens=False)]


def count_prompt_tokens(text: str) -> TokenCount:
    """Tokens of text (weights syntax and BREAK left out) and the 75-token chunks they fill.
    A prompt that cannot be read raises BadInput, as it would on Generate."""
    contents = chunk_contents(text, _tokenize, clip_tokenizer().token_to_id(",</w>"))
    return TokenCount(tokens=sum(len(chunk.ids) for chunk in contents), chunks=len(contents))
