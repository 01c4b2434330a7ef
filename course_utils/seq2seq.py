"""A seeded toy seq2seq task that reproduces "my seq2seq model only predicts the end token".

The task: reverse a short sequence of symbols. Most sequences are short and every target is
padded to one fixed length, so most target positions are padding. Padded the naive way (the end
token repeated, `[y1, y2, end, end, end, ...]`) and trained with plain sparse categorical
crossentropy, an Embedding + LSTM encoder-decoder learns to predict the end token at real
positions too. The fixes of lessons 05-08 train on the same data and seeds.

API (shapes: `n` sequences, `time = config.max_len + 1` steps)

Data
- `TaskConfig`: the task's sizes (symbols, maximum length, length distribution); `CONFIG` is the
  course's configuration, the one that shows the failure on every seed tried.
- `make_task(n, seed, encoding="naive")` -> `Seq2SeqData` with
  `encoder_inputs` (n, time), `decoder_inputs` (n, time) (teacher forcing: start token, then
  the targets shifted right by one), `targets` (n, time), `lengths` (n,) (real tokens before the
  end token), `start_id`, `end_id`, `pad_id`, `vocab_size`, `encoding`, and the properties
  `mask` (n, time) (True on real target positions: the tokens and the one end token) and
  `token_mask` (n, time) (True on the tokens only, end excluded). The same `seed` gives the same
  sequences in both encodings.
  - "naive": symbols are ids `0..S-1`, start `S`, end `S+1`; targets are padded by repeating the
    end token, so `pad_id == end_id`; `vocab_size = S + 2`.
  - "fixed" (fix 1): id 0 is reserved for padding and every id is shifted up by one: symbols
    `1..S`, start `S+1`, end `S+2`; one end token, then 0s; `pad_id = 0`; `vocab_size = S + 3`.
    The decoder inputs hold 0 from the end position on, so `decoder_inputs != 0` is exactly
    `mask` and `Embedding(mask_zero=True)` masks precisely the padded target positions.
- `make_split(seed, encoding="naive")` -> `(train, test)`: `CONFIG.n_train` and `CONFIG.n_test`
  sequences from two independent streams of `seed`.
- `to_fixed(data)`: the fixed encoding of naive data (same sequences).

Models and training
- `build_model(vocab_size, *, mask_zero=False, seed=0, embed_dim=..., units=...)`: an
  uncompiled Embedding + LSTM encoder-decoder, inputs `[encoder_inputs, decoder_inputs]`, output
  probabilities (batch, time, vocab_size). `mask_zero=True` masks id 0 in both embeddings;
  `encoder_mask_zero` / `decoder_mask_zero` / `encoder_vocab_size` set one side alone.
- `train(model, data, epochs=None, seed=0, sample_weight=None, loss=None, callbacks=None)` ->
  `TrainResult` `(history, seconds)`: compiles (Adam, `loss` or sparse categorical
  crossentropy, no metrics) and fits on `data` with teacher forcing, seeded. `sample_weight` is
  (n, time) or (n,).
  `history` is `{"loss": [...]}`, one value per epoch.
- `predict_ids(model, data)` -> (n, time) argmax ids under teacher forcing.

Metrics (padding never counts; `y_pred` may be ids (n, time) or probabilities (n, time, vocab))
- `real_token_accuracy(y_true, y_pred, lengths)`: accuracy over the tokens (end excluded).
- `end_token_rate(y_pred, lengths, end_id)`: the fraction of real, non-end target positions
  where the model predicts the end token. Its true value is 0.
- `end_position_accuracy(y_pred, lengths, end_id)`: fraction of sequences whose end token is
  predicted at the right position.
- `exact_match(y_true, y_pred, lengths)`: fraction of sequences whose every real position
  (tokens and the end token) is right.
- `evaluate(model, data)` -> `dict` of the four metrics above (names as `METRICS`).

Fixes and the capstone
- `class_weight_dict(y_true, end_id, vocab_size)`: every class 1.0, the end token
  `ratio = mean count of the other classes present / end-token count` (counted over all
  timesteps).
- `timestep_sample_weight(y_true, class_weight)` -> (n, time) float32: each position weighted by
  its target's class weight (the working replacement of `fit(class_weight=...)`).
- `pre_padded(data)`: the encoder reads the padding first (`pad_sequences`' default).
- `greedy_ids(model, data)`: decoding without teacher forcing, as at inference time.
- `position_token_accuracy`, `position_end_rate`: the token metrics at each target position;
  `position_modes(targets, where)`: the input-blind per-position predictor.
  The capstone's controlled experiment (`course_utils.experiment`) combines these into a grid of
  input sides, loss sides, seeds and training budgets.

With `CONFIG` (50 symbols, lengths 1-7 skewed short, padded to 16 steps, 2000 training
sequences, 6 epochs, LSTM 64 units) the naive model predicts the end token at every real position
after the first on every seed of the grid, while the mask_zero model learns most real tokens;
the committed grid (`course_utils/results/capstone.json`) holds the numbers and
`course_utils.findings` the claims. Training one model takes seconds on 2 CPU cores.
Call `tf.config.experimental.enable_op_determinism()` first for run-to-run identical numbers.
Numbers can still differ with the number of CPU threads once training leaves a loss plateau
(float sums in another order); the grid runs one thread per process.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

NAIVE = "naive"
FIXED = "fixed"


@dataclass(frozen=True)
class TaskConfig:
    """Sizes of the toy task and of its model. Lengths are drawn from `length_probs`
    (index i = probability of length i + 1), skewed to short sequences, while every target is
    padded to `max_len + 1` steps: most target steps are padding (about 80% with `CONFIG`)."""

    n_symbols: int = 50
    max_len: int = 15
    length_probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.08, 0.05, 0.03, 0.02)
    n_train: int = 2000
    n_test: int = 500
    embed_dim: int = 16
    units: int = 64
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 0.01

    def __post_init__(self):
        if not 1 <= len(self.length_probs) <= self.max_len:
            raise ValueError("length_probs must give 1 to max_len probabilities")

    @property
    def time(self) -> int:
        """Steps per target: the longest sequence plus its end token."""
        return self.max_len + 1


CONFIG = TaskConfig()


@dataclass(frozen=True)
class Seq2SeqData:
    """One encoded data set; every array has `n` rows and `time` columns (lengths: (n,))."""

    encoder_inputs: np.ndarray  # (n, time) int32
    decoder_inputs: np.ndarray  # (n, time) int32: start token, then targets shifted right
    targets: np.ndarray  # (n, time) int32
    lengths: np.ndarray  # (n,) int32: real tokens before the end token
    start_id: int
    end_id: int
    pad_id: int
    vocab_size: int
    encoding: str

    @property
    def mask(self) -> np.ndarray:
        """(n, time) bool: True on real target positions (the tokens and the end token)."""
        steps = np.arange(self.targets.shape[1])
        return steps[None, :] <= self.lengths[:, None]

    @property
    def token_mask(self) -> np.ndarray:
        """(n, time) bool: True on the real tokens only (the end position excluded)."""
        steps = np.arange(self.targets.shape[1])
        return steps[None, :] < self.lengths[:, None]

    @property
    def inputs(self) -> list[np.ndarray]:
        """`[encoder_inputs, decoder_inputs]`, the model's two inputs."""
        return [self.encoder_inputs, self.decoder_inputs]

    def __len__(self) -> int:
        return len(self.targets)

    def take(self, rows) -> Seq2SeqData:
        """The subset `rows` (a slice or an index array) of this data set."""
        return replace(
            self,
            encoder_inputs=self.encoder_inputs[rows],
            decoder_inputs=self.decoder_inputs[rows],
            targets=self.targets[rows],
            lengths=self.lengths[rows],
        )


