"""The capstone's controlled experiment: which side of the model decides whether the toy seq2seq
task (`course_utils.seq2seq`) collapses to the end token, and which fix repairs it.

The grid crosses three factors, and records a fourth at every epoch:

- the **input side**, what the encoder reads: `post` (the symbols, then the padding, unmasked:
  thread 002's set-up), `pre` (the padding first, `pad_sequences`' default), `masked` (post
  padding with 0 and `Embedding(mask_zero=True)` in the encoder only);
- the **loss side**, what the loss counts: see `LOSS_SIDES` (plain crossentropy over every step,
  class weights, the argmax rule, and the masked loss written four ways);
- the **seed** (data split, initial weights and shuffling all follow it);
- the **training budget**: every padding-blind metric after every epoch, up to `EPOCHS`.

`python -m course_utils experiment capstone` runs the grid (about half an hour on 2 cores, in
`--jobs` processes of one thread each) into `RESULTS`, a JSON file committed with the course that
records the versions, seeds, configuration and run time. Lessons 05-08 read it with `load()`;
`tests/test_experiment.py` re-runs a sample and must reproduce it.

Not every loss side is crossed with every input side (`design()` says which are): the four
masked-loss implementations compute the same per-batch mean over real steps, so two of them are
run where they answer a question of their own (the masked encoder, and lesson 07's loss on the
unmasked encoder) rather than everywhere.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import seq2seq as s2s

INPUT_SIDES = {
    "post": "the encoder reads the symbols, then the padding (unmasked)",
    "pre": "the encoder reads the padding first, then the symbols (unmasked, padding='pre')",
    "masked": "the encoder reads post-padding with 0, masked by Embedding(mask_zero=True)",
}
LOSS_SIDES = {
    "plain": "crossentropy over every step; targets padded with the end token",
    "class_weight": "crossentropy with a per-step class weight (end token weighted by the ratio)",
    "argmax": "crossentropy, but correctly predicted start/end tokens cost nothing (fix 3)",
    "mae": "thread 002's own loss: mean absolute error on one-hot targets, over every step",
    "argmax_mae": "thread 002's fix 3 exactly as answered: the argmax rule on that MAE",
    "masked": "SparseCategoricalCrossentropy(ignore_class=0): the mean over real steps",
    "masked_weight": (
        "SparseCategoricalCrossentropy(reduction='mean_with_sample_weight') with the mask as "
        "sample_weight"
    ),
    "masked_hand": "the hand-written masked loss of lesson 07 (course_utils.losses.masked_loss)",
    "masked_propagated": (
        "plain crossentropy; the decoder's Embedding(mask_zero=True) mask reaches the loss"
    ),
    "masked_class_weight": (
        "the propagated mask plus a class weight counted over the real steps only"
    ),
}
# Loss sides trained on thread 002's targets: the end token repeated as padding (no pad id).
NAIVE_TARGETS = ("plain", "class_weight", "argmax", "mae", "argmax_mae")
# The four ways of writing the mean over real steps.
MASKED_LOSSES = ("masked", "masked_weight", "masked_hand", "masked_propagated")

SEEDS = (0, 1, 2, 3, 4)
# Long enough for the unmasked baseline to leave its loss plateau; the course's own budget,
# `s2s.CONFIG.epochs`, is read off the same runs.
EPOCHS = 20
RESULTS = Path(__file__).parent / "results" / "capstone.json"
METRICS = s2s.METRICS
# Every per-epoch series a cell records: the padding-blind metrics, then how often the model
# predicts what the input-blind predictor predicts.
SERIES = (*METRICS, "blind_agreement")


@dataclass(frozen=True, order=True)
class Cell:
    """One training run of the grid."""

    input: str  # a key of INPUT_SIDES
    loss: str  # a key of LOSS_SIDES
    seed: int

    @property
    def key(self) -> str:
        return f"{self.input}/{self.loss}/{self.seed}"

    @classmethod
    def parse(cls, key: str) -> Cell:
        """`"post/plain/0"` -> Cell; a clear ValueError for anything else."""
        parts = key.split("/")
        if len(parts) != 3 or parts[0] not in INPUT_SIDES or parts[1] not in LOSS_SIDES:
            raise ValueError(
                f"{key!r} is not a cell: write INPUT/LOSS/SEED with INPUT one of "
                f"{', '.join(INPUT_SIDES)} and LOSS one of {', '.join(LOSS_SIDES)}"
            )
        try:
            seed = int(parts[2])
        except ValueError:
            raise ValueError(f"{key!r}: the seed must be a whole number") from None
        return cls(parts[0], parts[1], seed)


def design(seeds: Iterable[int] = SEEDS) -> list[Cell]:
    """The grid's cells. Every input side meets plain, class_weight, argmax and masked
    (ignore_class); the masked encoder also meets the other three masked-loss implementations
    (with the propagated mask it *is* fix 1) and fix 1 + class weights; the unmasked encoder
    also meets the sample-weight and hand-written masked losses (lesson 07's variant) and
    thread 002's own mean-absolute-error loss, plain and with the argmax rule."""
    pairs = [
        (i, loss) for i in INPUT_SIDES for loss in ("plain", "class_weight", "argmax", "masked")
    ]
    pairs += [("masked", loss) for loss in MASKED_LOSSES[1:]] + [("masked", "masked_class_weight")]
    pairs += [("post", "masked_weight"), ("post", "masked_hand")]
    pairs += [("post", "mae"), ("post", "argmax_mae")]
    return [Cell(i, loss, seed) for seed in seeds for i, loss in pairs]


# --------------------------------------------------------------------------- one cell


@dataclass(frozen=True)
class Setup:
    """What one cell trains: data as the model reads it, the model, its loss and weights."""

    train: s2s.Seq2SeqData
    test: s2s.Seq2SeqData
    model: Any
    loss: Any  # None: sparse categorical crossentropy
    sample_weight: np.ndarray | None


def _input_side(data: s2s.Seq2SeqData, side: str, config: s2s.TaskConfig) -> s2s.Seq2SeqData:
    if side == "post":
        return data
    if side == "pre":
        return s2s.pre_padded(data)
    # masked: the encoder needs 0 as its padding id, so it reads the fixed encoding's ids.
    return replace(data, encoder_inputs=s2s.to_fixed(data, config).encoder_inputs)


def prepare(cell: Cell, config: s2s.TaskConfig = s2s.CONFIG) -> Setup:
    """Data, model, loss and sample weights of one cell (the model is built, seeded, not
    compiled)."""
    import keras

    from . import losses

    encoding = s2s.NAIVE if cell.loss in NAIVE_TARGETS else s2s.FIXED
    train, test = s2s.make_split(cell.seed, encoding, config)
    train = _input_side(train, cell.input, config)
    test = _input_side(test, cell.input, config)
    masked_encoder = cell.input == "masked"
    model = s2s.build_model(
        train.vocab_size,
        seed=cell.seed,
        embed_dim=config.embed_dim,
        units=config.units,
        encoder_mask_zero=masked_encoder,
        decoder_mask_zero=cell.loss in ("masked_propagated", "masked_class_weight"),
        encoder_vocab_size=train.vocab_size + (masked_encoder and encoding == s2s.NAIVE),
    )
    loss, sample_weight = None, None
    if cell.loss == "class_weight":
        weights = s2s.class_weight_dict(train.targets, train.end_id, train.vocab_size)
        sample_weight = s2s.timestep_sample_weight(train.targets, weights)
    elif cell.loss == "argmax":
        loss = losses.make_argmax_loss(train.start_id, train.end_id)
    elif cell.loss == "mae":
        loss = losses.one_hot_mae
    elif cell.loss == "argmax_mae":
        loss = losses.make_argmax_loss(train.start_id, train.end_id, base=losses.one_hot_mae)
    elif cell.loss == "masked":
        loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=train.pad_id)
    elif cell.loss == "masked_weight":
        loss = keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight")
        sample_weight = train.mask.astype("float32")
    elif cell.loss == "masked_hand":
        loss = losses.make_masked_loss(train.pad_id)
    elif cell.loss == "masked_class_weight":
        counted = train.targets[train.mask]
        weights = s2s.class_weight_dict(counted, train.end_id, train.vocab_size)
        sample_weight = s2s.timestep_sample_weight(train.targets, weights)
    return Setup(train, test, model, loss, sample_weight)


