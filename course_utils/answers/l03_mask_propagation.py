"""Answers of lesson 03's exercises: the reference layers, right answers written differently, and
each named mistake (see `course_utils.lessons.l03_mask_propagation`). Layer answers are classes;
the prediction's answers are lists."""

from __future__ import annotations

import keras
from keras import ops

# ======================================================================= exercise 1: reverse_time


class ReverseTime(keras.layers.Layer):
    """`(batch, time, features)` -> same shape, the steps in reverse order; the mask is reversed
    with them, so each entry still describes the step it belongs to."""

    def call(self, inputs):
        return ops.flip(inputs, axis=1)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return ops.flip(mask, axis=1)


# ----------------------------------------------------------------- written differently


class ReverseTimeByIndexing(keras.layers.Layer):
    def call(self, inputs):
        return inputs[:, ::-1, :]

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[:, ::-1]


class ReverseTimeWithTake(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        steps = ops.shape(inputs)[1]
        return ops.take(inputs, ops.arange(steps - 1, -1, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return mask
        steps = ops.shape(mask)[1]
        return ops.take(mask, ops.arange(steps - 1, -1, -1), axis=1)


# ----------------------------------------------------------------- misconceptions


class HandsOnTheSameMask(ReverseTime):
    """Copied from the lecture's `Scale`: the steps move, the mask does not."""

    def compute_mask(self, inputs, mask=None):
        return mask


class EndsTheMask(ReverseTime):
    def compute_mask(self, inputs, mask=None):
        return None


class NoComputeMask(keras.layers.Layer):
    """No `compute_mask` override: Keras 3 then sets `supports_masking = False` and warns."""

    def call(self, inputs):
        return ops.flip(inputs, axis=1)


class SwitchesMaskingOff(ReverseTime):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = False


class FailsWithoutAMask(ReverseTime):
    def compute_mask(self, inputs, mask=None):
        return ops.flip(mask, axis=1)


class ReversesTheBatch(ReverseTime):
    def compute_mask(self, inputs, mask=None):
        return None if mask is None else ops.flip(mask, axis=0)


class MaskFromValues(ReverseTime):
    """A new mask from the values: an embedded padding token is not a zero vector."""

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(ops.flip(inputs, axis=1), 0.0), axis=-1)


class ReversesTheFeatures(ReverseTime):
    def call(self, inputs):
        return ops.flip(inputs, axis=-1)


# ======================================================================= exercise 2: masked_mean


class MaskedMean(keras.layers.Layer):
    """`(batch, time, features)` -> `(batch, features)`: the mean over each row's real steps; a
    row with no real step gives 0 (as lesson 07's masked loss does)."""

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)  # (batch, time, 1)
        total = ops.sum(inputs * weights, axis=1)  # (batch, features)
        count = ops.maximum(ops.sum(weights, axis=1), 1.0)  # (batch, 1)
        return total / count

    def compute_mask(self, inputs, mask=None):
        return None  # the time axis is gone, so the mask ends here


# ----------------------------------------------------------------- written differently


class MaskedMeanWithWhere(keras.layers.Layer):
    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        real = ops.expand_dims(mask, -1)
        total = ops.sum(ops.where(real, inputs, 0.0), axis=1)
        count = ops.sum(ops.cast(real, inputs.dtype), axis=1)
        return ops.where(count > 0, total / ops.maximum(count, 1.0), 0.0)

    def compute_mask(self, inputs, mask=None):
        return None


class MaskedMeanByDivideNoNan(keras.layers.Layer):
    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.cast(mask, inputs.dtype)[:, :, None]
        total = ops.einsum("btf,bto->bf", inputs, weights)
        count = ops.sum(weights, axis=1)
        return ops.divide_no_nan(total, count)

    def compute_mask(self, inputs, mask=None):
        return None


# ----------------------------------------------------------------- misconceptions


class PlainMean(keras.layers.Layer):
    """Ignores the mask: no `mask` argument, no `compute_mask`."""

    def call(self, inputs):
        return ops.mean(inputs, axis=1)


class MeanWithoutComputeMask(keras.layers.Layer):
    """Right values, but no `compute_mask` override: Keras warns "will destroy the mask"."""

    def call(self, inputs, mask=None):
        return MaskedMean.call(self, inputs, mask)


class DividesByEveryStep(MaskedMean):
    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        steps = ops.cast(ops.shape(inputs)[1], inputs.dtype)
        return ops.sum(inputs * weights, axis=1) / steps


class AveragesThePadding(MaskedMean):
    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        return MaskedMean.call(self, inputs, ops.logical_not(mask))


class NanForAnEmptyRow(MaskedMean):
    """Divides by the count of real steps with no guard: 0 / 0 = NaN for an all-padding row."""

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs * weights, axis=1) / ops.sum(weights, axis=1)


class PassesTheMaskOn(MaskedMean):
    def compute_mask(self, inputs, mask=None):
        return mask


# ======================================================================= exercise 3: predict

# PREDICTION_LAYERS: embedding, dense, dropout, lstm, pooling, classifier
keeps_mask = [True, True, True, True, False, False]

# ----------------------------------------------------------------- written differently

keeps_mask_as_tuple = (True, True, True, True, False, False)
keeps_mask_from_comparisons = [
    name not in ("pooling", "classifier")
    for name in ("embedding", "dense", "dropout", "lstm", "pooling", "classifier")
]

# ----------------------------------------------------------------- misconceptions

mask_survives_pooling = [True, True, True, True, True, True]
classifier_recreates_it = [True, True, True, True, False, True]
dropout_drops_it = [True, True, False, True, False, False]
dense_drops_it = [True, False, False, False, False, False]
embedding_only_passes = [False, False, False, False, False, False]