# --------------------------------------------------------------------------- data


def _sequences(n: int, seed: int, config: TaskConfig) -> tuple[list[list[int]], np.ndarray]:
    """`n` source sequences of symbols 0..S-1 and their lengths, seeded."""
    rng = np.random.default_rng(seed)
    probs = np.asarray(config.length_probs, dtype=float)
    probs = probs / probs.sum()
    lengths = rng.choice(np.arange(1, len(probs) + 1), size=n, p=probs)
    sources = [rng.integers(0, config.n_symbols, size=int(length)).tolist() for length in lengths]
    return sources, lengths.astype("int32")


def _encode(sources, lengths, encoding: str, config: TaskConfig) -> Seq2SeqData:
    steps = config.time
    symbols = config.n_symbols
    if encoding == NAIVE:
        shift, start_id, end_id = 0, symbols, symbols + 1
        pad_id, vocab_size = end_id, symbols + 2
    elif encoding == FIXED:
        shift, start_id, end_id = 1, symbols + 1, symbols + 2
        pad_id, vocab_size = 0, symbols + 3
    else:
        raise ValueError(f"encoding must be {NAIVE!r} or {FIXED!r}, not {encoding!r}")
    n = len(sources)
    encoder_inputs = np.full((n, steps), pad_id, dtype="int32")
    targets = np.full((n, steps), pad_id, dtype="int32")
    for i, source in enumerate(sources):
        ids = np.asarray(source, dtype="int32") + shift
        encoder_inputs[i, : len(ids)] = ids
        targets[i, : len(ids)] = ids[::-1]  # the task: reverse the sequence
        targets[i, len(ids)] = end_id
    decoder_inputs = np.empty_like(targets)
    decoder_inputs[:, 0] = start_id
    decoder_inputs[:, 1:] = targets[:, :-1]
    if encoding == FIXED:
        # The end token is never fed to the decoder: from the end position on, inputs are padding,
        # so `decoder_inputs != 0` marks exactly the real target positions.
        decoder_inputs[decoder_inputs == end_id] = pad_id
    return Seq2SeqData(
        encoder_inputs=encoder_inputs,
        decoder_inputs=decoder_inputs,
        targets=targets,
        lengths=np.asarray(lengths, dtype="int32"),
        start_id=start_id,
        end_id=end_id,
        pad_id=pad_id,
        vocab_size=vocab_size,
        encoding=encoding,
    )


