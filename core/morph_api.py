"""The prompt-morph job: frames that pass smoothly from one prompt to the next.

Plain data like `api`'s jobs; nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sfumato.core.api import BadInput, JobBase

PROMPT_SEPARATOR = "|"
MAX_FRAMES_PER_TRANSITION = 600
MAX_FRAMES = 5000
SEED_RANGE = 2**32


@dataclass(frozen=True, kw_only=True, eq=False)
class Morph(JobBase):
    """`prompt` lists the prompts to pass through, separated by "|" ("a cat | a dog | a horse").
    Each transition takes `frames` frames; the finished job has (prompts - 1) × frames + 1 images.

    `seeds`, one per prompt, morph the starting noise too; without them every frame starts from the
    job's seed, so only the prompt changes. `batch` must be 1."""

    seeds: tuple[int, ...] = ()
    frames: int = 12


def morph_prompts(text: str) -> list[str]:
    """The prompts of "a | b | c", each stripped of surrounding spaces."""
    return [part.strip() for part in text.split(PROMPT_SEPARATOR)]


def morph_frame_count(job: Morph) -> int:
    return (len(morph_prompts(job.prompt)) - 1) * job.frames + 1


def check_morph(job: Morph) -> None:
    """Refuse a morph that cannot be made, saying what to change."""
    prompts = morph_prompts(job.prompt)
    if len(prompts) < 2:
        raise BadInput('A morph needs at least two prompts separated by "|", like "a cat | a dog".')
    for number, prompt in enumerate(prompts, start=1):
        if not prompt:
            raise BadInput(
                f'Prompt {number} of the morph is empty: remove the extra "|" or write a prompt there.'
            )
    if job.seeds and len(job.seeds) != len(prompts):
        raise BadInput(
            f"The morph has {len(prompts)} prompts but {len(job.seeds)} seeds; give one seed per prompt, "
            "or none to use the same seed throughout."
        )
    for seed in job.seeds:
        if not 0 <= seed < SEED_RANGE:
            raise BadInput(f"Morph seeds must be between 0 and {SEED_RANGE - 1}; got {seed}.")
    if not 1 <= job.frames <= MAX_FRAMES_PER_TRANSITION:
        raise BadInput(
            f"Frames per transition must be between 1 and {MAX_FRAMES_PER_TRANSITION}; got {job.frames}."
        )
    if morph_frame_count(job) > MAX_FRAMES:
        raise BadInput(
            f"That morph would have {morph_frame_count(job)} frames, more than the {MAX_FRAMES} a morph "
            "can have; use fewer frames per transition or fewer prompts."
        )
    if job.batch != 1:
        raise BadInput("A morph makes one sequence of frames; its batch count must be 1.")
