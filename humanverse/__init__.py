"""humanverse: curate human-centric image datasets on Ray and train the two-stage model on them."""

__version__ = "0.1.0"
