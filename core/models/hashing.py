"""SHA-256 of model files, cached by path, size and modification time (hashing gigabytes is slow)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from sfumato.core.models.source import ModelSource, SourceKind
from sfumato.core.paths import cache_dir

_CHUNK = 8 * 1024 * 1024


def _cache_file() -> Path:
    return cache_dir() / "hashes.json"


def _load_cache() -> dict[str, dict[str, object]]:
    try:
        data = json.loads(_cache_file().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _store_cache(cache: dict[str, dict[str, object]]) -> None:
    target = _cache_file()
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(cache, indent=0), "utf-8")
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)  # a cache that cannot be written only costs time later


def file_sha256(path: Path) -> str:
    stat = path.stat()
    key = str(path.resolve())
    cache = _load_cache()
    entry = cache.get(key)
    if entry and entry.get("size") == stat.st_size and entry.get("mtime") == stat.st_mtime_ns:
        return str(entry["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(_CHUNK):
            digest.update(block)
    cache[key] = {"size": stat.st_size, "mtime": stat.st_mtime_ns, "sha256": digest.hexdigest()}
    _store_cache(cache)
    return digest.hexdigest()


def weights_file(source: ModelSource) -> Path:
    """The file whose hash identifies a model: the checkpoint itself, or a folder's UNet weights."""
    if source.kind is SourceKind.SINGLE_FILE:
        return source.path
    for name in ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"):
        candidate = source.path / "unet" / name
        if candidate.is_file():
            return candidate
    return source.path / "model_index.json"


def short_hash(source: ModelSource) -> str:
    """AUTOMATIC1111's model hash: the first 10 hex digits of the file's SHA-256."""
    return file_sha256(weights_file(source))[:10]