def make_task(
    n: int = CONFIG.n_train, seed: int = 0, encoding: str = NAIVE, config: TaskConfig = CONFIG
) -> Seq2SeqData:
    """`n` seeded sequences of the toy task in the `"naive"` or `"fixed"` encoding."""
    sources, lengths = _sequences(n, seed, config)
    return _encode(sources, lengths, encoding, config)


def make_split(
    seed: int = 0, encoding: str = NAIVE, config: TaskConfig = CONFIG
) -> tuple[Seq2SeqData, Seq2SeqData]:
    """`(train, test)`: `config.n_train` and `config.n_test` sequences from independent streams."""
    train_seed, test_seed = np.random.SeedSequence(seed).generate_state(2)
    train = make_task(config.n_train, int(train_seed), encoding, config)
    test = make_task(config.n_test, int(test_seed), encoding, config)
    return train, test


def to_fixed(data: Seq2SeqData, config: TaskConfig = CONFIG) -> Seq2SeqData:
    """The same sequences in the fixed encoding (0 = padding, ids shifted by one)."""
    if data.encoding == FIXED:
        return data
    sources = [
        list(row[:length]) for row, length in zip(data.encoder_inputs, data.lengths, strict=True)
    ]
    return _encode(sources, data.lengths, FIXED, config)


def pre_padded(data: Seq2SeqData) -> Seq2SeqData:
    """The same data with the encoder inputs padded at the front (`pad_sequences`' default
    `padding="pre"`): each row's symbols end at the last step, so the encoder reads the padding
    first and its last real symbol last. Decoder inputs and targets are unchanged."""
    steps = data.encoder_inputs.shape[1]
    encoder_inputs = np.full_like(data.encoder_inputs, data.pad_id)
    for i, length in enumerate(data.lengths):
        encoder_inputs[i, steps - length :] = data.encoder_inputs[i, :length]
    return replace(data, encoder_inputs=encoder_inputs)


