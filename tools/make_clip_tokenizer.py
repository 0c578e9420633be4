"""Build the CLIP BPE tokenizer files that Sfumato ships in `resources/tokenizers/clip/`.

Stable Diffusion 1.x and 2.x both tokenize prompts with CLIP's byte-level BPE vocabulary (49,408 tokens).
OpenAI published it as `bpe_simple_vocab_16e6.txt.gz`; the open-clip-torch wheel on PyPI carries the same
file. This script turns it into the Hugging Face layout (`vocab.json`, `merges.txt`) that
`transformers.CLIPTokenizer` reads, and refreshes the copies in every `resources/configs/<id>/tokenizer/`.

To rerun (no need to install open-clip-torch; the wheel is only read as a zip archive):

    .venv/bin/pip download --no-deps open-clip-torch -d /tmp/oc
    .venv/bin/python tools/make_clip_tokenizer.py /tmp/oc/open_clip_torch-*.whl

The source may also be the extracted `bpe_simple_vocab_16e6.txt.gz`. The output is byte-for-byte
reproducible; the script refuses any source whose contents differ from CLIP's published file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "resources" / "tokenizers" / "clip"
CONFIGS_DIR = REPO_ROOT / "resources" / "configs"

BPE_MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"
# SHA-256 of the decompressed text, so the check does not depend on gzip headers.
BPE_TEXT_SHA256 = "67603cfda2e032ad77b5f8808af37789d590db664b26df8705d2bf8b3c553fc8"

VOCAB_SIZE = 49408
NUM_MERGES = 49152 - 256 - 2  # CLIP keeps this many merges; the rest of the file is unused
START_TOKEN = "<|startoftext|>"
END_TOKEN = "<|endoftext|>"


def byte_alphabet() -> list[str]:
    """The 256 printable stand-ins for byte values, in CLIP's order (which fixes the first 256 ids):
    bytes that are already printable map to themselves and come first, the others map to U+0100 onwards."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    others = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + n) for n in range(len(others))]


def read_bpe_text(source: Path) -> str:
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            data = wheel.read(BPE_MEMBER)
    else:
        data = source.read_bytes()
    return gzip.decompress(data).decode("utf-8")


def build(bpe_text: str) -> tuple[dict[str, int], list[str]]:
    """CLIP's vocabulary: the byte alphabet, the same with `</w>` (end of word), one token per merge,
    then the two special tokens."""
    lines = bpe_text.split("\n")
    merges = [" ".join(line.split()) for line in lines[1 : NUM_MERGES + 1]]
    alphabet = byte_alphabet()
    tokens = [*alphabet, *(c + "</w>" for c in alphabet), *(m.replace(" ", "") for m in merges)]
    tokens += [START_TOKEN, END_TOKEN]
    vocab = {token: i for i, token in enumerate(tokens)}
    if len(vocab) != VOCAB_SIZE or len(tokens) != VOCAB_SIZE:
        raise SystemExit(f"expected {VOCAB_SIZE} distinct tokens, got {len(vocab)} of {len(tokens)}")
    return vocab, merges


def write(folder: Path, vocab: dict[str, int], merges: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # One entry per line keeps the file readable and its diffs small.
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0) + "\n", "utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="open-clip-torch wheel or bpe_simple_vocab_16e6.txt.gz")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)

    text = read_bpe_text(args.source)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest != BPE_TEXT_SHA256:
        print(f"{args.source}: not CLIP's BPE file (sha256 {digest})", file=sys.stderr)
        return 1
    vocab, merges = build(text)
    write(args.out, vocab, merges)
    print(f"wrote {len(vocab)} tokens and {len(merges)} merges to {args.out}")
    if args.out == DEFAULT_OUT:
        for tokenizer_dir in sorted(CONFIGS_DIR.glob("*/tokenizer")):
            write(tokenizer_dir, vocab, merges)
            print(f"refreshed {tokenizer_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
