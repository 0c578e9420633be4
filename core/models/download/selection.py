"""Which files of a hub repository a diffusers Stable Diffusion pipeline (or a TAESD decoder) needs.

Model repositories carry a lot that the pipeline never reads: single-file checkpoints next to the
diffusers folders, the same weights as .bin/.ckpt/.msgpack/.onnx, EMA and half-precision variants,
the safety checker. Downloading only what `from_pretrained` loads saves gigabytes, and taking weights
only as .safetensors means nothing downloaded can run code when it is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from sfumato.core.models.hub_cache import (
    MODEL_CONFIG,
    MODEL_INDEX,
    SINGLE_MODEL_CLASSES,
    SINGLE_MODEL_WEIGHTS,
    SKIPPED_COMPONENTS,
    is_safe_repo_path,
)
from sfumato.core.models.hub_errors import NoSafetensors, NotADiffusersPipeline, unsafe_file_name

FP16 = "fp16"
WEIGHT_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".ckpt",
    ".pt",
    ".pth",
    ".onnx",
    ".onnx_data",
    ".msgpack",
    ".h5",
    ".pb",
    ".gguf",
)
CONFIG_SUFFIXES = (".json", ".txt", ".model")
_PIPELINE_CLASS = re.compile(r"StableDiffusion\w*Pipeline")
_SHARD = re.compile(r"-\d{5}-of-\d{5}$")
# e.g. diffusion_pytorch_model.safetensors.index.json, ...safetensors.index.fp16.json
_WEIGHT_INDEX = re.compile(r"[^.]+\.(?P<format>\w+)\.index(?:\.(?P<variant>[\w-]+))?\.json")


def is_weight_file(path: str) -> bool:
    return path.endswith(WEIGHT_SUFFIXES)


def pipeline_components(repo_id: str, model_index: object) -> list[str]:
    """The folders `from_pretrained` loads, from model_index.json (parts set to null are left out)."""
    if not isinstance(model_index, dict):
        raise NotADiffusersPipeline(
            f"The model_index.json of “{repo_id}” is not a diffusers pipeline description."
        )
    class_name = model_index.get("_class_name")
    if not isinstance(class_name, str) or not _PIPELINE_CLASS.fullmatch(class_name):
        raise NotADiffusersPipeline(
            f"“{repo_id}” is {_model_kind(class_name)}, not a Stable Diffusion pipeline, "
            "so Sfumato can't use it."
        )
    components = []
    for name, value in model_index.items():
        if name.startswith("_") or name in SKIPPED_COMPONENTS:
            continue
        if isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value):
            if "/" in name or not is_safe_repo_path(name):
                raise unsafe_file_name(repo_id, name)
            components.append(name)
    return components


def select_pipeline_files(
    repo_id: str, model_index: object, repo_files: Collection[str], *, fp16: bool = False
) -> list[str]:
    """The repo paths to download, model_index.json included."""
    by_folder: dict[str, list[str]] = {}
    for path in repo_files:
        folder, _, name = path.partition("/")
        if name and "/" not in name:
            by_folder.setdefault(folder, []).append(name)

    selected = [MODEL_INDEX]
    for component in pipeline_components(repo_id, model_index):
        names = by_folder.get(component)
        if not names:
            raise NotADiffusersPipeline(
                f"The model_index.json of “{repo_id}” names a “{component}” part, but the repository has "
                f"no {component}/ folder, so the model is incomplete."
            )
        selected += [f"{component}/{name}" for name in _component_files(repo_id, component, names, fp16)]
    return selected


def select_single_model_files(
    repo_id: str, config: object, repo_files: Collection[str], *, fp16: bool = False
) -> list[str]:
    """The repo paths of a single diffusers model the engine uses on its own (the TAESD preview decoder).

    Only config.json and its diffusers weights are taken; other decoder files in the repository are not.
    """
    class_name = config.get("_class_name") if isinstance(config, dict) else None
    if class_name not in SINGLE_MODEL_CLASSES:
        raise NotADiffusersPipeline(
            f"“{repo_id}” is {_model_kind(class_name)}, not a Stable Diffusion pipeline or a "
            "preview decoder, so Sfumato can't use it."
        )
    names = [
        path
        for path in repo_files
        if path == MODEL_CONFIG or (path.startswith(f"{SINGLE_MODEL_WEIGHTS}.") and "/" not in path)
    ]
    files = _component_files(repo_id, "decoder", names, fp16)
    if not any(is_weight_file(name) for name in files):
        raise NotADiffusersPipeline(
            f"“{repo_id}” has no {SINGLE_MODEL_WEIGHTS}.safetensors, so the model is incomplete."
        )
    return files


def _model_kind(class_name: object) -> str:
    """How the repository's own description names its model (it may name nothing usable)."""
    if isinstance(class_name, str) and class_name.isidentifier() and len(class_name) <= 100:
        return f"a {class_name} model"
    return "a model of an unknown kind"


def not_a_pipeline(repo_id: str, repo_files: Collection[str]) -> NotADiffusersPipeline:
    single_files = sorted(path for path in repo_files if "/" not in path and is_weight_file(path))
    message = (
        f"“{repo_id}” is not a Stable Diffusion model in diffusers format: it has no model_index.json "
        "(Sfumato downloads models whose parts sit in folders such as unet/, vae/ and text_encoder/)."
    )
    if single_files:
        message += f" It only has single-file checkpoints ({', '.join(single_files[:3])})."
    return NotADiffusersPipeline(message)


def _component_files(repo_id: str, component: str, names: list[str], fp16: bool) -> list[str]:
    configs = [name for name in names if name.endswith(CONFIG_SUFFIXES) and not _WEIGHT_INDEX.fullmatch(name)]
    weights = [name for name in names if is_weight_file(name)]
    if not weights:
        return sorted(configs)
    safetensors = [name for name in weights if name.endswith(".safetensors")]
    if not safetensors:
        formats = ", ".join(sorted({name.rsplit(".", 1)[-1] for name in weights}))
        raise NoSafetensors(
            f"The “{component}” part of “{repo_id}” is only available as .{formats} files, which can run "
            "hidden code when loaded. Sfumato only downloads .safetensors weights; look for a version of "
            "this model that has them."
        )
    variant = _pick_variant({_variant(name) for name in safetensors}, FP16 if fp16 else None)
    chosen = [name for name in safetensors if _variant(name) == variant]
    indexes = [name for name in names if _is_safetensors_index(name, variant)]
    return sorted(configs) + sorted(indexes) + sorted(chosen)


def _variant(weight_name: str) -> str | None:
    stem = _SHARD.sub("", weight_name.removesuffix(".safetensors"))
    _, _, variant = stem.partition(".")
    return variant or None


def _pick_variant(available: set[str | None], wanted: str | None) -> str | None:
    for candidate in (wanted, None, FP16):
        if candidate in available:
            return candidate
    return sorted(variant for variant in available if variant is not None)[0]


def _is_safetensors_index(name: str, variant: str | None) -> bool:
    match = _WEIGHT_INDEX.fullmatch(name)
    return match is not None and match["format"] == "safetensors" and match["variant"] == variant
