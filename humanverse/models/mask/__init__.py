"""Person-mask (segmentation/matting) models used by the mask stage."""
