"""The course kernel keeps TensorFlow's import-time C++ log lines out of notebook outputs, but
still shows Python warnings and errors."""

from __future__ import annotations

import nbformat

from course_utils.execute import run_notebook


def test_tensorflow_import_logs_stay_out_but_python_warnings_show(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "masking-course", "display_name": "x", "language": "python"}
    }
    nb.cells = [
        nbformat.v4.new_code_cell("import tensorflow as tf\nimport keras\nprint('imported')"),
        nbformat.v4.new_code_cell("import warnings\nwarnings.warn('a real warning')"),
        nbformat.v4.new_code_cell("1 / 0"),
    ]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    run = run_notebook(path, allow_errors=True)
    first, second, third = (cell.outputs for cell in run.notebook.cells)
    assert [o.get("text") for o in first] == ["imported\n"]
    assert second[0]["name"] == "stderr" and "UserWarning: a real warning" in second[0]["text"]
    assert third[0]["output_type"] == "error" and third[0]["ename"] == "ZeroDivisionError"
