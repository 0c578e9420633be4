"""Train Sfumato's built-in demo model from procedurally drawn scenes, on the CPU, in one command.

    OMP_NUM_THREADS=2 .venv/bin/python -m tools.train_demo_model

writes `resources/demo-model/`: a Stable Diffusion-style pipeline in the diffusers layout (UNet with
cross-attention, AutoencoderKL, CLIP text encoder with a word-level vocabulary made here, a cosine
noise schedule with velocity prediction), safetensors weights, and `training.json` with the recipe
and the time it took.
Everything is seeded, so the same command on the same torch version gives the same weights.

Stages: the autoencoder first (on crops of scenes), then the latents of every training scene are
cached and the UNet and text encoder learn together on them, with 10% of the captions dropped so
classifier-free guidance works. Colour × shape × position combinations that `is_held_out` marks never
appear in training, so the quality harness can test on captions the model has not seen.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from bench.demo_model.scenes import COLOURS, Scene, all_scenes, caption, is_held_out, render
from sfumato.core.prompts import prompt_chunks
from tools.word_tokenizer import write_word_tokenizer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "resources" / "demo-model"
SEED = 20240611
SIZE = 64
TEXT_DIM = 64
CAPTION_VARIANTS = 15
NUM_TRAIN_TIMESTEPS = 1000
PURE_NOISE_SHARE = 0.2

# Words the captions use get whole-word tokens; anything else still tokenizes letter by letter.
VOCABULARY = (
    *("a", "an", "the", "with", "on", "in", "at", "of", "and", ","),
    *("plain", "empty", "background", "small", "large", "shape"),
    *("top", "bottom", "left", "right", "centre", "center", "middle", "corner", "side"),
    *("circle", "square", "triangle"),
    *COLOURS,
)


# ---- the pipeline's parts -----------------------------------------------------------------------


def build_tokenizer(folder: Path) -> CLIPTokenizer:
    """A CLIP BPE tokenizer whose merges spell out exactly the caption vocabulary."""
    write_word_tokenizer(folder, VOCABULARY)
    return CLIPTokenizer.from_pretrained(folder, pad_token="<|endoftext|>", model_max_length=77)


def build_text_encoder(vocab_size: int) -> CLIPTextModel:
    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=TEXT_DIM,
            intermediate_size=128,
            num_attention_heads=4,
            num_hidden_layers=2,
            max_position_embeddings=77,
            projection_dim=TEXT_DIM,
            bos_token_id=vocab_size - 2,
            eos_token_id=vocab_size - 1,
            pad_token_id=vocab_size - 1,
        )
    )


def build_vae() -> AutoencoderKL:
    # Two downsamplings: 64 px images become 16×16×4 latents. Narrower than this, the decoder blurs
    # small shapes into the wrong kind or colour; this width reconstructs 98% of held-out scenes.
    return AutoencoderKL(
        sample_size=SIZE,
        block_out_channels=(32, 64, 64),
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=8,
        mid_block_add_attention=False,
    )


def build_unet() -> UNet2DConditionModel:
    # Convolutions know where they are only from the zero padding at the picture's edges; a 9×9
    # first layer lets every latent near the edge see it, and the position words are learned
    # twice as fast as with 3×3 (measured on the layout predicted from pure noise).
    return UNet2DConditionModel(
        sample_size=SIZE // 4,
        conv_in_kernel=9,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=8,
        norm_num_groups=8,
    )


def build_scheduler() -> PNDMScheduler:
    # The cosine schedule ends in pure noise, so the first sampling step has nothing but the prompt
    # to go on; with SD's schedule the last step still shows the picture's layout faintly, the model
    # learns to read it there, and at generation time takes the layout from the random noise
    # instead of the prompt. Pure noise at the end needs velocity prediction, and trailing spacing
    # so that every sampler starts from it.
    # clip_sample is not PNDM's own option; it is written down for the samplers built from this
    # config (DDIM would otherwise clip the latents to [-1, 1]).
    return PNDMScheduler.from_config(
        {
            "beta_schedule": "squaredcos_cap_v2",
            "num_train_timesteps": NUM_TRAIN_TIMESTEPS,
            "set_alpha_to_one": False,
            "skip_prk_steps": True,
            "steps_offset": 1,
            "prediction_type": "v_prediction",
            "timestep_spacing": "trailing",
            "clip_sample": False,
        }
    )


# ---- data ---------------------------------------------------------------------------------------


def training_scenes() -> list[Scene]:
    """Every scene whose combination is not held out, plus empty backgrounds (about 2% of the set)."""
    scenes = [scene for scene in all_scenes() if not is_held_out(scene)]
    empties = [Scene(background) for background in COLOURS] * 10
    return scenes + empties


def draw_dataset(scenes: list[Scene], rng: np.random.Generator) -> np.ndarray:
    """One slightly jittered drawing of each scene, as float32 (N, 3, 64, 64) in [-1, 1]."""
    images = np.empty((len(scenes), SIZE, SIZE, 3), np.uint8)
    for index, scene in enumerate(scenes):
        jitter = (*rng.uniform(-0.03, 0.03, 2), rng.uniform(-0.06, 0.06))
        images[index] = render(scene, SIZE, SIZE, jitter=tuple(jitter))
    return images.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0


def caption_table(scenes: list[Scene], tokenizer: CLIPTokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (N, variants, 77) of every wording of every scene's caption, and of the empty prompt,
    made exactly as the engine makes them."""
    cache: dict[str, list[int]] = {}

    def ids(text: str) -> list[int]:
        if text not in cache:
            cache[text] = prompt_chunks(tokenizer, text)[0].ids
        return cache[text]

    table = torch.tensor(
        [[ids(caption(scene, variant)) for variant in range(CAPTION_VARIANTS)] for scene in scenes]
    )
    return table, torch.tensor(ids(""))


