"""The three public estimators."""

from __future__ import annotations

from sklearn.base import ClassifierMixin, RegressorMixin

from ._base import BaseMultiTask
from .tasks import Classification, Regression

_PARAMETERS = """
    Parameters
    ----------
    tasks : "auto", list of Task or dict, default="auto"
        How the columns of ``y`` become tasks. ``"auto"`` infers one task per column
        (see :func:`skmtl.tasks.infer_task` for the exact rule). A list of specs
        (:class:`~skmtl.tasks.Regression`, :class:`~skmtl.tasks.Classification`,
        :class:`~skmtl.tasks.MultiLabel`) or a dict mapping a column to ``"regression"``,
        ``"classification"`` or a spec declares tasks; columns no spec reads are inferred.
    architecture : str or Architecture, default="shared_bottom"
        The multi-task network: ``"shared_bottom"`` (hard sharing), ``"separate"`` (no
        sharing), ``"mmoe"``, ``"cgc"``, ``"ple"``, ``"cross_stitch"`` or ``"tabm"`` (k
        MLP members sharing weights, predictions averaged; see
        :class:`skmtl.architectures.TabM`), or a spec from
        :mod:`skmtl.architectures` whose hyperparameters are then reachable as
        ``architecture__<name>`` (e.g. ``architecture__n_experts``).
    trunk : torch.nn.Module, subclass of it, or None, default=None
        A user network mapping a batch of X to a representation (e.g. a CNN for
        images, or :class:`skmtl.architectures.MultiInput` for a dict of inputs). It
        replaces the shared dense layers of ``"shared_bottom"``, is copied into every
        task's tower for ``"separate"``, and is a shared encoder under the other
        architectures. Heads are sized from its output. A class is instantiated without
        arguments at fit (``random_state`` seeds its weights); an instance is deep-copied
        with its weights, except that a ``MultiInput`` builds anew at fit the encoders
        it was given as classes and its shared layers (``MultiInput.rebuilt``). With a
        trunk, X may have more than 2 dimensions or be a dict of arrays
        (``skorch.helper.SliceDict``).
    weighting : str or Weighting, default="equal"
        How each step combines the tasks: a loss weighting (``"equal"``,
        ``"uncertainty"``, ``"dwa"``, ``"gls"``, ``"rlw"``, ``"gradnorm"``) or a torchjd
        gradient aggregation (``"mgda"``, ``"pcgrad"``, ``"cagrad"``, ``"nash_mtl"``,
        ``"imtl_g"``, ``"graddrop"``, ``"aligned_mtl"``, ``"upgrad"``, ``"dualproj"``), by
        name or as a spec from :mod:`skmtl.weighting` (hyperparameters reachable as
        ``weighting__<name>``).
    schedule : {"joint", "alternating"}, default="joint"
        ``"alternating"`` trains one task per step, round-robin (only with
        ``weighting="equal"``).
    freeze : {"trunk", "all_but_heads"}, list of str or None, default=None
        Parameters kept fixed during training: the shared parameters, everything but
        each task's output layer, or parameters named by (prefixes of)
        ``net_.module_.named_parameters()``.
    warm_start : bool, default=False
        When fitted already, ``fit`` continues from the fitted weights and optimizer
        state for ``max_epochs`` more epochs instead of starting anew (same tasks and
        features), with the current training parameters (``lr``, ``batch_size``,
        ``freeze``, ``callbacks``, ...). Parameters that define the network cannot change.
    pretrain : {"autoencoder"} or None, default=None
        Before supervised training, train the shared trunk as a denoising autoencoder on
        every row of X (rows without any label included). Needs
        ``architecture="shared_bottom"``. Measured with 30 labelled rows of 6,000
        (tests/test_transfer_calibration_ensemble.py's data), it helped without numeric
        embeddings (R² 0.786 against 0.710) but not with the default
        ``numeric_embedding="piecewise_linear"`` (0.688 against 0.777): combine it with
        ``numeric_embedding=None``.
    pretrain_epochs : int, default=20
        Epochs of autoencoder pretraining.
    pretrain_noise : float, default=0.1
        Standard deviation of the Gaussian noise added to X during pretraining (in the
        units of X: scale X first).
    temperature_scaling : bool, default=False
        After training, fit one temperature per classification task on the held-out
        validation rows (``validation_fraction``, 0.1 when None) by minimising the
        negative log-likelihood (Guo et al., ICML 2017); ``predict_proba`` divides the
        logits by it. Predicted labels do not change.
    threshold : {"accuracy", "f1"}, float or None, default=None
        Decision thresholds of binary classification tasks (on the probability of
        ``classes_[1]``) and multi-label tasks (one per label). None predicts a label
        when its probability exceeds 0.5 (the most probable class). "accuracy" or "f1"
        choose, after training (and after ``temperature_scaling``, on the calibrated
        probabilities), one threshold per label maximising that metric on the labelled
        held-out validation rows (``validation_fraction``, 0.1 when None): accuracy
        minimises the Hamming loss, "f1" maximises each label's F1. The candidates are
        the midpoints between the validation probabilities; a label whose validation
        rows are unlabelled, all positive or all negative keeps 0.5. A float in (0, 1)
        applies that threshold to every such label. ``predict``, ``score`` and
        ``score_tasks`` follow the thresholds (``thresholds_``); ``predict_proba``,
        multiclass and regression tasks are unaffected. Every ``fit`` and
        ``partial_fit`` call (warm-started or not) recomputes them on that call's
        held-out rows.
    categorical_features : "from_dtype", array-like of str, int or bool, or None, default="from_dtype"
        Which columns of a 2-D X are categorical. ``"from_dtype"``: ``category`` columns,
        and text / object columns whose values are not all numbers; or columns by name,
        position or boolean mask; None: none. Each categorical column becomes integer
        codes (0 for a missing value; see ``min_frequency`` for rare and unseen
        categories) read through a learned embedding of width
        ``min(32, round(1.6 * n_codes ** 0.56))``.
    min_frequency : "auto", int, float or None, default="auto"
        Categories of a categorical column with fewer rows in ``fit`` than this (an int:
        rows; a float in (0, 1): a fraction of the rows, rounded up) are grouped into one
        code, which the categories unseen in ``fit`` share: the network learns one
        embedding from all the rare categories (as scikit-learn's
        ``OneHotEncoder(min_frequency=)`` groups them), and a new category at predict
        reads it rather than the missing value's. ``"auto"``: 1 row in 500, in the columns
        with more than 64 categories only (a tail number, a product id), where most
        categories are rare; the other columns keep every category, and so do tables of
        up to 500 rows. None: every category seen in ``fit`` has its own code (the
        behaviour before), and an unseen one reads the missing value's code. The default
        was chosen on training rows (docs/benchmarks.md, "Rare categories").
    max_categories : int >= 2 or None, default=None
        At most this many codes per categorical column besides the missing value's: a
        column with more categories keeps its ``max_categories - 1`` most frequent ones,
        and the others join the shared code of ``min_frequency``'s rare categories (as
        scikit-learn's ``OneHotEncoder(max_categories=)``). None: no limit.
    category_dropout : float in [0, 1), default=0.0
        In training, each categorical code of each row is replaced, with this
        probability, by the code that categories unseen in ``fit`` read (the shared code
        of the rare categories, else the missing value's), so that the network learns
        what to predict for a category it has not seen (a new store, a new product type)
        rather than reading an embedding that no training row reached. 0: no
        replacement (the codes of unseen categories are then trained only by the rare
        categories or missing values of ``fit``, where there are some). Not part of the
        network: ``partial_fit`` and warm starts train with the current value. See
        docs/benchmarks.md, "Unseen categories".
    numeric_transform : {"quantile", "robust", "standard", "none"}, default="quantile"
        Transform of the numeric columns of a 2-D X, fitted on the rows of ``fit``: a
        quantile transform to a normal distribution, robust scaling (median and
        inter-quartile range), standardisation, or none. Missing values become the centre
        (0) and a missing-value indicator column is added for each column that had some
        in ``fit``; columns with at most two values become 0 / 1 (unless ``"none"``).
        The fitted encoding is ``preprocessor_`` (``preprocessor_.summary()`` describes
        each column). Not applied to sparse X, images, dicts of inputs or X read by a
        user ``trunk``, which are read as given.
    numeric_embedding : {"piecewise_linear", "periodic"} or None, default="piecewise_linear"
        Numeric feature embeddings from ``rtdl_num_embeddings`` (Gorishniy et al.,
        NeurIPS 2022) on the transformed numeric columns: ``"periodic"`` (PLR, 24 wide
        per feature) or ``"piecewise_linear"`` (16 wide, on ``n_bins`` bins of the
        training rows placed by ``bin_edges``). None feeds the numbers as they are. Ignored for X read as
        given (sparse X, images, dicts of inputs, a user trunk). The default was chosen by
        cross-validation on training rows (docs/benchmarks.md, "How the defaults for raw
        tables were chosen").
    n_bins : "auto" or int >= 2, default="auto"
        Number of bins per numeric column of ``numeric_embedding=
        "piecewise_linear"`` (fewer where a column has fewer distinct values; ignored by
        the other embeddings). "auto": :func:`skmtl.tabular.piecewise_linear_bins` of the
        number of rows given to ``fit`` (48 for most tables, one per 1,000 rows from
        48,000 rows up to 128).
    bin_edges : {"mass_aware", "quantile", "distinct"}, default="mass_aware"
        Where the ``"piecewise_linear"`` bin edges go. ``"mass_aware"``: at quantiles
        of the training rows, where each value that more than ``1 / n_bins`` of them hold
        (a point mass, such as the zeros of a mostly-zero column) is an edge of its own
        and the other rows share the remaining bins
        (:func:`skmtl.tabular.mass_aware_bins`); ``"quantile"``: at quantiles of all the
        training rows (the behaviour before; ``rtdl_num_embeddings.compute_bins``), which
        leaves a mostly-zero column few bins; ``"distinct"``: at quantiles of each
        column's distinct values, each counted once
        (:func:`skmtl.tabular.distinct_value_bins`). Chosen on training rows
        (docs/benchmarks.md, "Piecewise-linear bins").
    hidden_layer_sizes : array-like of int, default=(128, 128)
        Widths of the shared trunk's dense layers (of each expert, tower or column for
        the other architectures, unless their spec sets its own).
    head_layer_sizes : array-like of int, default=()
        Widths of each task head's (tower's) hidden layers before its output layer.
    activation : {"relu", "tanh", "logistic", "gelu", "silu", "identity"}, default="relu"
        Activation after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adamw"
        Optimizer (``"sgd"`` uses momentum 0.9). ``"adamw"`` is Adam with decoupled
        weight decay (Loshchilov and Hutter, ICLR 2019); ``"adam"`` (with
        ``weight_decay="auto"``: no decay) was the default before.
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float or "auto", default="auto"
        Weight decay passed to the optimizer: decoupled from the gradient with AdamW
        (each step multiplies the weights by ``1 - lr * weight_decay``), an L2 penalty
        added to the gradient with Adam and SGD. ``"auto"``: 0.3 with AdamW (chosen on
        the training rows of a development suite of tables: docs/benchmarks.md, "Weight
        decay") and 0 with any other optimizer (``weight_decay_``). The learned
        parameters of the loss weightings are never decayed.
    lr_schedule : {"constant", "cosine", "flat_cosine"}, default="constant"
        Learning rate over the steps (batches) of a ``fit``: ``"constant"`` keeps ``lr``;
        ``"cosine"`` decays it from ``lr`` towards 0 as ``lr * (1 + cos(pi * t / T)) / 2``
        at step t of the T = ``max_epochs`` x (training rows / ``batch_size``, rounded up)
        planned steps; ``"flat_cosine"`` keeps ``lr`` for the first half of the steps and
        then decays it the same way over the second half (no warm-up). Every parameter
        group follows it, the learned weighting parameters' included. A warm-started
        ``fit`` runs a new schedule over its own ``max_epochs``; a ``fit`` resumed from a
        ``checkpoint`` continues the saved one; ``partial_fit`` trains at the constant
        ``lr``. The rate of each step is recorded as ``lr`` in ``history_``'s batches.
    label_smoothing : float in [0, 1), default=0.0
        Label smoothing of the classification tasks' training loss: a softmax
        cross-entropy (binary or multiclass) spreads ``label_smoothing`` of the target
        over the classes (torch's ``label_smoothing``; a loss that sets its own keeps
        it), a multi-label task trains on ``y * (1 - label_smoothing) +
        label_smoothing / 2``. Focal and user losses of classification tasks and
        regression tasks are unaffected. Only the training loss (``train_loss`` in
        ``history_``) is smoothed: validation losses, early stopping, ``score`` and the
        predicted labels compare with the true labels.
    ema_decay : float in [0, 1) or None, default=0.999
        Weight averaging: an exponential moving average of the trainable weights
        (:class:`~skmtl.callbacks.WeightAveraging`), moved after every training step
        towards the weights by ``1 - min(ema_decay, (1 + t) / (10 + t))`` at its t-th
        update (the warm-up keeps short fits from leaning on the initial weights: it
        reaches 0.999 after 8,990 updates, and until then the average spans about the
        last tenth of the steps taken, so on most tables the cap rarely binds). The
        validation loss (and so early stopping, which keeps the best epoch) is measured
        on the average, and the fitted network is the average: the best epoch's with
        early stopping, else the last. Each ``fit`` or ``partial_fit`` call averages its
        own steps, starting from the weights it trains on from. None trains and keeps
        the raw weights (the behaviour before). Chosen on training rows
        (docs/benchmarks.md, "Weight averaging").
    max_epochs : int, default=100
        Number of passes over the training data. When ``fit`` runs them all while the
        loss still improves (``valid_loss`` with a validation split, else ``train_loss``:
        the best of the last ``n_iter_no_change`` epochs beats the best before by more
        than ``tol``), it warns with a :class:`~sklearn.exceptions.ConvergenceWarning`
        (not ``partial_fit``).
    batch_size : int or "auto", default="auto"
        Rows per mini-batch. ``"auto"`` adapts it to the n rows of each ``fit`` (or
        ``partial_fit``) call so that small tables get enough steps per epoch: the largest
        power of two at most n / 32, within [32, 256], and 512 from 131,072 rows (32 up to
        2,047 rows, 64 up to 4,095, 128 up to 8,191, 256 up to 131,071). The size used is
        ``batch_size_``. Without early stopping it helped on digits (3 tasks: mean
        accuracy 0.985 against 0.983 with 256, 3-fold CV) but not on yeast (Hamming loss
        0.234 against 0.225: more steps over-fit there); with the default early stopping
        and numeric embeddings it ranked first (docs/benchmarks.md, "How the defaults for
        raw tables were chosen").
    early_stopping : "auto" or bool, default="auto"
        Hold out a validation split (``validation_fraction``, 0.1 when None) and stop
        when the total validation loss has not improved by at least ``tol`` for
        ``n_iter_no_change`` epochs, then restore the weights of the best epoch.
        ``"auto"`` does so in a ``fit`` on at least 100 rows with a label (never in
        ``partial_fit``): early stopping helped on every table of the development suite
        of 1,000 rows or more and on 8 of 9 small tables of 144 to 602 training rows
        (docs/benchmarks.md, "How the defaults for raw tables were chosen"); below 100
        rows the validation split would hold under 10. Whether it did is
        ``early_stopping_``.
    validation_fraction : float or None, default=None
        Share of rows held out at random for validation; the History then records
        ``valid_loss`` and ``valid_loss_<task>`` each epoch. None holds out 0.1 when
        the fit stops early (``early_stopping_``), ``temperature_scaling`` is True or
        ``threshold`` is a string, and nothing otherwise; a float holds out that share
        even without early stopping, to monitor it.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping, with ``early_stopping``; also the
        window of the ``max_epochs`` convergence check.
    tol : float, default=1e-4
        Minimum decrease of the validation loss that counts as an improvement (of the
        monitored loss, in the convergence check).
    device : str, default="auto"
        Torch device; ``"auto"`` picks CUDA, then MPS, then CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation split. With
        an int, two fits on the CPU give identical predictions. The global torch random
        state is left untouched.
    verbose : int, default=0
        0 is silent, 1 prints a table of losses per epoch, 2 adds a progress bar.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (cloned at fit), e.g. ``skorch.callbacks.Checkpoint``.
    checkpoint : str, path-like, skorch.callbacks.Checkpoint or None, default=None
        Directory where ``fit`` saves everything it needs to resume (weights, optimizer
        and balancer state, History, seeds, random state, early-stopping state and a
        description of the tasks and data) to one file, ``skmtl_checkpoint.pt``, at the
        end of every epoch and of training, replacing it atomically. A ``fit`` on a
        directory holding a checkpoint resumes it: it checks that the tasks, the data
        (a fingerprint of X, y, ``sample_weight`` and ``groups``), an int ``random_state``, the
        network and the other parameters match (all but ``max_epochs``, ``verbose``,
        ``callbacks``, ``device`` and ``compile``; else a ValueError names what
        differs), takes the
        checkpoint's seeds and state, and trains only the epochs missing up to
        ``max_epochs`` (none when the saved fit is finished or stopped early). A skorch
        ``Checkpoint`` gives the directory (``dirname``), a file-name prefix
        (``fn_prefix``) and when to save during training (``monitor``, e.g.
        ``"valid_loss_best"`` to save at best validation; None saves every epoch); its
        ``f_*`` names are not used. The file loads with
        ``torch.load(weights_only=True)``, so a tampered one is refused. ``partial_fit``
        does not support it. A directory holds one fit: ``MultiTaskEnsemble``,
        ``TaskGrouping`` and ``skmtl.model_selection.cross_val_predict`` give each of
        their networks a subdirectory (``member0``, ``group0``, ``fold0``, ...);
        scikit-learn's cross-validation and searches need ``checkpoint=None``.
    precision : {"32", "bf16", "16"}, default="32"
        Arithmetic of the forward passes (training, validation and prediction). "32":
        float32. "bf16": :func:`torch.autocast` to bfloat16, on the CPU and on GPUs that
        support it. "16": autocast to float16 with gradient scaling
        (:class:`torch.amp.GradScaler`), on CUDA only (a ValueError elsewhere). Weights,
        losses, balancing and the optimizer stay in float32: outputs are cast back to
        float32 before the losses, and predictions are float32. With "16", the gradient
        is scaled where it enters the network (at its outputs), so loss weightings see
        the true losses; gradient aggregations see the scaled Jacobian, which changes
        nothing for those whose update scales with it (all but ``"nash_mtl"`` and
        ``"gradnorm"``'s weight update). See the user guide ("Mixed precision and
        torch.compile") for the measured effect.
    compile : bool or dict, default=False
        Run the network's forward pass through :func:`torch.compile` (a dict gives its
        keyword arguments, e.g. ``{"mode": "max-autotune"}``). The compiled wrapper
        shares the network's weights and is rebuilt after unpickling; ``net_.module_``
        stays the plain network. The first steps pay the compilation (seconds to tens
        of seconds). The default inductor backend needs a C++ compiler on the CPU
        (a RuntimeError says so at fit); a compilation failure raises a RuntimeError
        naming ``compile`` rather than falling back silently.
    task_affinity : bool, default=False
        Measure the tasks' gradient affinity during training: every
        ``affinity_interval`` training steps, before the step, the cosine similarity
        between each pair of tasks' loss gradients on the shared representation (or,
        for architectures without one, on the shared parameters), recorded per epoch
        in ``history_`` (``task_affinity``, ``task_affinity_n``, ``task_affinity_sq``)
        and averaged in ``task_affinity_`` (see
        :class:`skmtl.callbacks.GradientAffinity`). It does not change training: the
        fitted weights are those of a fit without it. A ValueError at fit when the
        tasks share nothing trainable (``architecture="separate"``, or every shared
        parameter frozen without a shared representation).
    affinity_interval : int, default=10
        With ``task_affinity``, measure every ``affinity_interval``-th training step
        (counted across epochs and continued fits).

    Attributes
    ----------
    tasks_ : list of Task
        The fitted task specs, in output order; classification tasks have ``classes_``.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features seen in fit; only defined when X was a DataFrame with
        string column names.
    temperatures_ : dict
        Task name to the fitted temperature of each classification task (empty without
        ``temperature_scaling``).
    early_stopping_ : bool
        Whether the last ``fit`` held out a validation split and stopped early.
    weight_decay_ : float
        The weight decay of the last ``fit`` (``weight_decay`` resolved).
    preprocessor_ : skmtl.tabular.TabularEncoder or None
        The fitted encoding of X's columns (None for X read as given: sparse, images,
        dicts of inputs, a user trunk).
    thresholds_ : dict
        Task name to the decision threshold of each binary classification task (a
        float) and multi-label task (an array, one per label); empty when ``threshold``
        is None.
    frozen_parameters_ : list of str
        Names of the parameters ``freeze`` kept fixed.
    pretrain_history_ : skorch.history.History
        The autoencoder's history (only with ``pretrain``).
    input_shapes_ : tuple or dict of tuple
        Shape of one sample of X seen in fit (per input for a dict X), checked at
        predict.
    history_ : skorch.history.History
        Per-epoch records: ``train_loss`` (the weighted total), ``train_loss_<task>``
        for each task and, when a validation split is held out, ``valid_loss`` and
        ``valid_loss_<task>``; plus ``dur`` (seconds) and ``epoch``. With
        ``task_affinity``: ``task_affinity`` (the epoch's mean gradient cosine of every
        pair of tasks, a nested list, NaN for a pair not measured that epoch),
        ``task_affinity_n`` (measurements of each pair) and ``task_affinity_sq`` (mean
        squared cosine).
    task_affinity_ : pandas.DataFrame of shape (n_tasks, n_tasks)
        Only with ``task_affinity``: the mean gradient affinity over every measured
        step of the epochs in ``history_`` (so a warm-started or ``partial_fit``
        continuation adds to it); index and columns are the task names, NaN for a pair
        never measured.
    net_ : skorch.NeuralNet
        The fitted skorch net (its ``module_`` is the torch network).
    device_ : str
        The device the network was trained on.
    n_epochs_ : int
        Number of epochs run (over every ``fit`` / ``partial_fit`` call that continued
        the same network).
    n_iter_ : int
        The same number, under the name scikit-learn's ``MLPClassifier`` uses.
    loss_curve_ : list of float
        The training loss (the weighted total) of each epoch in ``history_``, as
        ``MLPClassifier``'s ``loss_curve_``.
    batch_size_ : int
        The batch size of the last ``fit`` or ``partial_fit`` call (``batch_size``
        resolved; see ``"auto"``).
"""