def _round(values) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 6) for v in np.ravel(values)]


@dataclass(frozen=True)
class Trained:
    """One cell after training: its set-up (data, the trained model), its loss per epoch and its
    training time."""

    cell: Cell
    setup: Setup
    history: dict[str, list[float]]
    seconds: float

    def probs(self) -> np.ndarray:
        """(n, time, vocab) teacher-forced probabilities on the cell's test split."""
        return np.asarray(self.setup.model.predict_on_batch(self.setup.test.inputs))


def train_cell(
    cell: Cell,
    epochs: int | None = None,
    config: s2s.TaskConfig = s2s.CONFIG,
    callbacks: Callable[[Setup], list] | None = None,
) -> Trained:
    """Build and train one cell (`epochs` defaults to the course's budget, `config.epochs`).
    Lessons use it to get a trained model of the grid; `run_cell` adds its measurements as
    `callbacks(setup)`, the Keras callbacks that see the cell's data."""
    setup = prepare(cell, config)
    history, seconds = s2s.train(
        setup.model,
        setup.train,
        epochs,
        cell.seed,
        sample_weight=setup.sample_weight,
        loss=setup.loss,
        config=config,
        callbacks=None if callbacks is None else callbacks(setup),
    )
    return Trained(cell, setup, history, seconds)