# --------------------------------------------------------------------------- model and training


class TrainResult(NamedTuple):
    history: dict[str, list[float]]
    seconds: float


def build_model(
    vocab_size: int,
    *,
    mask_zero: bool = False,
    seed: int = 0,
    embed_dim: int = CONFIG.embed_dim,
    units: int = CONFIG.units,
    encoder_mask_zero: bool | None = None,
    decoder_mask_zero: bool | None = None,
    encoder_vocab_size: int | None = None,
):
    """An uncompiled Embedding + LSTM encoder-decoder: `[encoder_inputs, decoder_inputs]`
    (batch, time) ids -> probabilities (batch, time, vocab_size). The encoder's final state
    starts the decoder. With `mask_zero=True` both embeddings mask id 0 (so `vocab_size` must
    count the padding id). `encoder_mask_zero` / `decoder_mask_zero` set one side alone (the
    capstone's ablations); `encoder_vocab_size` (default `vocab_size`) sizes the encoder's
    Embedding when the encoder reads other ids than the decoder (a masked encoder in front of
    naive targets)."""
    import keras

    encoder_mask_zero = mask_zero if encoder_mask_zero is None else encoder_mask_zero
    decoder_mask_zero = mask_zero if decoder_mask_zero is None else decoder_mask_zero
    keras.utils.set_random_seed(seed)
    encoder_inputs = keras.Input(shape=(None,), dtype="int32", name="encoder_inputs")
    decoder_inputs = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
    x = keras.layers.Embedding(
        encoder_vocab_size or vocab_size,
        embed_dim,
        mask_zero=encoder_mask_zero,
        name="encoder_embedding",
    )(encoder_inputs)
    _, state_h, state_c = keras.layers.LSTM(units, return_state=True, name="encoder_lstm")(x)
    y = keras.layers.Embedding(
        vocab_size, embed_dim, mask_zero=decoder_mask_zero, name="decoder_embedding"
    )(decoder_inputs)
    y = keras.layers.LSTM(units, return_sequences=True, name="decoder_lstm")(
        y, initial_state=[state_h, state_c]
    )
    probs = keras.layers.Dense(vocab_size, activation="softmax", name="probs")(y)
    return keras.Model([encoder_inputs, decoder_inputs], probs, name="seq2seq")


def train(
    model,
    data: Seq2SeqData,
    epochs: int | None = None,
    seed: int = 0,
    sample_weight: Any = None,
    loss: Any = None,
    *,
    config: TaskConfig = CONFIG,
    callbacks: list | None = None,
) -> TrainResult:
    """Compile `model` (Adam, `loss` or sparse categorical crossentropy) and fit it on `data`
    with teacher forcing; seeded, silent. `sample_weight`: (n, time) per step or (n,) per
    sequence. `callbacks` go to `fit` (the capstone grid measures the test split after every
    epoch with one). Returns `(history, seconds)`, history = `{"loss": [one value per epoch]}`."""
    import keras

    from . import training_progress  # one updating line in a notebook, else nothing

    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=loss if loss is not None else keras.losses.SparseCategoricalCrossentropy(),
    )
    if model.built:
        # Without a distribution strategy Keras 3 creates Adam's slots inside the first traced
        # training step, and a tf.function that creates variables is traced twice: building
        # them here saves that second trace (2.5-3 s, a quarter of a 6-epoch training on 2 cores)
        # and changes no number (the slots start at zero either way).
        model.optimizer.build(model.trainable_variables)
    start = _time.perf_counter()
    fitted = model.fit(
        data.inputs,
        data.targets,
        sample_weight=None if sample_weight is None else np.asarray(sample_weight, "float32"),
        epochs=config.epochs if epochs is None else epochs,
        batch_size=config.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[*training_progress.in_a_kernel("training"), *(callbacks or [])],
    )
    seconds = _time.perf_counter() - start
    history = {key: [float(v) for v in values] for key, values in fitted.history.items()}
    return TrainResult(history, seconds)


