"""Lesson 08's checks: the diagnosis cases separate every misconception, and the repair check
passes a model whose encoder reads its input and rejects the broken model and loss-only fixes.
(The capstone's claims are checked on the committed grid: tests/test_findings.py.)"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from course_utils import checking, losses, seq2seq
from course_utils.lessons import l08_capstone as capstone


@pytest.fixture(autouse=True)
def _deterministic_ops():
    tf.config.experimental.enable_op_determinism()


def _repair_with_mask_and_class_weight(train, seed=0):
    fixed = seq2seq.to_fixed(train)
    model = seq2seq.build_model(fixed.vocab_size, mask_zero=True, seed=seed)
    weights = seq2seq.class_weight_dict(fixed.targets[fixed.mask], fixed.end_id, fixed.vocab_size)
    sample_weight = seq2seq.timestep_sample_weight(fixed.targets, weights)
    seq2seq.train(model, fixed, seed=seed, sample_weight=sample_weight)
    return model


def _repair_with_argmax_loss(train, seed=0):
    model = seq2seq.build_model(train.vocab_size, seed=seed)
    seq2seq.train(
        model, train, seed=seed, loss=losses.make_argmax_loss(train.start_id, train.end_id)
    )
    return model


def _repair_exercise():
    return {ex.name: ex for ex in capstone.EXERCISES}["repair"]


def test_the_repair_check_accepts_the_mask_with_class_weights_on_top(progress_file):
    result = _repair_exercise().check(_repair_with_mask_and_class_weight)
    assert result.status is checking.Status.PASSED, result.message


def test_the_repair_check_rejects_the_argmax_loss_alone_naming_the_encoder(progress_file):
    result = _repair_exercise().check(_repair_with_argmax_loss)
    assert result.status is checking.Status.FAILED
    assert "while the encoder reads the padding" in result.message


def test_the_repair_threshold_sits_between_the_broken_model_and_the_mask_on_every_seed():
    """The check's split is the grid's seed `CHECK_SEED`; the broken model and fix 1 are the
    grid's cells post/plain and masked/masked_propagated, at the course's budget, on that test
    split. The threshold keeps a margin of 0.2 from both, on every seed of the grid."""
    from course_utils import experiment

    grid = experiment.load()
    assert capstone.CHECK_SEED in grid.seeds
    broken = grid.values("post", "plain", "real_token_accuracy")
    fixed = grid.values("masked", "masked_propagated", "real_token_accuracy")
    assert broken.max() + 0.2 <= capstone.REPAIR_MIN_ACCURACY <= fixed.min() - 0.2, (broken, fixed)


@pytest.mark.parametrize("case", range(3))
def test_every_diagnosis_misconception_differs_from_the_right_answer(case):
    y_true, y_pred, lengths, end_id = capstone._diagnosis_cases()[case]
    rate = capstone.end_token_rate(y_pred, lengths, end_id)
    for wrong in (
        capstone._rate_all_steps,
        capstone._rate_with_end_position,
        capstone._rate_over_batch,
    ):
        assert not np.isclose(wrong(y_pred, lengths, end_id), rate), wrong.__name__
    accuracy = capstone.per_position_accuracy(y_true, y_pred, lengths)
    assert np.all(np.isfinite(accuracy))
    for wrong in (capstone._position_with_padding, capstone._position_over_all_sequences):
        assert not np.allclose(wrong(y_true, y_pred, lengths), accuracy), wrong.__name__
