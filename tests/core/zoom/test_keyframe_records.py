"""What a keyframe is recorded as made from: the zoom folder reuses a keyframe whose record is unchanged."""

from __future__ import annotations

from dataclasses import replace

from sfumato.core.zoom.keyframes import plan_keyframes
from sfumato.core.zoom.settings import ZoomSettings

SETTINGS = ZoomSettings(model="m", prompt="a forest", keyframes=2, seed=4)

# What the first zoom format recorded for SETTINGS; renders left unfinished then must still continue.
FIRST_FORMAT_RECORDS = [
    {"index": 0, "kind": "txt2img", "width": 512, "height": 512, "model": "m", "prompt": "a forest",
     "negative": "", "sampler": "Euler a", "steps": 20, "cfg": 7.0, "seed": 4},
    {"index": 1, "kind": "outpaint", "width": 512, "height": 512, "model": "m", "prompt": "a forest",
     "negative": "", "sampler": "Euler a", "steps": 20, "cfg": 7.0, "seed": 5, "direction": "out",
     "factor": 2.0, "strength": None, "mask_blur": 8},
]  # fmt: skip


def records(settings: ZoomSettings) -> list[dict[str, object]]:
    return [spec.record() for spec in plan_keyframes(settings, settings.seed, None)]


def test_settings_added_later_leave_earlier_records_unchanged_at_their_defaults() -> None:
    assert records(SETTINGS) == FIRST_FORMAT_RECORDS


def test_a_changed_clip_skip_changes_every_generated_keyframes_record() -> None:
    changed = records(replace(SETTINGS, clip_skip=2))

    assert [record.get("clip_skip") for record in changed] == [2, 2]
    assert all(new != old for new, old in zip(changed, FIRST_FORMAT_RECORDS, strict=True))
