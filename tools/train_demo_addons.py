"""Train the add-ons shipped with the demo model, on the CPU, in one seeded command.

    OMP_NUM_THREADS=2 .venv/bin/python -m tools.train_demo_addons

writes `resources/demo-addons/` (on a machine other jobs keep busy, OMP_NUM_THREADS=1 is several
times faster: two threads spend their time waiting for each other):

- `loras/demo-bar.safetensors`: a LoRA (kohya/A1111 format, UNet with LoCon convolutions and
  text encoder) that teaches the demo model a shape it never saw, the bar (as wide as a square of its
  size and half as tall). It learns from every bar scene whose colour × shape × position
  combination is not held out, mixed with half as many of the demo model's own training scenes, so
  the old shapes stay as they were;
- `embeddings/sfumato-emblem.safetensors`: a textual-inversion embedding (A1111 format, `emb_params`
  of shape (vectors, 64)) for one scene, a large white triangle in the centre on a black background,
  learned from jittered drawings of it with the model frozen;
- `training.json`: the recipe and the time it took.

Both train on the demo model's own latents with its training loss (`tools/train_demo_model.py`).
The LoRA teaches a bar because the demo autoencoder draws one back crisply at every size, while its
round trip turns a small diamond into a blob and every colour into one of its palette's.
"""

from __future__ import annotations

import json
import platform
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextModel, CLIPTokenizer

from bench.demo_model.addons import (
    EMBEDDING_NAME,
    EMBLEM,
    LORA_NAME,
    TRAINING_EMBEDDING_PROMPTS,
    lora_scenes,
)
from bench.demo_model.scenes import Scene, render
from sfumato.core.demo import demo_model_dir
from tools import lora_layers
from tools.train_demo_model import (
    CAPTION_VARIANTS,
    SIZE,
    build_scheduler,
    caption_table,
    command_line,
    draw_dataset,
    encode_latents,
    fit,
    noisy_batch,
    shape_focus,
    start_run,
    training_scenes,
    velocity_loss,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "resources" / "demo-addons"
SEED = 20251205
LORA_RANK = 8
# The share of the LoRA's training batches captioned with the empty prompt.
EMPTY_CAPTIONS = 0.1
# The words whose token embeddings the embedding's vectors start from: the scene, said shortly.
EMBEDDING_INIT = ("large", "white", "triangle", "centre", "black", "background")
EMBLEM_DRAWINGS = 32

UNET_LAYERS = ("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2", "proj_in", "proj_out")
TEXT_LAYERS = ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")
# kohya names text-encoder layers by their path in transformers 4, under `text_model`; transformers 5
# keeps them on the model itself.
TEXT_PREFIX = "lora_te_text_model"


def adapted(model: torch.nn.Module, suffixes: tuple[str, ...], resnets: bool = False) -> list[str]:
    """The names of the layers a LoRA adapts: those ending in `suffixes`, and with `resnets` the
    residual blocks' convolutions too (LoCon)."""
    names = []
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear | torch.nn.Conv2d):
            continue
        if name.endswith(suffixes) or (resnets and ".resnets." in name and name.endswith(("conv1", "conv2"))):
            names.append(name)
    return names


def load_demo() -> tuple[CLIPTokenizer, CLIPTextModel, AutoencoderKL, UNet2DConditionModel]:
    folder = demo_model_dir()
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(folder / "text_encoder")
    vae = AutoencoderKL.from_pretrained(folder / "vae")
    unet = UNet2DConditionModel.from_pretrained(folder / "unet")
    for model in (text_encoder, vae, unet):
        model.requires_grad_(False)
        model.eval()
    return tokenizer, text_encoder, vae, unet


def latents_of(vae: AutoencoderKL, images: np.ndarray) -> torch.Tensor:
    return encode_latents(vae, images) * float(vae.config.scaling_factor)


# ---- the LoRA -----------------------------------------------------------------------------------


