"""Raw tables in: the fitted encoding of a DataFrame's columns and the network's input
layer that embeds them."""

from ._embedding import NUMERIC_EMBEDDINGS, FeatureEmbedding, embedding_dim, piecewise_linear_bins
from ._encoder import NUMERIC_TRANSFORMS, TabularEncoder

__all__ = [
    "NUMERIC_EMBEDDINGS",
    "NUMERIC_TRANSFORMS",
    "FeatureEmbedding",
    "TabularEncoder",
    "embedding_dim",
    "piecewise_linear_bins",
]
