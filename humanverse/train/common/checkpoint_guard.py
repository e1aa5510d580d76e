"""Make diffusers' standard classes refuse our checkpoint folders loudly instead of loading them wrong.

`ControlNetModel.from_pretrained(checkpoint/controlnet)` used to succeed with only warnings and return a
ControlNet whose weights were all freshly initialised (our folder holds a StructureControlNet, whose weights
sit under other names): a user would lose the training without noticing. diffusers only warns about missing
and unexpected weights, but its standard models validate their config first. Our classes therefore also
record `down_block_types` and `block_out_channels`, inconsistent on purpose and carrying a note: a
ControlNetModel or UNet2DConditionModel built from such a config raises ValueError ("Must provide the same
number of block_out_channels as down_block_types ...") quoting the note, which says what the folder holds
and how to load it. Our own classes ignore the two entries. `humanverse export` writes standard-class folders.
"""

from __future__ import annotations


def wrong_class_note(ours: str) -> str:
    return (f"NOT A STANDARD DIFFUSERS MODEL: this folder holds a humanverse {ours}; load it with "
            f"{ours}.from_pretrained, or run `humanverse export` for diffusers-loadable folders")
