"""The benchmarks' baselines compute what they claim: the tiny graph written by hand in NumPy
(``benchmarks/ops.py``, the floor) and on the least and tiny-array engines
(``benchmarks/least_engine.py``) give minigrad's loss and gradients, so the times they are
compared by are times of the same work. Float64, several sizes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from least_engine import LeastEngine, TinyArrayEngine, Value, main, tiny_graph_least  # noqa: E402
from ops import tiny_graph_by_hand, tiny_graph_minigrad  # noqa: E402


@pytest.mark.parametrize("n", [3, 8, 16])
def test_the_floor_and_both_engines_give_minigrads_loss_and_gradients(n: int) -> None:
    rng = np.random.default_rng(n)
    x, w = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    target = rng.integers(0, n, size=n)
    loss, mx, mw = tiny_graph_minigrad(mg, x, w, mg.tensor(target))
    want = (loss.numpy(), mx.grad.numpy(), mw.grad.numpy())  # host arrays on any backend
    floor = tiny_graph_by_hand(np, x, w, target)
    least = tiny_graph_least(LeastEngine(np, n, np.float64), x, w, target)
    tiny = tiny_graph_least(TinyArrayEngine(np, n, np.float64), x, w, target)
    for got in (floor, least, tiny):
        for g, r in zip(got, want, strict=True):
            assert np.asarray(g).dtype == np.float64
            np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)
    assert least[1] is not None and np.abs(least[1]).max() > 0  # not an empty gradient


OVERFLOWS = {  # rows on which exp overflows after the mean shift, or only their sum does
    "exp": lambda rng: rng.standard_normal((6, 6)) + np.where(np.arange(6) < 2, 1e3, -1e3),
    "sum": lambda rng: np.array([[709.0] * 3 + [-709.0] * 3] * 6) + rng.random((6, 6)) * 1e-3,
    "none": lambda rng: rng.standard_normal((6, 6)),
}


@pytest.mark.parametrize("logits", OVERFLOWS)
@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_tiny_array_softmax_and_cross_entropy_match_minigrads(logits: str) -> None:
    """Values and gradients (for a random upstream gradient) against minigrad's, also where
    the mean shift overflows and the engine falls back on the max shift."""
    rng = np.random.default_rng(0)
    data, upstream = OVERFLOWS[logits](rng), rng.standard_normal((6, 6))
    target = rng.integers(0, 6, size=6)
    engine = TinyArrayEngine(np, 6, np.float64)
    for op in ("softmax", "cross_entropy"):
        x = Value(data.copy())
        out = engine.softmax(x) if op == "softmax" else engine.cross_entropy(x, target)
        g = upstream if op == "softmax" else np.float64(0.7)
        out.backward(g)  # the node's backward closure: d out -> x.grad
        mx = mg.tensor(data, requires_grad=True)
        ref = mg.softmax(mx, dim=-1) if op == "softmax" else mg.cross_entropy(mx, mg.tensor(target))
        ref.backward(mg.tensor(g))
        for got, want in ((out.data, ref.numpy()), (x.grad, mx.grad.numpy())):
            assert np.all(np.isfinite(got)) and np.abs(want).max() > 1e-3  # not all near 0
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_least_engine_refuses_bad_options_with_exit_2(capsys: pytest.CaptureFixture) -> None:
    assert main(["--size", "0"]) == 2
    assert "--size" in capsys.readouterr().err