def run_cell(
    cell: Cell,
    epochs: int = EPOCHS,
    config: s2s.TaskConfig = s2s.CONFIG,
    snapshots: Iterable[int] | None = None,
) -> dict[str, Any]:
    """Train one cell for `epochs` and measure the test split after every epoch. Returns plain
    data: the loss per epoch; each padding-blind metric per epoch (teacher-forced) and
    `blind_agreement`, the share of real test positions where the model predicts what the
    input-blind predictor predicts; and at the course's budget and at the last epoch, the token
    accuracy and the end-token rate at each position, and the metrics of greedy decoding
    (`snapshots` names other epochs for those, e.g. none when a re-run only checks the
    per-epoch series)."""
    import keras

    if snapshots is None:
        snapshots = {min(config.epochs, epochs), epochs}
    snapshots = sorted(snapshots)
    per_epoch: dict[str, list[float]] = {name: [] for name in SERIES}
    at: dict[str, dict[str, Any]] = {}

    class Measure(keras.callbacks.Callback):
        def __init__(self, setup: Setup):
            super().__init__()
            self.test = test = setup.test
            modes = s2s.position_modes(setup.train.targets, where=setup.train.mask)
            self.blind = np.broadcast_to(modes, test.targets.shape)

        def on_epoch_end(self, epoch, logs=None):
            test = self.test
            probs = np.asarray(self.model.predict_on_batch(test.inputs))
            scores = s2s.metrics(test.targets, probs, test.lengths, test.end_id)
            ids = np.argmax(probs, axis=-1)
            scores["blind_agreement"] = float(np.mean((ids == self.blind)[test.mask]))
            for name, value in scores.items():
                per_epoch[name].append(round(value, 6))
            if epoch + 1 in snapshots:
                greedy = s2s.greedy_ids(self.model, test)
                greedy_scores = s2s.metrics(test.targets, greedy, test.lengths, test.end_id)
                at[str(epoch + 1)] = {
                    "token_accuracy_by_position": _round(
                        s2s.position_token_accuracy(test.targets, ids, test.lengths)
                    ),
                    "end_rate_by_position": _round(
                        s2s.position_end_rate(ids, test.lengths, test.end_id)
                    ),
                    "greedy": {k: round(v, 6) for k, v in greedy_scores.items()},
                }

    trained = train_cell(cell, epochs, config, lambda setup: [Measure(setup)])
    return {
        "input": cell.input,
        "loss": cell.loss,
        "seed": cell.seed,
        "seconds": round(trained.seconds, 2),
        "train_loss": _round(trained.history["loss"]),
        "metrics": per_epoch,
        "at": at,
    }


