"""Loading pipelines onto the device, keeping the last one so consecutive jobs reuse its weights."""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from typing import Any

from diffusers import StableDiffusionPipeline

from sfumato.core.api import ModelInvalid, ModelNotFound, SfumatoError
from sfumato.core.devices import DeviceChoice, release_memory
from sfumato.core.memory_tiers import MemoryTier
from sfumato.core.models.acceleration import DEFAULT, accelerate, check_speed
from sfumato.core.models.hashing import short_hash
from sfumato.core.models.hub_cache import MODEL_CONFIG, MODEL_INDEX
from sfumato.core.models.source import ModelSource, SourceKind, installed_snapshot, resolve_model
from sfumato.core.models.vae_precision import prepare_vae
from sfumato.core.previews import LatentPreviewer, Previewer, TinyDecoderPreviewer

log = logging.getLogger(__name__)

_REQUIRED_COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
TAESD_REPO = "madebyollin/taesd"


@dataclass
class LoadedModel:
    source: ModelSource
    hash: str
    components: dict[str, Any]
    previewer: Previewer
    addon_weights: dict[Any, Any] = field(default_factory=dict)  # LoRAs and embeddings read for it
    memory_tier: MemoryTier = MemoryTier.HIGH  # what `memory_setup.apply_tier` last set up
    attention_processors: dict[str, Any] | None = None  # the UNet's own, while attention is sliced
    _pipelines: dict[type, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def inpainting(self) -> bool:
        return int(self.components["unet"].config.in_channels) == 9

    @property
    def vae_scale_factor(self) -> int:
        return int(2 ** (len(self.components["vae"].config.block_out_channels) - 1))

    @property
    def native_size(self) -> int:
        return int(self.components["unet"].config.sample_size) * self.vae_scale_factor

    def pipeline(self, kind: type) -> Any:
        """A txt2img/img2img/inpaint pipeline sharing this model's weights (built once, no copies)."""
        if kind not in self._pipelines:
            self._pipelines[kind] = kind(**self.components, requires_safety_checker=False)
            self._pipelines[kind].set_progress_bar_config(disable=True)
        return self._pipelines[kind]


def _load_folder(source: ModelSource, choice: DeviceChoice) -> Any:
    if not (source.path / MODEL_INDEX).is_file() and (source.path / MODEL_CONFIG).is_file():
        raise ModelInvalid(
            f"'{source.name}' is a preview decoder: it makes the live previews sharper, but it cannot "
            "make pictures itself. Choose a Stable Diffusion model to generate with."
        )
    try:
        return StableDiffusionPipeline.from_pretrained(
            source.path,
            dtype=choice.dtype,
            variant=source.variant,
            local_files_only=True,
            use_safetensors=True,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
    except (OSError, ValueError, KeyError, RuntimeError, TypeError, AttributeError) as error:
        raise ModelInvalid(
            f"The model folder '{source.path}' could not be loaded: {error}. "
            "It may be incomplete, not a Stable Diffusion 1.x/2.x model, or have only pickle (.bin) weights."
        ) from error


def _load_single_file(source: ModelSource, choice: DeviceChoice) -> Any:
    from sfumato.core.models.single_file import load_single_file

    return load_single_file(source.path, torch_dtype=choice.dtype)


def load_model(source: ModelSource, choice: DeviceChoice, speed: str = DEFAULT) -> LoadedModel:
    pipe = (
        _load_folder(source, choice)
        if source.kind is SourceKind.FOLDER
        else _load_single_file(source, choice)
    )
    components = {
        name: component for name, component in pipe.components.items() if name in _REQUIRED_COMPONENTS
    }
    missing = [name for name in _REQUIRED_COMPONENTS if components.get(name) is None]
    if missing:
        raise ModelInvalid(
            f"The model '{source.name}' lacks parts a Stable Diffusion model needs: {', '.join(missing)}."
        )
    for module in ("unet", "vae", "text_encoder"):
        components[module].to(choice.device)
    accelerate(components, choice.device, speed)
    prepare_vae(components["vae"])
    components.update(safety_checker=None, feature_extractor=None)
    return LoadedModel(
        source=source,
        hash=short_hash(source),
        components=components,
        previewer=_previewer(components["vae"], choice),
    )


def _previewer(vae: Any, choice: DeviceChoice) -> Previewer:
    """TAESD's full-size previews when it is installed and fits the model, the linear ones otherwise."""
    decoder = _tiny_decoder(vae, choice)
    return TinyDecoderPreviewer(decoder) if decoder is not None else LatentPreviewer.fit(vae)


def _tiny_decoder(vae: Any, choice: DeviceChoice) -> Any | None:
    if int(vae.config.latent_channels) != 4:  # TAESD decodes SD 1.x/2.x latents only
        return None
    from diffusers import AutoencoderTiny

    try:
        snapshot = installed_snapshot(TAESD_REPO)
        decoder = AutoencoderTiny.from_pretrained(snapshot, local_files_only=True, dtype=choice.dtype)
        return decoder.to(choice.device).eval()
    except ModelNotFound:
        log.info("TAESD is not installed; live previews use the simple colour map")
    except Exception as error:  # a damaged download must never stop the model from loading
        log.warning("TAESD could not be loaded (%s); live previews use the simple colour map", error)
    return None


class ModelCache:
    """Holds the most recently used model; loading another one releases it first."""

    def __init__(self, choice: DeviceChoice, speed: str = DEFAULT) -> None:
        self.choice = choice
        self.speed = check_speed(speed)
        self._current: LoadedModel | None = None

    def is_loaded(self, reference: str) -> bool:
        try:
            source = resolve_model(reference)
        except SfumatoError:
            return False
        return self._current is not None and self._current.source == source

    def get(self, reference: str) -> LoadedModel:
        source = resolve_model(reference)
        if self._current is not None and self._current.source == source:
            return self._current
        self.release()
        log.info("loading model %s", source.path)
        self._current = load_model(source, self.choice, self.speed)
        return self._current

    def release(self) -> None:
        self._current = None
        gc.collect()
        release_memory(self.choice.device)
