"""The finite-difference step sweep: ``minigrad.gradcheck_sweep(fn, inputs)``.

A central difference ``(f(x + eps) - f(x - eps)) / (2 eps)`` has two errors that pull in
opposite directions:

- truncation, from the Taylor terms the formula drops: about ``a * eps**2``, large for big eps;
- round-off, from subtracting two nearly equal rounded values: about ``b / eps``, large for
  small eps (``b`` is of the order of machine epsilon times ``|f|``).

Plotted against eps on log-log axes the worst error therefore draws a V: a slope of +2 on the
right, -1 on the left, and a bottom near ``eps = (b / 2a) ** (1/3)``. A real bug in a backward
shows as a floor the V never goes under; a bad eps only as a point high on one arm.

Suggesting float32 tolerances (the rule). The sweep runs in float64. Truncation does not depend
on the precision; round-off scales with machine epsilon, 2**29 times larger in float32. So:

1. ``a`` = the median of ``err / eps**2`` over the steps right of the bottom, ``b`` = the median
   of ``err * eps`` over the steps left of it (the bottom point alone when an arm is empty);
2. the predicted float32 error is ``e32(eps) = a * eps**2 + 2**29 * b / eps``;
3. the suggested float32 ``eps`` is the power of ten that minimises ``e32``; ``atol`` is 10 times
   ``e32`` there (a safety factor for the medians), and ``rtol`` is ``atol`` over the largest
   gradient entry (the same margin relative to the gradient's scale), at most 0.1.

Owns: ``gradcheck_sweep``. May import: ``gradcheck`` (its Jacobians) and ``tensor``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.gradcheck import _analytic_jacobians, _check_inputs, numerical_jacobian
from minigrad.tensor import Tensor

__all__ = ["DEFAULT_EPS", "SweepResult", "gradcheck_sweep"]

DEFAULT_EPS = tuple(10.0**-k for k in range(1, 11))  # 1e-1 ... 1e-10
FLOAT32_ROUNDOFF_RATIO = float(np.finfo(np.float32).eps / np.finfo(np.float64).eps)  # 2**29


@dataclass
class SweepResult:
    """What :func:`gradcheck_sweep` measured.

    Attributes:
        eps: the steps, as given.
        errors: for each step, the worst |numerical - analytic| over every Jacobian entry.
        best_eps, best_error: the bottom of the V.
        suggested: float32 settings by the module docstring's rule: ``eps``, ``atol``, ``rtol``,
            and ``predicted_error`` (float32's predicted worst error at that eps).
        plot: the PNG written, or None.
    """

    eps: list[float]
    errors: list[float]
    best_eps: float
    best_error: float
    suggested: dict[str, float]
    max_gradient: float
    plot: Path | None = None
    coefficients: dict[str, float] = field(default_factory=dict)

    def predicted_float32(self, eps: float) -> float:
        """The rule's predicted float32 worst error at step ``eps``."""
        a, b = self.coefficients["truncation"], self.coefficients["roundoff"]
        return a * eps**2 + FLOAT32_ROUNDOFF_RATIO * b / eps

    def __str__(self) -> str:
        lines = [f"{'eps':>8}  {'worst |numerical - analytic|':>28}"]
        for e, err in zip(self.eps, self.errors):
            mark = "  <- bottom of the V" if e == self.best_eps else ""
            lines.append(f"{e:>8.0e}  {err:>28.3e}{mark}")
        s = self.suggested
        lines.append(
            f"float32 suggestion: eps={s['eps']:.0e}, atol={s['atol']:.1e}, rtol={s['rtol']:.1e} "
            f"(predicted worst error {s['predicted_error']:.1e}; largest gradient entry "
            f"{self.max_gradient:.3g})"
        )
        return "\n".join(lines)


def _worst_errors(
    fn: Callable[..., Any], inputs: Sequence[Any], eps: Sequence[float]
) -> tuple[list[float], float]:
    diff = _check_inputs(inputs)
    analytic, _ = _analytic_jacobians(fn, inputs, diff)
    errors = []
    for e in eps:
        worst = 0.0
        for a, i in zip(analytic, diff):
            numeric = numerical_jacobian(fn, inputs, i, e)
            if a.size:
                worst = max(worst, float(np.max(np.abs(a - numeric))))
        errors.append(worst)
    biggest = max((float(np.max(np.abs(a))) for a in analytic if a.size), default=0.0)
    return errors, biggest


def _suggest(eps: list[float], errors: list[float], max_gradient: float) -> tuple[dict, dict]:
    """The float32 suggestion by the rule in the module docstring, and the fitted a and b."""
    tiny = 1e-300
    best = int(np.argmin(errors))
    right = [err / e**2 for e, err in zip(eps, errors) if e > eps[best]]
    left = [err * e for e, err in zip(eps, errors) if e < eps[best]]
    a = float(np.median(right)) if right else errors[best] / eps[best] ** 2
    b = float(np.median(left)) if left else errors[best] * eps[best]
    a, b = max(a, tiny), max(b, tiny)
    candidates = [10.0**-k for k in range(0, 13)]
    predicted = [a * e**2 + FLOAT32_ROUNDOFF_RATIO * b / e for e in candidates]
    k = int(np.argmin(predicted))
    atol = 10 * predicted[k]
    rtol = min(0.1, atol / max_gradient) if max_gradient > 0 else 0.1
    suggestion = {"eps": candidates[k], "atol": atol, "rtol": rtol, "predicted_error": predicted[k]}
    return suggestion, {"truncation": a, "roundoff": b}


def _plot(result: SweepResult, path: Path) -> Path | None:
    try:
        import matplotlib  # noqa: PLC0415  (optional: only the picture needs it)

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print(
            f"gradcheck_sweep: matplotlib is not installed, so {path} was not drawn "
            "(pip install matplotlib); the numbers are in the result",
            file=sys.stderr,
        )
        return None
    fig, ax = plt.subplots(figsize=(6, 4.2))
    shown = [max(err, 1e-18) for err in result.errors]  # an exact 0 cannot sit on a log axis
    ax.loglog(result.eps, shown, "o-", label="measured, float64")
    grid = np.logspace(math.log10(min(result.eps)), math.log10(max(result.eps)), 60)
    ax.loglog(grid, [result.predicted_float32(e) for e in grid], "--", label="predicted, float32")
    ax.plot([result.best_eps], [max(result.best_error, 1e-18)], "kv", label="bottom of the V")
    ax.set_xlabel("finite-difference step eps")
    ax.set_ylabel("worst |numerical - analytic|")
    ax.set_title("truncation (right, slope 2) meets round-off (left, slope -1)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def gradcheck_sweep(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    eps: Sequence[float] = DEFAULT_EPS,
    plot: str | Path | None = None,
) -> SweepResult:
    """For each step in ``eps``, the worst error of central differences against the analytic
    Jacobian of ``fn`` at ``inputs`` (float64 leaves, as :func:`minigrad.gradcheck`).

    Args:
        fn: takes ``*inputs`` and returns a float64 tensor or a tuple of them.
        inputs: the tensors (those with ``requires_grad=True`` are differentiated).
        eps: the steps, each > 0.
        plot: a PNG path to draw the log-log V to (needs matplotlib; without it, a message).

    Returns:
        A :class:`SweepResult` (``print`` it for a table and the float32 suggestion).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    eps = [float(e) for e in eps]
    if not eps or any(not e > 0 or not math.isfinite(e) for e in eps):
        raise ValueError(f"gradcheck_sweep: eps must be finite steps > 0, got {eps}")
    errors, biggest = _worst_errors(fn, inputs, eps)
    best = int(np.argmin(errors))
    suggested, coefficients = _suggest(eps, errors, biggest)
    result = SweepResult(
        eps, errors, eps[best], errors[best], suggested, biggest, coefficients=coefficients
    )
    if plot is not None:
        result.plot = _plot(result, Path(plot))
    return result
