"""Small, seeded data sets the lessons share. Shapes follow the course vocabulary:
token ids `(batch, time)`, one-hot `(batch, time, features)`, `mask` True on real tokens."""

from __future__ import annotations

import numpy as np

# One-hot character example: '#' is the placeholder for "no character", encoded as an all-zero row.
CHAR_ALPHABET = "abc"
PLACEHOLDER = "#"
CHAR_WORDS = ["abc", "ba", "cab", "a", "bca", "cc"]


def ragged_batch(n: int = 4, *, min_len: int = 2, max_len: int = 7, vocab: int = 20, seed: int = 0):
    """`n` sequences of token ids in 1..vocab-1 (0 stays free for padding), of varied lengths."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    return [rng.integers(1, vocab, size=int(length)).tolist() for length in lengths]


def small_masking_example():
    """The two-sequence example: inputs `(2, 5, 2)` whose all-zero steps `Masking(0.)` masks,
    and targets of all ones `(2, 5, 1)`."""
    x = np.array(
        [
            [[0, 0], [0, 0], [1, 0], [0, 1], [0, 1]],
            [[0, 0], [0, 1], [1, 0], [0, 1], [0, 1]],
        ],
        dtype="float32",
    )
    y = np.ones((2, 5, 1), dtype="float32")
    return x, y


def one_hot_chars(words: list[str], maxlen: int, alphabet: str = CHAR_ALPHABET) -> np.ndarray:
    """Words -> one-hot `(batch, maxlen, len(alphabet))`; positions past a word's end, and the
    placeholder '#', are all-zero rows (so `Masking(0.)` and a loss can tell them apart)."""
    out = np.zeros((len(words), maxlen, len(alphabet)), dtype="float32")
    for i, word in enumerate(words):
        for t, char in enumerate(word[:maxlen]):
            if char != PLACEHOLDER:
                out[i, t, alphabet.index(char)] = 1.0
    return out


def decode_chars(one_hot: np.ndarray, alphabet: str = CHAR_ALPHABET) -> list[str]:
    """One-hot or probabilities `(batch, time, classes)` -> strings, '#' where a row is all zero."""
    arr = np.asarray(one_hot)
    words = []
    for row in arr:
        words.append(
            "".join(alphabet[int(np.argmax(v))] if np.any(v > 0) else PLACEHOLDER for v in row)
        )
    return words


def char_reversal_task(words: list[str] | None = None, maxlen: int = 4):
    """The character seq2seq example: input a word, target the word reversed, both one-hot and
    padded with '#' (all-zero rows) to `maxlen`. Returns `(x, y_true)`, each `(batch, maxlen, 3)`."""
    words = CHAR_WORDS if words is None else words
    x = one_hot_chars(words, maxlen)
    y_true = one_hot_chars([w[::-1] for w in words], maxlen)
    return x, y_true


def padded_feature_batch(lengths, steps: int, features: int = 3, *, seed: int = 0):
    """A post-padded batch of real-valued sequences with a 0/1 label on every step.

    Real steps hold features in [0.1, 1.0), so no real step is all zero; padded steps are all
    zero (what `Masking(0.)` masks). Labels are drawn for every step, padding included, because
    the question is whether the loss ignores the labels of masked steps.
    Returns `(x, y_true, mask)`: `(batch, steps, features)`, `(batch, steps, 1)`, `(batch, steps)`.
    """
    lengths = np.asarray(lengths)
    rng = np.random.default_rng(seed)
    mask = np.arange(steps)[None, :] < lengths[:, None]
    x = rng.uniform(0.1, 1.0, size=(len(lengths), steps, features)).astype("float32")
    x[~mask] = 0.0
    y_true = rng.integers(0, 2, size=(len(lengths), steps, 1)).astype("float32")
    return x, y_true, mask
