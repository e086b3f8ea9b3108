"""Raw tables in: the fitted encoding of a DataFrame's columns and the network's input
layer that embeds them."""

from ._embedding import (
    BIN_EDGES,
    NUMERIC_EMBEDDINGS,
    FeatureEmbedding,
    distinct_value_bins,
    embedding_dim,
    mass_aware_bins,
    piecewise_linear_bins,
)
from ._encoder import (
    AUTO_MIN_CATEGORIES,
    AUTO_MIN_FREQUENCY,
    DATE_PARTS,
    NUMERIC_TRANSFORMS,
    TabularEncoder,
    date_columns,
)

__all__ = [
    "AUTO_MIN_CATEGORIES",
    "AUTO_MIN_FREQUENCY",
    "BIN_EDGES",
    "DATE_PARTS",
    "NUMERIC_EMBEDDINGS",
    "NUMERIC_TRANSFORMS",
    "FeatureEmbedding",
    "TabularEncoder",
    "date_columns",
    "distinct_value_bins",
    "mass_aware_bins",
    "embedding_dim",
    "piecewise_linear_bins",
]