# ---- training -----------------------------------------------------------------------------------


def learning_rate(step: int, steps: int, peak: float, warmup: int = 50) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def set_lr(optimizer: torch.optim.Optimizer, value: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = value


def train_vae(vae: AutoencoderKL, images: np.ndarray, steps: int, batch: int, log: Any) -> None:
    """Reconstruction (L1 + MSE) with a light KL term, on 32 px crops: plain scenes are all edges
    and flat colour, so crops teach the same as whole images at a quarter of the cost."""
    optimizer = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)
    generator = np.random.default_rng(SEED + 1)
    crop = SIZE // 2
    vae.train()
    for step in range(steps):
        set_lr(optimizer, learning_rate(step, steps, 2e-3))
        picks = generator.integers(0, len(images), batch)
        x0, y0 = generator.integers(0, SIZE - crop + 1, 2)
        x = torch.from_numpy(images[picks, :, y0 : y0 + crop, x0 : x0 + crop])
        posterior = vae.encode(x).latent_dist
        recon = vae.decode(posterior.sample()).sample
        loss = (recon - x).abs().mean() + (recon - x).pow(2).mean() + 1e-6 * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == steps - 1:
            log(f"vae step {step}/{steps} loss {loss.item():.4f}")
    vae.eval()


def shape_focus(images: np.ndarray, scenes: list[Scene], weight: float = 4.0) -> torch.Tensor:
    """Per-latent loss weights (N, 1, 16, 16): 1 on background, 1 + `weight` on the shape and the
    ring of latents around it.

    The shape covers a few percent of the picture, so with a plain loss the background colour is
    learned long before the words about the shape; weighting its latents evens that out. The ring
    matters: weighting only the shape's own latents makes a miss inside the edge cost more than one
    outside it, and the model learns to draw every shape a size too big."""
    backgrounds = np.array([COLOURS[scene.background] for scene in scenes], np.float32) / 127.5 - 1.0
    differs = np.abs(images - backgrounds[:, :, None, None]).max(axis=1, keepdims=True) > 0.2
    pooled = torch.nn.functional.max_pool2d(torch.from_numpy(differs.astype(np.float32)), 4)
    ringed = torch.nn.functional.max_pool2d(pooled, 3, stride=1, padding=1)
    return 1.0 + weight * ringed


@torch.no_grad()
def encode_latents(vae: AutoencoderKL, images: np.ndarray) -> torch.Tensor:
    chunks = [
        vae.encode(torch.from_numpy(images[start : start + 256])).latent_dist.mean
        for start in range(0, len(images), 256)
    ]
    return torch.cat(chunks)


