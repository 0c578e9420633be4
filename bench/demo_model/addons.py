"""What the demo model's shipped add-ons teach it, and the prompts that check them.

The LoRA `demo-bar` teaches a shape the demo model never saw (a bar: as wide as a square of its size
and half as tall; the demo autoencoder cannot draw a small diamond or a colour outside its palette,
so those cannot be taught); the textual-inversion embedding `sfumato-emblem` names one scene that
otherwise takes a long prompt. The training tool (`tools/train_demo_addons.py`) and the quality
harness both read their world from here.
"""

from __future__ import annotations

from bench.demo_model.scenes import NEW_SHAPES, SHAPES, Scene, all_scenes, is_held_out

LORA_NAME = "demo-bar"
LORA_SHAPE = NEW_SHAPES[0]
EMBEDDING_NAME = "sfumato-emblem"
# The scene the embedding stands for: the long prompt it replaces is `caption(EMBLEM)`.
EMBLEM = Scene("black", "white", "triangle", "large", "centre")
# The evaluator tells every shape apart, old and new, when it checks add-ons.
ALL_SHAPES = (*SHAPES, *NEW_SHAPES)
# How prompts use the embedding's name; training sees the first two, evaluation all of them.
EMBEDDING_PROMPTS = ("{}", "a {}", "the {}", "an {}")
TRAINING_EMBEDDING_PROMPTS = EMBEDDING_PROMPTS[:2]


def lora_scenes(held_out: bool) -> list[Scene]:
    """Every scene of the LoRA's shape whose combination is (or is not) held out of its training."""
    return [scene for scene in all_scenes((LORA_SHAPE,)) if is_held_out(scene) == held_out]


def with_lora(prompt: str, weights: str = "1") -> str:
    """The prompt with the demo LoRA called in A1111's syntax: `weights` is one weight for both
    parts, or `TE:UNET`."""
    return f"{prompt} <lora:{LORA_NAME}:{weights}>"


def embedding_prompt(variant: int, name: str = EMBEDDING_NAME) -> str:
    return EMBEDDING_PROMPTS[variant % len(EMBEDDING_PROMPTS)].format(name)