def input_blind(seed: int, config: s2s.TaskConfig = s2s.CONFIG) -> dict[str, Any]:
    """The input-blind reference of one seed: predict, at each target position, the most
    frequent training target there (`s2s.position_modes`), whatever the input. Its metrics on the
    test split, and whether counting real positions only changes its answer."""
    train, test = s2s.make_split(seed, s2s.NAIVE, config)
    modes = s2s.position_modes(train.targets)
    real_modes = s2s.position_modes(train.targets, where=train.mask)
    reached = real_modes >= 0
    predicted = np.broadcast_to(modes, test.targets.shape)
    scores = s2s.metrics(test.targets, predicted, test.lengths, test.end_id)
    return {
        "seed": seed,
        "modes": modes.tolist(),
        "real_modes": real_modes.tolist(),
        "same_answer_without_padding": bool(np.array_equal(modes[reached], real_modes[reached])),
        "metrics": {k: round(v, 6) for k, v in scores.items()},
        "token_accuracy_by_position": _round(
            s2s.position_token_accuracy(test.targets, predicted, test.lengths)
        ),
    }


# --------------------------------------------------------------------------- the whole grid


def _worker_init() -> None:
    """One thread per process: on 2 cores two such workers beat one two-thread process, and the
    numbers do not depend on how many workers ran."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _run_in_worker(cell: Cell, epochs: int, snapshots=None) -> dict[str, Any]:
    import keras

    keras.backend.clear_session()
    return run_cell(cell, epochs, snapshots=snapshots)


def versions() -> dict[str, str]:
    """The stack the grid ran on."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "backend": keras.backend.backend(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": cpu,
        "cores": str(os.cpu_count()),
    }


