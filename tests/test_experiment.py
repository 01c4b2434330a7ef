"""The capstone's controlled experiment: its design, how each cell builds its data and model, the
committed results file, and a re-run of a sample of it that must reproduce the committed numbers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from course_utils import experiment as ex
from course_utils import seq2seq as s2s

SMALL = s2s.TaskConfig(n_train=64, n_test=32, epochs=1)


@pytest.fixture(scope="module")
def grid():
    return ex.load()


def test_the_design_crosses_every_input_side_with_the_core_losses_on_every_seed():
    cells = ex.design()
    assert len(cells) == len(set(cells))
    for seed in ex.SEEDS:
        for side in ex.INPUT_SIDES:
            for loss in ("plain", "class_weight", "argmax", "masked"):
                assert ex.Cell(side, loss, seed) in cells
        for loss in ex.MASKED_LOSSES:
            assert ex.Cell("masked", loss, seed) in cells  # four ways to write one loss
    assert {c.loss for c in cells} == set(ex.LOSS_SIDES)


def test_cells_parse_from_their_keys_and_bad_keys_get_a_sentence():
    cell = ex.Cell("pre", "masked_hand", 3)
    assert ex.Cell.parse(cell.key) == cell
    for bad in ("pre/masked_hand", "side/plain/0", "post/dropout/0", "post/plain/zero"):
        with pytest.raises(ValueError, match="INPUT/LOSS/SEED|whole number"):
            ex.Cell.parse(bad)


def test_pre_padding_moves_the_symbols_to_the_end_and_keeps_everything_else():
    data = s2s.make_task(20, seed=1)
    pre = s2s.pre_padded(data)
    steps = data.encoder_inputs.shape[1]
    for row, old, length in zip(pre.encoder_inputs, data.encoder_inputs, data.lengths, strict=True):
        np.testing.assert_array_equal(row[steps - length :], old[:length])
        assert np.all(row[: steps - length] == data.pad_id)
    np.testing.assert_array_equal(pre.targets, data.targets)
    np.testing.assert_array_equal(pre.decoder_inputs, data.decoder_inputs)


def test_a_masked_encoder_in_front_of_naive_targets_reads_shifted_ids_and_masks_only_itself():
    setup = ex.prepare(ex.Cell("masked", "plain", 0), SMALL)
    naive = s2s.make_split(0, s2s.NAIVE, SMALL)[0]
    assert setup.train.encoding == s2s.NAIVE and setup.train.pad_id == naive.end_id
    np.testing.assert_array_equal(setup.train.targets, naive.targets)  # thread 002's targets
    np.testing.assert_array_equal(setup.train.encoder_inputs != 0, naive.token_mask)
    encoder = setup.model.get_layer("encoder_embedding")
    assert encoder.mask_zero and encoder.input_dim == naive.vocab_size + 1
    assert not setup.model.get_layer("decoder_embedding").mask_zero
    assert setup.model.output_shape[-1] == naive.vocab_size


@pytest.mark.parametrize(
    ("loss", "encoding", "decoder_masked", "weighted"),
    [
        ("plain", s2s.NAIVE, False, False),
        ("class_weight", s2s.NAIVE, False, True),
        ("argmax", s2s.NAIVE, False, False),
        ("mae", s2s.NAIVE, False, False),
        ("masked", s2s.FIXED, False, False),
        ("masked_weight", s2s.FIXED, False, True),
        ("masked_hand", s2s.FIXED, False, False),
        ("masked_propagated", s2s.FIXED, True, False),
        ("masked_class_weight", s2s.FIXED, True, True),
    ],
)
def test_each_loss_side_trains_on_its_encoding_with_its_loss(
    loss, encoding, decoder_masked, weighted
):
    setup = ex.prepare(ex.Cell("post", loss, 0), SMALL)
    assert setup.train.encoding == encoding
    assert setup.model.get_layer("decoder_embedding").mask_zero is decoder_masked
    assert (setup.sample_weight is not None) is weighted
    if loss == "masked_weight":
        np.testing.assert_array_equal(setup.sample_weight, setup.train.mask)


def test_the_masked_encoder_with_the_propagated_mask_is_fix_1_exactly():
    setup = ex.prepare(ex.Cell("masked", "masked_propagated", 0), SMALL)
    fix_1 = s2s.build_model(setup.train.vocab_size, mask_zero=True, seed=0)
    assert [layer.get_config() for layer in setup.model.layers] == [
        layer.get_config() for layer in fix_1.layers
    ]


class _EchoModel:
    """Predicts, at each step t, the decoder input at t plus one (a stand-in for a trained
    decoder: what greedy decoding feeds back decides every later step)."""

    def __init__(self, vocab):
        self.vocab = vocab

    def predict_on_batch(self, inputs):
        _, decoder = inputs
        return np.eye(self.vocab)[np.minimum(decoder + 1, self.vocab - 1)]


def test_greedy_decoding_feeds_back_its_own_predictions_and_padding_after_the_end():
    data = s2s.make_task(3, seed=0, encoding=s2s.FIXED)
    decoded = s2s.greedy_ids(_EchoModel(data.vocab_size), data)
    # start (51) -> 52 = end; after the end the fixed decoder reads 0, so it predicts 1.
    assert data.start_id + 1 == data.end_id
    np.testing.assert_array_equal(decoded[:, 0], data.end_id)
    np.testing.assert_array_equal(decoded[:, 1:], 1)
    naive = s2s.make_task(3, seed=0)
    decoded = s2s.greedy_ids(_EchoModel(naive.vocab_size), naive)
    np.testing.assert_array_equal(decoded, naive.end_id)  # the naive decoder reads its end token


def test_position_metrics_count_tokens_only():
    end = 9
    y_true = np.array([[1, 2, end, end], [3, end, end, end]])
    lengths = np.array([2, 1])
    pred = np.array([[1, end, end, 0], [4, end, end, end]])
    np.testing.assert_allclose(
        s2s.position_token_accuracy(y_true, pred, lengths), [0.5, 0.0, np.nan, np.nan]
    )
    np.testing.assert_allclose(
        s2s.position_end_rate(pred, lengths, end), [0.0, 1.0, np.nan, np.nan]
    )


def test_position_modes_count_only_where_told():
    targets = np.array([[1, 5, 5], [2, 7, 5], [2, 7, 5]])
    np.testing.assert_array_equal(s2s.position_modes(targets), [2, 7, 5])
    where = np.array([[True, True, False], [True, False, False], [True, False, False]])
    np.testing.assert_array_equal(s2s.position_modes(targets, where), [2, 5, -1])


def test_the_input_blind_answer_is_the_end_token_after_the_first_position():
    blind = ex.input_blind(0)
    naive = s2s.make_split(0)[0]
    assert blind["same_answer_without_padding"]
    assert all(mode == naive.end_id for mode in blind["modes"][1:])


# --------------------------------------------------------------------------- the committed file


def test_the_results_file_records_versions_seeds_budget_and_run_time(grid):
    payload = grid.payload
    assert payload["experiment"] == "capstone"
    assert set(payload["versions"]) >= {"tensorflow", "keras", "numpy", "python", "cpu"}
    assert grid.seeds == list(ex.SEEDS) and grid.epochs == ex.EPOCHS
    assert payload["config"]["epochs"] == s2s.CONFIG.epochs
    assert payload["seconds"] > 0 and payload["jobs"] >= 1


def test_the_results_file_holds_every_cell_of_the_design_with_every_epoch(grid):
    assert {(c.input, c.loss, c.seed) for c in ex.design()} == {
        (c["input"], c["loss"], c["seed"]) for c in grid.payload["cells"]
    }
    for cell in grid.payload["cells"]:
        assert len(cell["train_loss"]) == ex.EPOCHS
        assert all(len(cell["metrics"][name]) == ex.EPOCHS for name in ex.SERIES)
        assert sorted(cell["at"], key=int) == [str(e) for e in grid.payload["snapshots"]]


def test_grid_queries_return_one_value_per_seed_and_refuse_what_was_not_run(grid):
    values = grid.values("post", "plain", "end_token_rate")
    assert values.shape == (len(ex.SEEDS),)
    assert grid.curve("masked", "masked", "real_token_accuracy").shape == (
        len(ex.SEEDS),
        ex.EPOCHS,
    )
    with pytest.raises(ValueError, match="epoch"):
        grid.values("post", "plain", "end_token_rate", epoch=ex.EPOCHS + 1)
    with pytest.raises(KeyError, match="no cell"):
        grid.values("pre", "mae", "end_token_rate")


def test_the_course_budget_of_the_grid_is_the_lectures_own_run(grid):
    """Lesson 05 trains the baseline and fix 1 on seed 0 for the course's budget; the grid's cells
    are the same runs (its per-epoch measurement does not change training)."""
    baseline = grid.cell("post", "plain", 0)["metrics"]
    fix_1 = grid.cell("masked", "masked_propagated", 0)["metrics"]
    epoch = s2s.CONFIG.epochs - 1
    assert baseline["real_token_accuracy"][epoch] == pytest.approx(0.0097, abs=5e-5)
    assert baseline["end_token_rate"][epoch] == pytest.approx(0.5174, abs=5e-5)
    assert fix_1["real_token_accuracy"][epoch] == pytest.approx(0.7249, abs=5e-5)


def test_a_sample_of_the_grid_reproduces_when_re_run():
    """Two cells of seed 0, their first two epochs, in a fresh process as the command runs them."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_utils",
            "experiment",
            "capstone",
            "--verify",
            "post/plain/0",
            "masked/masked_propagated/0",
            "--epochs",
            "2",
            "--tolerance",
            "1e-4",  # the last rounded digit may move on another CPU; a real change is larger
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "reproduced: post/plain/0, masked/masked_propagated/0" in run.stdout


def test_verify_names_every_number_that_differs(tmp_path, monkeypatch, grid):
    committed = grid.cell("pre", "argmax", 1)
    changed = json.loads(json.dumps(committed))
    changed["metrics"]["end_token_rate"][0] += 0.25
    monkeypatch.setattr(
        ex, "run_grid", lambda cells, epochs, jobs, log, snapshots: ([changed], 1.0)
    )
    problems = ex.verify(["pre/argmax/1"], ex.EPOCHS)
    assert len(problems) == 1 and problems[0].startswith("pre/argmax/1 end_token_rate")


def test_the_command_answers_bad_input_with_a_sentence(capsys):
    assert ex.main(["capstone", "--verify", "sideways/plain/0"]) == 2
    assert "is not a cell" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ex.main(["capstone", "--seeds", "one,two"])
    assert "whole numbers" in capsys.readouterr().err
