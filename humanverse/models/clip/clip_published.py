"""The published names of the CLIP stage's models: torch-free, so the config can name them as defaults in
every Ray worker (most of which never load a model) without importing torch."""

CLIP_ARCH = "ViT-L-14-quickgelu"  # OpenAI CLIP ViT-L/14 as open_clip names it (QuickGELU, as trained)
CLIP_FILE = "open_clip_model.safetensors"
AESTHETIC_FILE = "sac+logos+ava1-l14-linearMSE.pth"
NSFW_FILE = "clip_autokeras_binary_nsfw.safetensors"  # written by `models import`