def lora_training_scenes(rng: random.Random) -> list[Scene]:
    """Every bar scene not held out, and half as many of the demo model's own training scenes."""
    bars = lora_scenes(held_out=False)
    return bars + rng.sample(training_scenes(), len(bars) // 2)


def train_lora(steps: int, batch: int, lr: float, log: Any) -> tuple[dict[str, torch.Tensor], int]:
    """The LoRA's tensors in kohya format, and how many scenes it learned from."""
    tokenizer, text_encoder, vae, unet = load_demo()
    scenes = lora_training_scenes(random.Random(SEED))
    images = draw_dataset(scenes, np.random.default_rng(SEED))
    captions, empty_caption = caption_table(scenes, tokenizer)
    latents = latents_of(vae, images)
    focus = shape_focus(images, scenes)
    log(f"lora: {len(scenes)} scenes drawn and encoded")

    layers = {
        **lora_layers.attach(unet, "lora_unet", adapted(unet, UNET_LAYERS, resnets=True), LORA_RANK),
        **lora_layers.attach(text_encoder, TEXT_PREFIX, adapted(text_encoder, TEXT_LAYERS), LORA_RANK),
    }
    alphas_cumprod = build_scheduler().alphas_cumprod
    generator = torch.Generator().manual_seed(SEED + 1)

    def batch_loss(step: int) -> torch.Tensor:
        picks = torch.randint(0, len(latents), (batch,), generator=generator)
        t, noisy, velocity = noisy_batch(latents[picks], alphas_cumprod, generator)
        variants = torch.randint(0, CAPTION_VARIANTS, (batch,), generator=generator)
        # Empty captions too, as the demo model learned them: classifier-free guidance subtracts the
        # empty prompt's prediction, and a LoRA that never saw it would shift it, and every shape.
        dropped = torch.rand(batch, generator=generator) < EMPTY_CAPTIONS
        ids = torch.where(dropped[:, None], empty_caption[None, :], captions[picks, variants])
        hidden = text_encoder(ids)[0]
        return velocity_loss(unet(noisy, t, hidden).sample, velocity, focus[picks], t)

    fit("lora", lora_layers.parameters(layers), batch_loss, steps, lr, log)
    return lora_layers.kohya_state_dict(layers), len(scenes)


# ---- the embedding ------------------------------------------------------------------------------


class WithNewTokens(torch.nn.Module):
    """A token embedding that gives ids past the vocabulary's end the trainable `vectors`, as an
    engine does when it loads an embedding as new tokens."""

    def __init__(self, base: torch.nn.Embedding, vectors: torch.Tensor) -> None:
        super().__init__()
        self.base = base
        self.vectors = torch.nn.Parameter(vectors)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        known = self.base.num_embeddings
        embedded = self.base(ids.clamp(max=known - 1))
        new = self.vectors[(ids - known).clamp(0, len(self.vectors) - 1)]
        return torch.where((ids < known)[..., None], embedded, new)


def embedding_ids(tokenizer: CLIPTokenizer, template: str, first_new_id: int, vectors: int) -> list[int]:
    """Token ids of a prompt template with the embedding's vectors where its name stands."""
    before, after = template.split("{}")

    def words(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False).input_ids if text.strip() else []

    new = range(first_new_id, first_new_id + vectors)
    ids = [tokenizer.bos_token_id, *words(before), *new, *words(after)]
    length = int(tokenizer.model_max_length)
    return [*ids, *[tokenizer.eos_token_id] * (length - len(ids))]


def train_embedding(steps: int, batch: int, log: Any) -> torch.Tensor:
    """The embedding's vectors (n, width), learned with everything else frozen."""
    tokenizer, text_encoder, vae, unet = load_demo()
    rng = np.random.default_rng(SEED + 2)
    images = np.stack(
        [
            render(EMBLEM, SIZE, SIZE, jitter=(*rng.uniform(-0.03, 0.03, 2), rng.uniform(-0.06, 0.06)))
            for _ in range(EMBLEM_DRAWINGS)
        ]
    )
    images = images.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0
    latents = latents_of(vae, images)
    focus = shape_focus(images, [EMBLEM] * len(images))

    embeddings = text_encoder.get_input_embeddings()
    assert isinstance(embeddings, torch.nn.Embedding)
    start = [tokenizer.convert_tokens_to_ids(f"{word}</w>") for word in EMBEDDING_INIT]
    token_embedding = WithNewTokens(embeddings, embeddings.weight[start].detach().clone())
    text_encoder.set_input_embeddings(token_embedding)
    first_new = embeddings.num_embeddings
    prompts = torch.tensor(
        [embedding_ids(tokenizer, t, first_new, len(start)) for t in TRAINING_EMBEDDING_PROMPTS]
    )
    alphas_cumprod = build_scheduler().alphas_cumprod
    generator = torch.Generator().manual_seed(SEED + 3)

    def batch_loss(step: int) -> torch.Tensor:
        picks = torch.randint(0, len(latents), (batch,), generator=generator)
        t, noisy, velocity = noisy_batch(latents[picks], alphas_cumprod, generator)
        ids = prompts[torch.randint(0, len(prompts), (batch,), generator=generator)]
        hidden = text_encoder(ids)[0]
        return velocity_loss(unet(noisy, t, hidden).sample, velocity, focus[picks], t)

    fit("embedding", [token_embedding.vectors], batch_loss, steps, 5e-3, log)
    return token_embedding.vectors.detach().clone().contiguous()


# ---- the command --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__, DEFAULT_OUT, "where to write the add-ons")
    parser.add_argument("--lora-steps", type=int, default=1800)
    parser.add_argument("--embedding-steps", type=int, default=100)
    parser.add_argument("--lora-lr", type=float, default=2e-3, help="the LoRA's peak learning rate")
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args(argv)

    threads, started, log = start_run(SEED)

    base = {"base_model": "sfumato demo", "seed": str(SEED)}
    (args.out / "loras").mkdir(parents=True, exist_ok=True)
    (args.out / "embeddings").mkdir(parents=True, exist_ok=True)
    vectors = train_embedding(args.embedding_steps, args.batch, log)
    save_file(
        {"emb_params": vectors},
        args.out / "embeddings" / f"{EMBEDDING_NAME}.safetensors",
        metadata=base | {"name": EMBEDDING_NAME, "step": str(args.embedding_steps)},
    )
    log("embedding written")
    lora, lora_scene_count = train_lora(args.lora_steps, args.batch, args.lora_lr, log)
    save_file(
        lora,
        args.out / "loras" / f"{LORA_NAME}.safetensors",
        metadata=base | {"ss_network_module": "networks.lora", "ss_network_dim": str(LORA_RANK),
                         "ss_network_alpha": str(LORA_RANK)},
    )  # fmt: skip
    usage = resource.getrusage(resource.RUSAGE_SELF)
    record = {
        "command": f"OMP_NUM_THREADS={threads} python -m tools.train_demo_addons "
        + " ".join(argv or sys.argv[1:]),
        "seed": SEED,
        "lora_rank": LORA_RANK,
        "lora_steps": args.lora_steps,
        "lora_learning_rate": args.lora_lr,
        "lora_training_scenes": lora_scene_count,
        "lora_empty_captions": EMPTY_CAPTIONS,
        "embedding_vectors": len(vectors),
        "embedding_steps": args.embedding_steps,
        "batch": args.batch,
        "wall_seconds": round(time.time() - started, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "torch_threads": threads,
        "torch": torch.__version__,
        "machine": platform.machine(),
    }
    (args.out / "training.json").write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    log(f"written to {args.out} ({record['wall_seconds']} s wall, {record['cpu_seconds']} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
