"""Config overrides for tests of the engine's wiring (kills, nodes, storage), not of the models: the demo
preset's fetch, decode, filters and HOG detection stay; CLIP and the annotators, whose worker pools each
import torch and load a model, are off. tests/engine/test_curate_e2e.py runs the whole demo preset on Ray."""

ENGINE_ONLY = ["aesthetic.enabled=false", "nsfw.enabled=false", "outpaint.mode=never", "pose=null", "depth=null",
               "normal=null", "mask=null"]