def predict_ids(model, data: Seq2SeqData) -> np.ndarray:
    """(n, time) argmax ids of the model's predictions under teacher forcing.

    Batch by batch with `predict_on_batch`: the same traced step on the same batches as
    `model.predict(data.inputs, batch_size=256)`, so the same numbers, without the tf.data
    pipeline `predict` builds at every call (setting it up cost more than predicting 500
    sequences: 0.3 s of CPU a call on 2 cores)."""
    probs = [
        np.asarray(model.predict_on_batch([x[start : start + 256] for x in data.inputs]))
        for start in range(0, len(data), 256)
    ]
    if not probs:  # no sequences
        return np.zeros(data.targets.shape, dtype="int32")
    return np.argmax(np.concatenate(probs), axis=-1).astype("int32")


def greedy_ids(model, data: Seq2SeqData) -> np.ndarray:
    """(n, time) ids decoded greedily, without teacher forcing: the decoder starts from the start
    token and is fed its own previous prediction at every step, as at inference time. In the
    fixed encoding the decoder reads 0 (padding) once it has predicted the end token, as in
    training; in the naive one it reads the end token it predicted."""
    import logging

    n, steps = data.targets.shape
    decoder_inputs = np.full((n, steps), data.pad_id, dtype="int32")
    decoder_inputs[:, 0] = data.start_id
    ended = np.zeros(n, dtype=bool)
    predicted = np.zeros((n, steps), dtype="int32")
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # a predict function traced anew: no "retracing" warning
    try:
        for t in range(steps):
            # The decoder is causal: step t's output depends on decoder inputs 0..t only.
            probs = model.predict_on_batch([data.encoder_inputs, decoder_inputs])
            predicted[:, t] = np.argmax(np.asarray(probs)[:, t], axis=-1)
            if t + 1 < steps:
                ended |= predicted[:, t] == data.end_id
                fed = predicted[:, t]
                if data.encoding == FIXED:
                    fed = np.where(ended, data.pad_id, fed)
                decoder_inputs[:, t + 1] = fed
    finally:
        tf_logger.setLevel(level)
    return predicted


# --------------------------------------------------------------------------- metrics


def _ids(y_pred) -> np.ndarray:
    y_pred = np.asarray(y_pred)
    return np.argmax(y_pred, axis=-1) if y_pred.ndim == 3 else y_pred


def _steps(shape, lengths) -> tuple[np.ndarray, np.ndarray]:
    steps = np.arange(shape[1])[None, :]
    lengths = np.asarray(lengths)[:, None]
    return steps < lengths, steps == lengths  # tokens, end position


def real_token_accuracy(y_true, y_pred, lengths) -> float:
    """Accuracy over the real tokens only: positions `t < lengths` (the end token and the
    padding after it excluded)."""
    y_true = np.asarray(y_true)
    tokens, _ = _steps(y_true.shape, lengths)
    return float(np.mean((_ids(y_pred) == y_true)[tokens]))


def end_token_rate(y_pred, lengths, end_id: int) -> float:
    """The fraction of real, non-end target positions (`t < lengths`) where the model predicts
    the end token. The true rate is 0: no real token is the end token. A model that "only
    predicts the end token" scores near 1."""
    ids = _ids(y_pred)
    tokens, _ = _steps(ids.shape, lengths)
    return float(np.mean((ids == end_id)[tokens]))


def end_position_accuracy(y_pred, lengths, end_id: int) -> float:
    """The fraction of sequences whose end token is predicted at its position `t == lengths`."""
    ids = _ids(y_pred)
    _, end = _steps(ids.shape, lengths)
    return float(np.mean((ids == end_id)[end]))