class Ema:
    """Exponential moving average of weights, with the usual warm-up of the decay."""

    def __init__(self, modules: list[torch.nn.Module]) -> None:
        self.params = [p for m in modules for p in m.parameters()]
        self.shadow = [p.detach().clone() for p in self.params]
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        decay = min(0.999, (1 + self.updates) / (10 + self.updates))
        for shadow, param in zip(self.shadow, self.params, strict=True):
            shadow.lerp_(param.detach(), 1 - decay)

    @torch.no_grad()
    def copy_to_model(self) -> None:
        for shadow, param in zip(self.shadow, self.params, strict=True):
            param.copy_(shadow)


def loss_weights(snr: torch.Tensor, cap: float = 5.0) -> torch.Tensor:
    """Per-timestep weights on the velocity loss that make it, in terms of the clean latents,
    min(1 + SNR, cap).

    Where the picture is laid out (high noise, SNR near 0) min-SNR weighting would give the clean
    image almost no weight, and the model never learns where things go; this keeps it at 1 there and
    caps the nearly-clean steps, which are easy, at `cap`."""
    return torch.clamp(1 + snr, max=cap) / (1 + snr)


@functools.cache
def timestep_weights() -> torch.Tensor:
    alphas_cumprod = build_scheduler().alphas_cumprod
    return loss_weights(alphas_cumprod / (1 - alphas_cumprod))