class MultiTaskNet(BaseMultiTask):
    __doc__ = (
        """Multi-task neural network for any mix of regression, classification and
    multi-label tasks.

    A shared trunk feeds one head per task; each task's loss is computed on its
    labelled rows only and the losses are summed with the tasks' weights. Training
    runs through skorch.
"""
        + _PARAMETERS
        + """
    See Also
    --------
    MultiTaskClassifier : every task is a classification.
    MultiTaskRegressor : every task is a regression.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skmtl import MultiTaskNet
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = pd.DataFrame({"size": X[:, 0] * 2.0, "kind": np.where(X[:, 1] > 0, "a", "b")})
    >>> model = MultiTaskNet(max_epochs=20, random_state=0).fit(X, y)
    >>> model.predict(X[:2]).columns.tolist()
    ['size', 'kind']
"""
    )

    @property
    def classes_(self):
        """Not an attribute of MultiTaskNet: the classes are per task (``tasks_``)."""
        # scikit-learn's cross_val_predict(method="predict_proba") reads classes_ only after
        # fitting every fold; say then what to use instead of a bare AttributeError
        raise AttributeError(
            "MultiTaskNet has no classes_: its tasks may mix regression and classification, "
            "and each classification task's classes are its own (tasks_[i].classes_, or the "
            "columns of predict_proba_frame). For out-of-fold probabilities use "
            "skmtl.model_selection.cross_val_predict(model, X, y, method='predict_proba'), "
            "which also keeps missing labels missing (scikit-learn's cross_val_predict "
            "encodes y's labels itself, a missing label becoming a class); for a model whose "
            "tasks are all classifications, MultiTaskClassifier has classes_.")


