"""How a dense model's square input is made from an image of any shape.

"stretch" resizes to the square (what the MiDaS/HF processor does); "pad" letterboxes (keeps geometry, which
matters for surface normals, whose directions a non-uniform stretch would bend). Its own module so that the
stage configs name it without importing torch: every Ray worker imports the config, most never run a model.
"""

from typing import Literal

ResizeMode = Literal["stretch", "pad"]