def training_timesteps(batch: int, generator: torch.Generator) -> torch.Tensor:
    """Uniform timesteps, except that a `PURE_NOISE_SHARE` of the batch comes from the last 2%, where
    nothing of the picture is left: there the layout must come from the prompt alone, and sampling
    starts there, but a uniform draw would visit it too rarely to learn it."""
    t = torch.randint(0, NUM_TRAIN_TIMESTEPS, (batch,), generator=generator)
    last = torch.randint(NUM_TRAIN_TIMESTEPS * 49 // 50, NUM_TRAIN_TIMESTEPS, (batch,), generator=generator)
    return torch.where(torch.rand(batch, generator=generator) < PURE_NOISE_SHARE, last, t)


def noisy_batch(
    x0: torch.Tensor, alphas_cumprod: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Timesteps (see `training_timesteps`), the latents noised to them with a little offset noise (so
    the mean of the starting noise is not read as the background colour), and the velocity to
    predict."""
    batch = len(x0)
    t = training_timesteps(batch, generator)
    noise = torch.randn(x0.shape, generator=generator)
    noise += 0.1 * torch.randn((batch, x0.shape[1], 1, 1), generator=generator)
    signal = alphas_cumprod[t].sqrt().view(-1, 1, 1, 1)
    sigma = (1 - alphas_cumprod[t]).sqrt().view(-1, 1, 1, 1)
    return t, signal * x0 + sigma * noise, signal * noise - sigma * x0


def velocity_loss(
    predicted: torch.Tensor, velocity: torch.Tensor, focus: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """The squared error weighted per latent by `focus` (see `shape_focus`) and per timestep by
    `loss_weights`."""
    per_sample = ((predicted - velocity).pow(2) * focus).mean(dim=(1, 2, 3)) / focus.mean(dim=(1, 2, 3))
    return (per_sample * timestep_weights()[t]).mean()


def fit(
    name: str,
    parameters: list[torch.nn.Parameter],
    batch_loss: Callable[[int], torch.Tensor],
    steps: int,
    peak_lr: float,
    log: Any,
    after_step: Callable[[], None] = lambda: None,
) -> None:
    """AdamW with warm-up and cosine decay, gradients clipped to norm 1, a running loss in the log."""
    optimizer = torch.optim.AdamW(parameters, lr=peak_lr, weight_decay=0.01)
    running = 0.0
    for step in range(steps):
        set_lr(optimizer, learning_rate(step, steps, peak_lr))
        loss = batch_loss(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        after_step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % 50 == 0 or step == steps - 1:
            log(f"{name} step {step}/{steps} loss {running:.4f}")


def train_unet(
    unet: UNet2DConditionModel,
    text_encoder: CLIPTextModel,
    latents: torch.Tensor,
    focus: torch.Tensor,
    captions: torch.Tensor,
    empty_caption: torch.Tensor,
    steps: int,
    batch: int,
    log: Any,
) -> None:
    """Velocity prediction on the cosine noise schedule, weighted so every noise level counts at least as
    much as the clean image it hides (see `loss_weights`), with more weight on the shape's latents
    and 10% empty captions for classifier-free guidance."""
    alphas_cumprod = build_scheduler().alphas_cumprod
    ema = Ema([unet, text_encoder])
    generator = torch.Generator().manual_seed(SEED + 2)
    unet.train()
    text_encoder.train()

    def batch_loss(step: int) -> torch.Tensor:
        picks = torch.randint(0, len(latents), (batch,), generator=generator)
        t, noisy, velocity = noisy_batch(latents[picks], alphas_cumprod, generator)
        variants = torch.randint(0, CAPTION_VARIANTS, (batch,), generator=generator)
        ids = captions[picks, variants]
        dropped = torch.rand(batch, generator=generator) < 0.1
        ids = torch.where(dropped[:, None], empty_caption[None, :], ids)
        hidden = text_encoder(ids)[0]
        return velocity_loss(unet(noisy, t, hidden).sample, velocity, focus[picks], t)

    parameters = [*unet.parameters(), *text_encoder.parameters()]
    fit("unet", parameters, batch_loss, steps, 1e-3, log, ema.update)
    ema.copy_to_model()
    unet.eval()
    text_encoder.eval()


# ---- the command --------------------------------------------------------------------------------


def command_line(doc: str | None, out: Path, out_help: str) -> argparse.ArgumentParser:
    """A training command's arguments: its docstring as the help, and `--out`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=out, help=out_help)
    return parser


def start_run(seed: int) -> tuple[int, float, Callable[[str], None]]:
    """Seed torch and `random`, take torch's thread count from OMP_NUM_THREADS; returns the thread
    count, the start time and a log that prints the seconds since then."""
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)
    started = time.time()

    def log(message: str) -> None:
        print(f"[{time.time() - started:7.1f}s] {message}", flush=True)

    return threads, started, log


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__, DEFAULT_OUT, "where to write the model folder")
    parser.add_argument("--vae-steps", type=int, default=2000)
    parser.add_argument("--vae-batch", type=int, default=32)
    parser.add_argument("--unet-steps", type=int, default=12000)
    parser.add_argument("--unet-batch", type=int, default=32)
    args = parser.parse_args(argv)

    threads, started, log = start_run(SEED)

    with tempfile.TemporaryDirectory(prefix="sfumato-demo-") as scratch:
        tokenizer = build_tokenizer(Path(scratch) / "tokenizer")
        text_encoder = build_text_encoder(len(tokenizer))
        vae = build_vae()
        unet = build_unet()

        scenes = training_scenes()
        images = draw_dataset(scenes, np.random.default_rng(SEED))
        captions, empty_caption = caption_table(scenes, tokenizer)
        log(f"{len(scenes)} training scenes drawn")

        train_vae(vae, images, args.vae_steps, args.vae_batch, log)
        latents = encode_latents(vae, images)
        scaling = float(1.0 / latents.std())
        vae.register_to_config(scaling_factor=scaling)
        log(f"latents cached, scaling factor {scaling:.4f}")

        train_unet(
            unet,
            text_encoder,
            latents * scaling,
            shape_focus(images, scenes),
            captions,
            empty_caption,
            args.unet_steps,
            args.unet_batch,
            log,
        )

        pipeline = StableDiffusionPipeline(
            vae=vae,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            unet=unet,
            scheduler=build_scheduler(),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        staging = Path(scratch) / "model"
        pipeline.save_pretrained(staging, safe_serialization=True)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        record = {
            "command": "OMP_NUM_THREADS=2 python -m tools.train_demo_model " + " ".join(argv or sys.argv[1:]),
            "seed": SEED,
            "vae_steps": args.vae_steps,
            "unet_steps": args.unet_steps,
            "training_scenes": len(scenes),
            "wall_seconds": round(time.time() - started, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "torch_threads": threads,
            "torch": torch.__version__,
            "machine": platform.machine(),
        }
        (staging / "training.json").write_text(json.dumps(record, indent=2) + "\n", "utf-8")
        args.out.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            target = args.out / item.name
            if target.is_dir():
                shutil.rmtree(target)
            shutil.move(str(item), target)
    log(f"written to {args.out} ({record['wall_seconds']} s wall, {record['cpu_seconds']} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
