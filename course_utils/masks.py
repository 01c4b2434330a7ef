"""Mask inspection: what mask each layer of a model receives and hands on, and the Keras source
that moves it, read from the installed packages.

Computing is separate from presenting: `trace_masks` and `source_excerpt` return small result
objects (`MaskTrace`, `SourceExcerpt`) whose `__repr__` is a plain-text view and whose
`_repr_html_` is the notebook view.
"""

from __future__ import annotations

import html
import importlib
import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Verdicts of `trace_masks`, from the point of view of one layer.
NO_MASK = "no mask"  # no mask arrived and none left
CREATES = "creates"  # no mask arrived, one left (Embedding(mask_zero=True), Masking)
PASSES = "passes"  # the mask that arrived left unchanged
CHANGES = "changes"  # a mask arrived, a different one left (another shape or other values)
CONSUMES = "consumes"  # a mask arrived, `call` takes a `mask` argument, and none left
DROPS = "drops"  # a mask arrived, `call` has no `mask` argument, and none left
VERDICTS = (NO_MASK, CREATES, PASSES, CHANGES, CONSUMES, DROPS)


# --------------------------------------------------------------------------- mask trace


@dataclass(frozen=True)
class LayerMask:
    """What one layer did with the mask during a real forward pass.

    `mask_in` / `mask_out` are the shapes of the mask that arrived with the layer's first input and
    the mask attached to its (first) output, or None when there was none. `uses_mask_arg` says
    whether the layer's `call` takes a `mask` argument (so Keras hands it the mask).
    `warning` is the warning Keras raised during the call, if any (e.g. "does not support masking").
    """

    name: str
    cls: str
    supports_masking: bool
    uses_mask_arg: bool
    mask_in: tuple[int, ...] | None
    mask_out: tuple[int, ...] | None
    verdict: str
    warning: str | None = None
    mask_in_value: np.ndarray | None = field(default=None, repr=False, compare=False)
    mask_out_value: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def mask_arrived(self) -> bool:
        return self.mask_in is not None

    @property
    def keeps_mask(self) -> bool:
        """True when a mask leaves this layer."""
        return self.mask_out is not None


def _shape_text(shape: tuple[int, ...] | None) -> str:
    return "None" if shape is None else str(tuple(shape))


