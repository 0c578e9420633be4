"""Checks and counts for the prompt-morph job (`api.Morph`): frames that pass smoothly from one
prompt to the next. Nothing here imports torch."""

from __future__ import annotations

from sfumato.core.api import BadInput, Morph

PROMPT_SEPARATOR = "|"
MAX_FRAMES_PER_TRANSITION = 600
MAX_FRAMES = 5000
SEED_RANGE = 2**32

__all__ = ["Morph", "check_morph", "morph_frame_count", "morph_prompts"]


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