class MultiTaskClassifier(ClassifierMixin, BaseMultiTask):
    __doc__ = (
        """Multi-task neural network whose tasks are all classifications.

    Every column of ``y`` is a :class:`~skmtl.tasks.Classification` task (labels of any
    dtype) unless a :class:`~skmtl.tasks.MultiLabel` spec groups several 0/1 columns.
"""
        + _PARAMETERS
        + """    classes_ : ndarray or list of ndarray
        The class labels of the single task, or one array per task.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skmtl import MultiTaskClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MultiTaskClassifier(max_epochs=50, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
"""
    )

    _forced_task = Classification

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _fit(self, *args, **kwargs):
        super()._fit(*args, **kwargs)
        classes = [task.classes_ for task in self.tasks_]
        self.classes_ = classes[0] if len(classes) == 1 else classes
        return self

    # ClassifierMixin.score (plain accuracy on all entries) would shadow the masked,
    # mean-over-tasks score.
    score = BaseMultiTask.score


class MultiTaskRegressor(RegressorMixin, BaseMultiTask):
    __doc__ = (
        """Multi-task neural network whose tasks are all regressions.

    Every column of ``y`` is a :class:`~skmtl.tasks.Regression` task, standardised
    inside fit and mapped back at predict.
"""
        + _PARAMETERS
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 3))
    >>> Y = np.column_stack([X[:, 0], X[:, 1] - X[:, 2]])
    >>> MultiTaskRegressor(max_epochs=10, random_state=0).fit(X, Y).predict(X[:3]).shape
    (3, 2)
"""
    )

    _forced_task = Regression
    # RegressorMixin.score (R² on all entries) would shadow the masked score.
    score = BaseMultiTask.score