def exact_match(y_true, y_pred, lengths) -> float:
    """The fraction of sequences whose every real position (`t <= lengths`: the tokens and the
    end token) is predicted right under teacher forcing; padding is ignored."""
    y_true = np.asarray(y_true)
    tokens, end = _steps(y_true.shape, lengths)
    right = (_ids(y_pred) == y_true) | ~(tokens | end)
    return float(np.mean(np.all(right, axis=1)))


def position_token_accuracy(y_true, y_pred, lengths) -> np.ndarray:
    """(time,): at each position t, the accuracy over the sequences that have a real token there
    (`t < lengths`; the end token excluded, so end-token hits cannot pass for learning); NaN
    where no sequence has a token at t."""
    y_true = np.asarray(y_true)
    tokens, _ = _steps(y_true.shape, lengths)
    right = (_ids(y_pred) == y_true) & tokens
    with np.errstate(invalid="ignore", divide="ignore"):
        return right.sum(axis=0) / tokens.sum(axis=0)


def position_end_rate(y_pred, lengths, end_id: int) -> np.ndarray:
    """(time,): at each position t, the share of the sequences with a real token there
    (`t < lengths`) for which the model predicts the end token; NaN where there is none."""
    ids = _ids(y_pred)
    tokens, _ = _steps(ids.shape, lengths)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ids == end_id) & tokens).sum(axis=0) / tokens.sum(axis=0)


def position_modes(targets, where=None) -> np.ndarray:
    """(time,) int: the most frequent id at each position of `targets` (n, time), counted over
    the rows where `where` (n, time) is True (every row if None); -1 where nothing is counted.
    Predicting these ids whatever the input is the best an input-blind model can do."""
    targets = np.asarray(targets)
    where = np.ones(targets.shape, dtype=bool) if where is None else np.asarray(where)
    modes = np.full(targets.shape[1], -1, dtype="int32")
    for t in range(targets.shape[1]):
        column = targets[where[:, t], t]
        if column.size:
            modes[t] = np.bincount(column).argmax()
    return modes


METRICS = ("real_token_accuracy", "end_token_rate", "end_position_accuracy", "exact_match")


def metrics(y_true, y_pred, lengths, end_id: int) -> dict[str, float]:
    """The four padding-blind metrics of `METRICS` for one set of predictions."""
    return {
        "real_token_accuracy": real_token_accuracy(y_true, y_pred, lengths),
        "end_token_rate": end_token_rate(y_pred, lengths, end_id),
        "end_position_accuracy": end_position_accuracy(y_pred, lengths, end_id),
        "exact_match": exact_match(y_true, y_pred, lengths),
    }


def evaluate(model, data: Seq2SeqData) -> dict[str, float]:
    """`metrics` of the model's teacher-forced predictions on `data`."""
    return metrics(data.targets, predict_ids(model, data), data.lengths, data.end_id)


# --------------------------------------------------------------------------- fixes


def class_weight_dict(y_true, end_id: int, vocab_size: int) -> dict[int, float]:
    """`{class: weight}` for every id below `vocab_size`: 1.0, except the end token, weighted
    `ratio = mean count of the other classes present in y_true / end-token count`, counted over
    all timesteps of all sequences (so ratio < 1 when end tokens dominate)."""
    y_true = np.asarray(y_true).ravel()
    classes, counts = np.unique(y_true, return_counts=True)
    end_count = counts[classes == end_id].sum()
    others = counts[classes != end_id]
    ratio = float(others.mean() / end_count) if end_count and others.size else 1.0
    weights = {c: 1.0 for c in range(vocab_size)}
    weights[int(end_id)] = ratio
    return weights


def timestep_sample_weight(y_true, class_weight: dict[int, float]) -> np.ndarray:
    """(n, time) float32: each target position weighted by its class's weight, the per-timestep
    `sample_weight` that replaces `fit(class_weight=...)` for sequence targets."""
    y_true = np.asarray(y_true)
    lookup = np.ones(max(max(class_weight) + 1, int(y_true.max()) + 1), dtype="float32")
    for cls, weight in class_weight.items():
        lookup[int(cls)] = weight
    return lookup[y_true]