@dataclass(frozen=True)
class MaskTrace:
    """The layer-by-layer mask trace of one model on one batch (see `trace_masks`)."""

    model_name: str
    layers: tuple[LayerMask, ...]
    output_mask: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __getitem__(self, name: str) -> LayerMask:
        for row in self.layers:
            if row.name == name:
                return row
        known = ", ".join(row.name for row in self.layers)
        raise KeyError(f"no layer named {name!r} in the trace; its layers are: {known}")

    def __iter__(self):
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def verdicts(self) -> dict[str, str]:
        """`{layer name: verdict}` in execution order."""
        return {row.name: row.verdict for row in self.layers}

    _COLUMNS = ("layer", "class", "supports_masking", "mask in", "mask out", "verdict")

    def _cells(self) -> list[tuple[str, ...]]:
        return [
            (
                row.name,
                row.cls,
                str(row.supports_masking),
                _shape_text(row.mask_in),
                _shape_text(row.mask_out),
                row.verdict,
            )
            for row in self.layers
        ]

    def __repr__(self) -> str:
        cells = [self._COLUMNS, *self._cells()]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self._COLUMNS))]
        lines = [f"Mask trace of {self.model_name!r}"]
        for k, r in enumerate(cells):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        for row in self.layers:
            if row.warning:
                lines.append(f"warning from {row.name}: {row.warning}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colours = {
            CREATES: "#e6f4ea",
            PASSES: "#e6f4ea",
            CHANGES: "#fff8e1",
            CONSUMES: "#e8f0fe",
            DROPS: "#fdecea",
            NO_MASK: "#ffffff",
        }
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._COLUMNS)
        body = "".join(
            f'<tr style="background:{colours.get(row.verdict, "#ffffff")}">'
            + "".join(f"<td><code>{html.escape(c)}</code></td>" for c in cells)
            + "</tr>"
            for row, cells in zip(self.layers, self._cells(), strict=True)
        )
        notes = "".join(
            f"<li><code>{html.escape(row.name)}</code>: {html.escape(row.warning)}</li>"
            for row in self.layers
            if row.warning
        )
        return (
            f'<div class="mask-trace"><strong>Mask trace of <code>{html.escape(self.model_name)}'
            f"</code></strong><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


def _first_tensor(structure: Any) -> Any:
    from keras import tree
    from keras.src.backend import is_tensor

    for item in tree.flatten(structure):
        if is_tensor(item):
            return item
    return None


def _mask_of(tensor: Any) -> np.ndarray | None:
    from keras.src.backend.common.masking import get_keras_mask

    if tensor is None:
        return None
    mask = get_keras_mask(tensor)
    return None if mask is None else np.asarray(mask)


def _verdict(mask_in: np.ndarray | None, mask_out: np.ndarray | None, uses_mask_arg: bool) -> str:
    if mask_in is None:
        return NO_MASK if mask_out is None else CREATES
    if mask_out is None:
        return CONSUMES if uses_mask_arg else DROPS
    if mask_in.shape == mask_out.shape and np.array_equal(mask_in, mask_out):
        return PASSES
    return CHANGES


def trace_masks(model, inputs) -> MaskTrace:
    """Run a functional Keras 3 `model` on concrete `inputs`, one layer at a time, and record the
    mask each layer receives and the mask Keras attaches to its output.

    The walk is the model's own: `Functional._run_through_graph`, the loop `model(inputs)` runs,
    with each layer call wrapped to read the real `_keras_mask` of its first input and first output
    (inference mode). Nothing is looked up by layer name. Bare ops in the graph (not layers) run
    but get no row.
    """
    import keras
    from keras import tree

    if not isinstance(model, keras.Model) or not hasattr(model, "_run_through_graph"):
        raise TypeError(
            f"trace_masks needs a functional keras.Model (built with keras.Input), not a "
            f"{type(model).__name__}"
        )
    flat = tree.flatten(inputs)
    if len(flat) != len(model.inputs):
        raise ValueError(f"the model takes {len(model.inputs)} input(s), got {len(flat)}")
    tensors = [
        keras.ops.convert_to_tensor(np.asarray(x), dtype=ref.dtype)
        for x, ref in zip(flat, model.inputs, strict=True)
    ]
    rows: list[LayerMask] = []

    def record(operation):
        if not isinstance(operation, keras.layers.Layer):
            return operation  # a bare op, such as the `not_equal` an Embedding's mask adds

        def call(*args, **kwargs):
            if "training" in getattr(operation, "_call_context_args", ()):
                kwargs.setdefault("training", False)  # as Functional.call does, in inference
            mask_in = kwargs.get("mask")
            mask_in = np.asarray(mask_in) if mask_in is not None else None
            if mask_in is None:
                mask_in = _mask_of(_first_tensor(args))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                outputs = operation(*args, **kwargs)
            mask_out = _mask_of(_first_tensor(outputs))
            uses_mask_arg = "mask" in inspect.signature(operation.call).parameters
            rows.append(
                LayerMask(
                    name=operation.name,
                    cls=type(operation).__name__,
                    supports_masking=bool(getattr(operation, "supports_masking", False)),
                    uses_mask_arg=uses_mask_arg,
                    mask_in=None if mask_in is None else tuple(mask_in.shape),
                    mask_out=None if mask_out is None else tuple(mask_out.shape),
                    verdict=_verdict(mask_in, mask_out, uses_mask_arg),
                    warning=_mask_warning(caught),
                    mask_in_value=mask_in,
                    mask_out_value=mask_out,
                )
            )
            return outputs

        return call

    outputs = model._run_through_graph(tensors, operation_fn=record)
    return MaskTrace(model.name, tuple(rows), _mask_of(_first_tensor(outputs)))


def _mask_warning(caught) -> str | None:
    for item in caught:
        text = str(item.message)
        if "mask" in text:
            return text
    return None


def layer_output_mask(layer, inputs, mask=None) -> np.ndarray | None:
    """Call one `layer` on concrete `inputs` carrying `mask` (bool `(batch, time)`) the way a model
    does (the mask rides on the input as `_keras_mask`) and return the mask on its output, or None.
    Keras's own "does not support masking" warning is silenced here; `trace_masks` records it."""
    import keras
    from keras.src.backend.common.masking import set_keras_mask

    x = keras.ops.convert_to_tensor(np.asarray(inputs))
    if mask is not None:
        set_keras_mask(x, keras.ops.convert_to_tensor(np.asarray(mask, dtype=bool)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = layer(x)
    return _mask_of(_first_tensor(out))


# --------------------------------------------------------------------------- source excerpts


@dataclass(frozen=True)
class SourceExcerpt:
    """Lines of an installed function's source, with where they live.

    `lines` holds `(line number in file, text)` pairs; gaps between kept lines show as `...`.
    """

    name: str
    defined_in: str  # qualified name of the defining object, e.g. keras.src.ops.function.Function
    file: str  # path relative to site-packages, e.g. keras/src/layers/layer.py
    first_line: int
    lines: tuple[tuple[int, str], ...]
    trimmed: bool
    kept_words: tuple[str, ...] = ()  # the `only` words the lines were chosen by, if trimmed

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.lines)

    def _numbered(self) -> list[str]:
        out, previous = [], None
        for number, text in self.lines:
            if previous is not None and number != previous + 1:
                out.append("      ...")
            out.append(f"{number:5d}  {text}")
            previous = number
        return out

    def _title(self) -> str:
        kept = ""
        if self.trimmed:
            words = self.kept_words
            if words in ((), ("mask",)):
                kept = " (lines that mention masks)"
            else:
                kept = " (lines that mention " + " or ".join(repr(w) for w in words) + ")"
        return f"{self.defined_in}  [{self.file}, line {self.first_line}]{kept}"

    def __repr__(self) -> str:
        return "\n".join([self._title(), *self._numbered()])

    def _repr_html_(self) -> str:
        return (
            f'<div class="source-excerpt"><strong>{html.escape(self._title())}</strong>'
            f"<pre>{html.escape(chr(10).join(self._numbered()))}</pre></div>"
        )


def _resolve(dotted: str) -> Any:
    """Import `package.module.Class.method` from the installed packages, longest module first."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)  # AttributeError: the name is gone from this version
        return obj
    raise ImportError(f"cannot import any module from {dotted!r}")


def _relative_file(path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1 :])
    return "/".join(parts[-3:])


def source_excerpt(
    obj_or_dotted_name: Any,
    *,
    only: str | tuple[str, ...] | None = None,
    context: int = 0,
    keep_signature: bool = True,
) -> SourceExcerpt:
    """The source of a function or method as installed, read with `inspect.getsource` at run time,
    so an excerpt can never go stale; a name that vanished on upgrade raises AttributeError.

    `only` keeps the lines containing any of the given words (case-insensitive), e.g. `"mask"`,
    plus `context` lines around each; `keep_signature` also keeps the `def` line.
    """
    obj = (
        _resolve(obj_or_dotted_name) if isinstance(obj_or_dotted_name, str) else obj_or_dotted_name
    )
    func = inspect.unwrap(getattr(obj, "fget", None) or obj)
    source_lines, first = inspect.getsourcelines(func)
    file = inspect.getsourcefile(func) or "?"
    defined_in = f"{func.__module__}.{func.__qualname__}"
    numbered = [(first + i, line.rstrip("\n")) for i, line in enumerate(source_lines)]
    trimmed = only is not None
    words: tuple[str, ...] = ()
    if trimmed:
        words = (only,) if isinstance(only, str) else tuple(only)
        hits = {
            i
            for i, (_, text) in enumerate(numbered)
            if any(w.lower() in text.lower() for w in words)
        }
        keep = {j for i in hits for j in range(i - context, i + context + 1)}
        if keep_signature:
            for i, (_, text) in enumerate(numbered):
                keep.add(i)
                if text.rstrip().endswith(":") and text.lstrip().startswith(("def ", "async def ")):
                    break
                if ")" in text and text.rstrip().endswith(":"):
                    break
        numbered = [numbered[i] for i in sorted(keep) if 0 <= i < len(numbered)]
    name = obj_or_dotted_name if isinstance(obj_or_dotted_name, str) else defined_in
    return SourceExcerpt(
        name, defined_in, _relative_file(file), first, tuple(numbered), trimmed, words
    )
