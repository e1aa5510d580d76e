"""Ground-truth accuracy of the pipeline's annotations: dataset keypoint definitions, GT loading, metrics."""