def run_grid(
    cells: list[Cell],
    epochs: int = EPOCHS,
    jobs: int = 2,
    log=print,
    journal: Path | None = None,
    snapshots: Iterable[int] | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """Run `cells` in `jobs` worker processes; returns (results in `cells` order, seconds).
    With a `journal`, each finished cell is appended to it as one JSON line, and cells already
    in it (same epochs) are not run again: an interrupted grid resumes where it stopped."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    start = time.perf_counter()
    results: dict[Cell, dict[str, Any]] = {}
    if journal is not None and journal.exists():
        for line in journal.read_text().splitlines():
            record = json.loads(line)
            cell = Cell(record["input"], record["loss"], record["seed"])
            if cell in cells and len(record["train_loss"]) == epochs:
                results[cell] = record
        if results:
            log(f"resuming: {len(results)} cell(s) already in {journal}")
    todo = [cell for cell in cells if cell not in results]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init) as pool:
        futures = {pool.submit(_run_in_worker, cell, epochs, snapshots): cell for cell in todo}
        for done, future in enumerate(as_completed(futures), 1):
            cell = futures[future]
            results[cell] = future.result()
            if journal is not None:
                with journal.open("a") as handle:
                    handle.write(json.dumps(results[cell], sort_keys=True) + "\n")
            elapsed = time.perf_counter() - start
            log(
                f"[{done}/{len(todo)}] {cell.key:32} {results[cell]['seconds']:6.1f} s "
                f"(elapsed {elapsed / 60:5.1f} min)"
            )
    return [results[cell] for cell in cells], time.perf_counter() - start


def write(path: Path, payload: dict[str, Any]) -> None:
    """The results file: metadata first, then one cell per line (readable diffs)."""
    cells = payload["cells"]
    head = {k: v for k, v in payload.items() if k != "cells"}
    lines = json.dumps(head, indent=1, sort_keys=True)[:-2]
    body = ",\n".join("  " + json.dumps(c, sort_keys=True) for c in cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'{lines},\n "cells": [\n{body}\n ]\n}}\n')


def compute(
    seeds: Iterable[int] = SEEDS,
    epochs: int = EPOCHS,
    jobs: int = 2,
    out: Path = RESULTS,
    log=print,
) -> dict[str, Any]:
    """Run the whole grid and write it to `out`; returns what was written."""
    seeds = tuple(sorted(set(seeds)))
    cells = design(seeds)
    log(f"{len(cells)} cells x {epochs} epochs on seeds {list(seeds)}, {jobs} process(es)")
    journal = Path(out).with_suffix(".partial.jsonl")
    results, seconds = run_grid(cells, epochs, jobs, log, journal)
    payload = {
        "experiment": "capstone",
        "command": "python -m course_utils experiment capstone",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "versions": versions(),
        "config": asdict(s2s.CONFIG),
        "seeds": list(seeds),
        "epochs": epochs,
        "snapshots": sorted({min(s2s.CONFIG.epochs, epochs), epochs}),
        "jobs": jobs,
        "threads_per_job": 1,
        "seconds": round(seconds, 1),
        "input_sides": INPUT_SIDES,
        "loss_sides": LOSS_SIDES,
        "input_blind": [input_blind(seed) for seed in seeds],
        "cells": results,
    }
    write(Path(out), payload)
    journal.unlink(missing_ok=True)
    log(f"wrote {out} in {seconds / 60:.1f} min")
    return payload


def _within(committed: Any, again: Any, tolerance: float) -> bool:
    if isinstance(committed, dict):
        return committed.keys() == again.keys() and all(
            _within(committed[k], again[k], tolerance) for k in committed
        )
    if isinstance(committed, list):
        return len(committed) == len(again) and all(
            _within(a, b, tolerance) for a, b in zip(committed, again, strict=True)
        )
    if committed is None or again is None:
        return committed is again
    return abs(committed - again) <= tolerance


def verify(
    keys: list[str], epochs: int, path: Path = RESULTS, log=print, tolerance: float = 0.0
) -> list[str]:
    """Re-run the cells `keys` for their first `epochs` epochs and compare every recorded
    number of those epochs with `path`, equal up to `tolerance` (0: exactly, as on the machine
    that computed them; another CPU may move the last rounded digit). Returns the differences
    (empty: reproduced)."""
    grid = load(path)
    cells = [Cell.parse(key) for key in keys]
    snapshots = [e for e in grid.payload["snapshots"] if e <= epochs]
    fresh, _ = run_grid(cells, epochs, jobs=1, log=log, snapshots=snapshots)
    problems = []
    for cell, new in zip(cells, fresh, strict=True):
        old = grid.cell(cell.input, cell.loss, cell.seed)
        pairs = [("train_loss", old["train_loss"][:epochs], new["train_loss"])]
        pairs += [(m, old["metrics"][m][:epochs], new["metrics"][m]) for m in SERIES]
        for snapshot, values in new["at"].items():
            if snapshot in old["at"] and int(snapshot) <= epochs:
                pairs.append((f"greedy@{snapshot}", old["at"][snapshot], values))
        for name, committed, again in pairs:
            if not _within(committed, again, tolerance):
                problems.append(f"{cell.key} {name}: committed {committed}, re-run {again}")
    return problems


# --------------------------------------------------------------------------- reading results


class Grid:
    """The committed results, with the queries the lessons make. Values come back as arrays
    over `seeds` (in order)."""

    def __init__(self, payload: dict[str, Any]):
        self.payload = payload
        self.seeds: list[int] = payload["seeds"]
        self.epochs: int = payload["epochs"]
        self.versions: dict[str, str] = payload["versions"]
        self.seconds: float = payload["seconds"]
        self._cells = {(c["input"], c["loss"], c["seed"]): c for c in payload["cells"]}
        self._blind = {b["seed"]: b for b in payload["input_blind"]}

    @property
    def course_epochs(self) -> int:
        """The course's training budget (`s2s.CONFIG.epochs`), as recorded."""
        return int(self.payload["config"]["epochs"])

    def pairs(self) -> list[tuple[str, str]]:
        """The (input, loss) pairs the grid ran, in design order."""
        seen: dict[tuple[str, str], None] = {}
        for cell in self.payload["cells"]:
            seen.setdefault((cell["input"], cell["loss"]), None)
        return list(seen)

    def cell(self, input: str, loss: str, seed: int) -> dict[str, Any]:
        try:
            return self._cells[(input, loss, seed)]
        except KeyError:
            raise KeyError(f"the grid has no cell {input}/{loss}/{seed}") from None

    def values(self, input: str, loss: str, metric: str, epoch: int | None = None) -> np.ndarray:
        """(seeds,) one metric after `epoch` epochs (default: the course's budget). `metric` is
        one of `SERIES` or `"train_loss"`."""
        epoch = self.course_epochs if epoch is None else epoch
        if not 1 <= epoch <= self.epochs:
            raise ValueError(f"epoch must be 1 to {self.epochs}, not {epoch}")
        out = []
        for seed in self.seeds:
            cell = self.cell(input, loss, seed)
            series = cell["train_loss"] if metric == "train_loss" else cell["metrics"][metric]
            out.append(series[epoch - 1])
        return np.asarray(out, dtype=float)

    def curve(self, input: str, loss: str, metric: str) -> np.ndarray:
        """(seeds, epochs) one metric after every epoch."""
        key = "train_loss"
        return np.asarray(
            [
                self.cell(input, loss, s)[key]
                if metric == key
                else self.cell(input, loss, s)["metrics"][metric]
                for s in self.seeds
            ],
            dtype=float,
        )

    def snapshot(self, input: str, loss: str, epoch: int, what: str) -> np.ndarray:
        """At a recorded snapshot epoch: `"token_accuracy_by_position"` or
        `"end_rate_by_position"` -> (seeds, time) with NaN where no token exists, or a greedy
        metric name -> (seeds,)."""
        rows = []
        for seed in self.seeds:
            at = self.cell(input, loss, seed)["at"]
            if str(epoch) not in at:
                raise ValueError(f"snapshots were recorded at epochs {sorted(at)}, not {epoch}")
            if what.endswith("_by_position"):
                rows.append([np.nan if v is None else v for v in at[str(epoch)][what]])
            else:
                rows.append(at[str(epoch)]["greedy"][what])
        return np.asarray(rows, dtype=float)

    def blind(self, metric: str) -> np.ndarray:
        """(seeds,) one metric of the input-blind per-position predictor."""
        return np.asarray([self._blind[s]["metrics"][metric] for s in self.seeds], dtype=float)

    def blind_record(self, seed: int) -> dict[str, Any]:
        return self._blind[seed]


def load(path: Path | str = RESULTS) -> Grid:
    """The committed grid (or another results file)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing; compute it with `python -m course_utils experiment capstone`"
        )
    return Grid(json.loads(path.read_text()))


def main(argv: list[str]) -> int:
    """`python -m course_utils experiment capstone [...]` (see --help)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m course_utils experiment",
        description="Compute the capstone's controlled experiment into a committed results file.",
    )
    parser.add_argument("name", choices=["capstone"])
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="e.g. 0,1,2,3,4")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (1 thread each)")
    parser.add_argument("--out", default=str(RESULTS), help="results file to write")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        help="with --verify: the largest difference that still counts as reproduced",
    )
    parser.add_argument(
        "--verify",
        nargs="+",
        metavar="INPUT/LOSS/SEED",
        help="re-run these cells for --epochs epochs and compare with --out; write nothing",
    )
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error("--seeds takes whole numbers separated by commas, e.g. 0,1,2")
    if args.verify:
        try:
            problems = verify(args.verify, args.epochs, Path(args.out), tolerance=args.tolerance)
        except (ValueError, KeyError, FileNotFoundError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        for line in problems:
            print(f"differs: {line}", file=sys.stderr)
        if not problems:
            print(f"reproduced: {', '.join(args.verify)} ({args.epochs} epochs)")
        return 1 if problems else 0
    compute(seeds, args.epochs, args.jobs, Path(args.out))
    return 0
