"""Features the image metrics are computed on: InceptionV3 pool features (FID, KID) and CLIP embeddings
(FID on CLIP features, CLIP score), each computed once per image set and cached by the eval run.

FID and KID are torchmetrics' (`FrechetInceptionDistance`, `KernelInceptionDistance`) on torch-fidelity's
InceptionV3, the TF-FID network that clean-fid, torch-fidelity and torchmetrics share. The weights are read
from the models directory (`humanverse models list` names the file); torch-fidelity itself would download
them. Its loader unpickles with weights_only=False, so the file is loaded once, here, with weights_only=True
(which refuses anything but tensors), and that checked state dict is what the network is built from:
torch-fidelity never opens the path (checking a file and then letting a library load it again by name would
run whatever was swapped in between).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch

from humanverse.models.clip.clip_published import CLIP_FILE
from humanverse.models.files import locate

INCEPTION_FEATURES = "2048"


@contextlib.contextmanager
def _fidelity_weights(state_dict: dict):
    """torch-fidelity's InceptionV3 takes its weights from a path or its download; here it gets this state
    dict instead (a URL "download" that returns it), so it neither opens a file nor fetches anything."""
    import torch_fidelity.feature_extractor_inceptionv3 as fidelity

    download = fidelity.load_state_dict_from_url
    fidelity.load_state_dict_from_url = lambda *args, **kwargs: state_dict
    try:
        yield fidelity
    finally:
        fidelity.load_state_dict_from_url = download


def load_inception(path: str | Path, dims: int = 2048) -> torch.nn.Module:
    """torchmetrics' InceptionV3 (eval mode; 2048-d pool features, or an earlier block's) from a local file,
    read once with weights_only=True (see module doc)."""
    state_dict = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(state_dict, dict):
        raise ValueError(f"{path}: not a state dict of tensors")
    from torchmetrics.image.fid import NoTrainInceptionV3

    with _fidelity_weights(state_dict):
        return NoTrainInceptionV3(name="inception-v3-compat", features_list=[str(dims)])


def build_random_inception(path: str | Path, seed: int = 0) -> Path:
    """The real InceptionV3 architecture with random weights, saved in the published format (a torch state
    dict), for tests and the demo. Its features mean nothing; the loading path is the real one."""
    import torch_fidelity.feature_extractor_inceptionv3 as fidelity

    class _Unloaded(fidelity.FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):  # noqa: ARG002 - keeps the random init
            return None

    torch.manual_seed(seed)
    with _fidelity_weights({}):  # never fetch: the weights stay random
        model = _Unloaded("inception-v3-random", [INCEPTION_FEATURES])
    # He-normal convolutions keep activations alive through Inception's ~95 layers (PyTorch's default init
    # shrinks them ~3x per layer, and the pool features come out constant, which no metric can use).
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


@torch.inference_mode()
def inception_features(model: torch.nn.Module, images: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
    """(N, dims) float64 features of RGB uint8 H x W x 3 images (any size; the network resizes to 299)."""
    out = []
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.stack(images[start : start + batch_size])).permute(0, 3, 1, 2).contiguous()
        out.append(model(batch).double().reshape(len(batch), -1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def clip_weights_file(spec: str, models_dir: str | None = None) -> Path:
    """A CLIP weights spec (file, folder or hf:org/name) as the state-dict file to load."""
    if Path(spec).suffix in (".safetensors", ".bin", ".pt", ".pth"):
        return locate(spec, [], models_dir)
    return locate(spec, [CLIP_FILE], models_dir) / CLIP_FILE


class ClipScorer:
    """Both CLIP towers: L2-normalised image and text embeddings, for CLIP score and FID on CLIP features."""

    def __init__(self, arch: str, weights: str | Path, device: str = "cpu"):
        import open_clip

        from humanverse.models.clip.clip_embedder import ClipImageEmbedder, _build_clip

        model = _build_clip(arch)
        open_clip.load_checkpoint(model, str(weights), strict=True, weights_only=True)
        self.model = model.to(device).eval()
        self.images = ClipImageEmbedder(model.visual, device, torch.float32, arch)
        self.tokenize = open_clip.tokenize
        self.device = device

    def image_embeddings(self, images: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        chunks = [self.images.embed(images[s : s + batch_size]) for s in range(0, len(images), batch_size)]
        return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros((0, self.images.dim))

    @torch.inference_mode()
    def text_embeddings(self, captions: list[str], batch_size: int = 64) -> np.ndarray:
        out = []
        for start in range(0, len(captions), batch_size):
            tokens = self.tokenize(captions[start : start + batch_size]).to(self.device)
            out.append(torch.nn.functional.normalize(self.model.encode_text(tokens).float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros((0, self.images.dim))
