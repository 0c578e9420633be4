"""Outpainting: extend the image on any side; the new area is prefilled from the edges, repainted,
and blended across the seam, while the original pixels away from the seam stay bit-identical."""

from __future__ import annotations

import numpy as np

from sfumato.core.api import OUTPAINT_STRENGTH, Mode, Outpaint
from sfumato.core.imaging import extend_canvas
from sfumato.core.masks import composite, feather_mask
from sfumato.core.tasks.common import (
    Output,
    TaskContext,
    batch_seeds,
    check_common,
    check_image,
    check_strength,
    encode,
    make_recipe,
)
from sfumato.core.tasks.inpaint import repaint


def run(job: Outpaint, ctx: TaskContext) -> list[Output]:
    check_common(job)
    check_image(job.init, "The image to extend")
    strength = (
        job.strength if job.strength is not None else 1.0 if ctx.model.inpainting else OUTPAINT_STRENGTH
    )
    check_strength(strength)
    extended, new_area = extend_canvas(job.init, job.left, job.top, job.right, job.bottom)
    alpha = feather_mask(new_area, job.mask_blur)
    repaint_mask = np.where(alpha > 0, 255, 0).astype(np.uint8)
    height, width = extended.shape[:2]
    embeds = encode(ctx, job)
    outputs = []
    for index, seed in enumerate(batch_seeds(job)):
        generated = repaint(ctx, job, extended, repaint_mask, strength, seed, index, embeds)
        image = composite(extended, generated, alpha)
        recipe = make_recipe(
            ctx, job, Mode.OUTPAINT, seed, width, height, strength=strength, mask_blur=job.mask_blur,
            extras={"Outpaint": f"{job.left},{job.top},{job.right},{job.bottom}"},
        )  # fmt: skip
        outputs.append(ctx.deliver(Output(image, recipe)))
    return outputs
