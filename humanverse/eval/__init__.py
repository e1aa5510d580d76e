"""`humanverse eval`: HyperHuman's Table-1 metrics (FID, KID, FID on CLIP features, CLIP score, pose accuracy)
for a trained model, on held-out captions and poses from the project's own shards."""
