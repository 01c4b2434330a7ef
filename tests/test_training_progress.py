"""Long trainings show one updating line, which nbval ignores: the display starts and ends
empty, so committed outputs are the same whether or not a line was shown."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat

from course_utils.execute import clean_for_git, run_notebook

FIT = """\
import os
import time
import numpy as np
import keras
from course_utils.training_progress import TrainingProgress

class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.3)

model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile("sgd", "mse")
progress = TrainingProgress("toy model", after=float(os.environ["SHOW_AFTER"]), every=0)
history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=3, verbose=0, callbacks=[Slow(), progress])
"""
REPORT = "print(progress.shown[-1] if progress.shown else 'nothing shown')"


def test_a_long_fit_shows_one_line_that_nbval_ignores(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "masking-course", "display_name": "x", "language": "python"}
    }
    nb.cells = [nbformat.v4.new_code_cell(FIT), nbformat.v4.new_code_cell(REPORT)]
    path = tmp_path / "fit.ipynb"
    nbformat.write(nb, path)
    # A slow machine: the fit runs past `after`, so the line is shown and updated.
    monkeypatch.setenv("SHOW_AFTER", "0")
    run = run_notebook(path, allow_errors=True)
    fit, report = (cell.outputs for cell in run.notebook.cells)
    assert [o.data for o in fit] == [{"text/plain": ""}]  # emptied when the fit ended
    last = report[0].text.strip()
    assert last.startswith("⏳ toy model: epoch 3/3 · loss ") and last.endswith(" s")
    # Committed as run there, checked by nbval on a fast machine where no line is ever shown.
    run.notebook.cells = run.notebook.cells[:1]
    nbformat.write(clean_for_git(run.notebook), path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "SHOW_AFTER": "60"},
    )
    assert done.returncode == 0, done.stdout[-6000:]


def test_outside_a_kernel_the_callback_only_keeps_its_lines():
    import keras
    import numpy as np

    from course_utils.training_progress import TrainingProgress

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    progress = TrainingProgress(after=0, every=0)
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[progress])
    assert progress.shown and progress.shown[-1].startswith("⏳ training: epoch 2/2 · loss ")


def test_a_fit_outside_a_kernel_gets_no_callback_to_run_in_step_with_it(monkeypatch):
    """Outside a kernel the line is never shown, and a per-batch hook would make Keras run the
    callbacks after every training step instead of beside it: `seq2seq.train` leaves it out."""
    from course_utils import training_progress

    assert training_progress.in_a_kernel() == []
    monkeypatch.setattr(training_progress, "_shell", lambda: object())
    (inside,) = training_progress.in_a_kernel("toy model")
    assert isinstance(inside, training_progress.TrainingProgress) and inside.label == "toy model"
