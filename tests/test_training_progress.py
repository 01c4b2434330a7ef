"""Long trainings show one updating line, which nbval ignores: the display starts and ends
empty, so committed outputs are the same whether or not a line was shown."""

from __future__ import annotations

import subprocess
import sys

import nbformat

from course_utils.execute import clean_for_git, run_notebook

FIT = """\
import time
import numpy as np
import keras
from course_utils.training_progress import TrainingProgress

class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.3)

model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile("sgd", "mse")
progress = TrainingProgress("toy model", after={after}, every=0)
history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=3, verbose=0, callbacks=[Slow(), progress])
print(len(progress.shown) > 0)
print(progress.shown[-1] if progress.shown else "")
"""


def _notebook(tmp_path, after: float):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "masking-course", "display_name": "x", "language": "python"}
    }
    nb.cells = [nbformat.v4.new_code_cell(FIT.format(after=after))]
    path = tmp_path / f"fit_{after}.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_long_fit_shows_one_line_and_leaves_an_empty_output(tmp_path):
    run = run_notebook(_notebook(tmp_path, after=0), allow_errors=True)
    outputs = run.notebook.cells[0].outputs
    display = [o for o in outputs if o.output_type == "display_data"]
    assert [o.data for o in display] == [{"text/plain": ""}]  # emptied when the fit ended
    printed = "".join(o.text for o in outputs if o.output_type == "stream")
    shown, last = printed.strip().splitlines()
    assert shown == "True"
    assert last.startswith("⏳ toy model: epoch 3/3 · loss ") and last.endswith(" s")


def test_a_short_fit_shows_nothing(tmp_path):
    run = run_notebook(_notebook(tmp_path, after=60), allow_errors=True)
    outputs = run.notebook.cells[0].outputs
    assert [o.data for o in outputs if o.output_type == "display_data"] == [{"text/plain": ""}]
    assert "False" in "".join(o.text for o in outputs if o.output_type == "stream")


def test_nbval_passes_whether_or_not_the_line_was_shown(tmp_path):
    # Committed as run on a fast machine (no line), checked on a slow one (a line every epoch).
    committed = run_notebook(_notebook(tmp_path, after=60), allow_errors=True).notebook
    committed.cells[0].source = FIT.format(after=0).replace(
        'print(len(progress.shown) > 0)\nprint(progress.shown[-1] if progress.shown else "")\n', ""
    )
    committed.cells[0].outputs = [
        o for o in committed.cells[0].outputs if o.output_type != "stream"
    ]
    path = tmp_path / "committed.ipynb"
    nbformat.write(clean_for_git(committed), path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
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
