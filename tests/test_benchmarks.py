"""The benchmarks' baselines compute what they claim: the tiny graph written by hand in NumPy
(``benchmarks/ops.py``, the floor) and on the least engine (``benchmarks/least_engine.py``)
give minigrad's loss and gradients, so the times they are compared by are times of the same
work. Float64, several sizes."""

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
def test_the_floor_and_the_least_engine_give_minigrads_loss_and_gradients(n: int) -> None:
    rng = np.random.default_rng(n)
    x, w = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    target = rng.integers(0, n, size=n)
    loss, mx, mw = tiny_graph_minigrad(mg, x, w, mg.tensor(target))
    want = (loss.array, mx.grad.array, mw.grad.array)
    floor = tiny_graph_by_hand(np, x, w, target)
    least = tiny_graph_least(LeastEngine(np, n, np.float64), x, w, target)
    tiny = tiny_graph_least(TinyArrayEngine(np, n, np.float64), x, w, target)
    for got in (floor, least, tiny):
        for g, r in zip(got, want, strict=True):
            assert np.asarray(g).dtype == np.float64
            np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)
    assert least[1] is not None and np.abs(least[1]).max() > 0  # not an empty gradient


@pytest.mark.parametrize("scale", [1.0, 1e3])  # 1e3: exp overflows after the mean shift
@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_tiny_array_softmax_and_cross_entropy_match_the_max_shifted_ones(scale: float) -> None:
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 6)) * scale
    target = rng.integers(0, 6, size=6)
    least, tiny = LeastEngine(np, 6, np.float64), TinyArrayEngine(np, 6, np.float64)
    for op in ("softmax", "cross_entropy"):
        args = () if op == "softmax" else (target,)
        results = []
        for engine in (least, tiny):
            x = Value(logits.copy())
            out = getattr(engine, op)(x, *args)
            engine.backward(engine.mul(out, 1.0) if op == "softmax" else out)
            results.append((out.data, x.grad))
        for got, want in zip(results[1], results[0], strict=True):
            assert np.all(np.isfinite(got))
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_least_engine_refuses_bad_options_with_exit_2(capsys: pytest.CaptureFixture) -> None:
    assert main(["--size", "0"]) == 2
    assert "--size" in capsys.readouterr().err
