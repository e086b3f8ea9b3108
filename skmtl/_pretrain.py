"""Unsupervised pretraining of the shared trunk as a denoising autoencoder."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from torch import nn

from ._training import SparseRows, TensorBatchIterator, TensorData


class DenoisingAutoencoder(nn.Module):
    """Reconstruct X from a noisy copy through the network's shared representation.

    Parameters
    ----------
    network : MultiTaskModule
        Must have one shared representation (``has_shared_representation``); its
        ``represent`` is the encoder, so pretraining trains the network's own trunk.
    decoder : torch.nn.Module
        Maps the representation back to X.
    noise : float
        Standard deviation of the Gaussian noise added to X in training mode.
    """

    def __init__(self, network: nn.Module, decoder: nn.Module, noise: float):
        super().__init__()
        self.network = network
        self.decoder = decoder
        self.noise = noise

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Reconstruction of X (from a noisy copy when training)."""
        if self.training and self.noise > 0:
            X = X + self.noise * torch.randn_like(X)
        return self.decoder(self.network.represent(X))


def pretrain_autoencoder(network: nn.Module, X: torch.Tensor, *, epochs: int, noise: float,
                         optimizer, lr: float, batch_size: int, device: str,
                         verbose: int, weight_decay: float = 0.0) -> NeuralNet:
    """Train ``network``'s trunk to reconstruct ``X`` from noisy inputs (in place).

    Every row of X is used, including rows whose labels are all missing.

    Parameters
    ----------
    network : MultiTaskModule
    X : torch.Tensor or SparseRows of shape (n_samples, n_features)
        On ``device`` (a sparse X is densified one batch at a time).
    epochs : int
    noise : float
    optimizer : type of torch optimizer
    lr : float
    batch_size : int
    device : str
    verbose : int
    weight_decay : float, default=0.0
        The optimizer's weight decay (the estimator's ``weight_decay_``).

    Returns
    -------
    skorch.NeuralNet
        The autoencoder's net; its ``history`` records the reconstruction loss.
    """
    if not getattr(network, "has_shared_representation", False):
        raise ValueError(
            "pretrain='autoencoder' needs a network whose tasks read one shared "
            f"representation (architecture='shared_bottom'); {type(network).__name__} has none."
        )
    if not isinstance(X, (torch.Tensor, SparseRows)) or X.ndim != 2:
        raise ValueError("pretrain='autoencoder' needs a 2-D X (one row of features per sample).")
    with torch.no_grad():
        head = X[:2].dense() if isinstance(X, SparseRows) else X[:2]
        width = network.represent(head.cpu()).shape[1]
    autoencoder = DenoisingAutoencoder(network, nn.Linear(width, X.shape[1]), noise)
    net = NeuralNet(
        module=autoencoder, criterion=nn.MSELoss, optimizer=optimizer, lr=lr,
        optimizer__weight_decay=weight_decay, max_epochs=epochs, batch_size=batch_size, dataset=TensorData,
        iterator_train=TensorBatchIterator, iterator_train__shuffle=True,
        iterator_valid=TensorBatchIterator, train_split=None, device=device, verbose=verbose,
        # PrintLog formats a table every epoch even when it prints nothing
        **({} if verbose else {"callbacks__print_log": None}),
    )
    return net.fit(X, X)
