"""humanverse's own reader in a PyTorch DataLoader (quoted by docs/loading.md; run by tests/docs/test_snippets.py)."""

from torch.utils.data import DataLoader

from humanverse.shards.loader import ShardDataset, collate_samples

if __name__ == "__main__":  # DataLoader workers re-import this file
    loader = DataLoader(ShardDataset("out/shards/*.tar"), batch_size=8, num_workers=2, collate_fn=collate_samples)
    for batch in loader:           # a dict of lists (images differ in size); a member a sample lacks is None
        batch["jpg"]               # uint8 tensors, 3 x H x W, RGB
        batch["depth.png"]         # float32 tensors, 1 x H x W, in [0, 1] (16 bits kept; every depth*.png alike)
        batch["normal.png"]        # float32 tensors, 3 x H x W, in [-1, 1]
        batch["json"]              # dicts: source, persons [{box, score, area_frac, keypoints 133 x [x, y, score]}], ...
        batch["txt"], batch["__key__"]
        print(len(batch["__key__"]), "samples:", sorted(k for k in batch if not k.startswith("__")))
