"""The benchmarks' baselines compute what they claim: the tiny graph written by hand in NumPy
(``benchmarks/ops.py``, the floor) and on the least and tiny-array engines
(``benchmarks/least_engine.py``) give minigrad's loss and gradients, so the times they are
compared by are times of the same work. Float64, several sizes."""

from __future__ import annotations

import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from least_engine import (  # noqa: E402
    LEVELS,
    CheckedEngine,
    LeastEngine,
    Tensor,
    TinyArrayEngine,
    Value,
    _level_name,
    _report_levels,
    main,
    no_grad,
    tiny_graph_checked,
    tiny_graph_least,
)
from ops import Timing, tiny_graph_by_hand, tiny_graph_minigrad  # noqa: E402


@pytest.mark.parametrize("n", [3, 8, 16])
def test_the_floor_and_every_engine_and_level_give_minigrads_loss_and_gradients(n: int) -> None:
    rng = np.random.default_rng(n)
    x, w = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    target = rng.integers(0, n, size=n)
    loss, mx, mw = tiny_graph_minigrad(mg, x, w, mg.tensor(target))
    want = (loss.numpy(), mx.grad.numpy(), mw.grad.numpy())  # host arrays on any backend
    floor = tiny_graph_by_hand(np, x, w, target)
    least = tiny_graph_least(LeastEngine(np, n, np.float64), x, w, target)
    tiny = tiny_graph_least(TinyArrayEngine(np, n, np.float64), x, w, target)
    checked = []  # the checked engine at each level: "" (no feature), "a", "ab", ..., "abcdef"
    for level in LEVELS:
        engine = CheckedEngine(np, n, np.float64, level)
        checked.append(tiny_graph_checked(engine, x, w, engine.tensor(target)))
    assert len(checked) == 7
    for got in (floor, least, tiny, *checked):
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
    engine, checked = TinyArrayEngine(np, 6, np.float64), CheckedEngine(np, 6, np.float64)
    for op in ("softmax", "cross_entropy"):
        x, cx = Value(data.copy()), checked.tensor(data, requires_grad=True)
        out = engine.softmax(x) if op == "softmax" else engine.cross_entropy(x, target)
        cout = (
            checked.softmax(cx)
            if op == "softmax"
            else checked.cross_entropy(cx, checked.tensor(target))
        )
        g = upstream if op == "softmax" else np.float64(0.7)
        out.backward(g)  # the node's backward closure: d out -> x.grad
        cout.node.backward(g)  # the same, into the leaf's accumulate node
        mx = mg.tensor(data, requires_grad=True)
        ref = mg.softmax(mx, dim=-1) if op == "softmax" else mg.cross_entropy(mx, mg.tensor(target))
        ref.backward(mg.tensor(g))
        for got, want in (
            (out.data, ref.numpy()),
            (x.grad, mx.grad.numpy()),
            (cout.data, ref.numpy()),
            (cx.node.grad, mx.grad.numpy()),
        ):
            assert np.all(np.isfinite(got)) and np.abs(want).max() > 1e-3  # not all near 0
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_least_engine_refuses_bad_options_with_exit_2(capsys: pytest.CaptureFixture) -> None:
    assert main(["--size", "0"]) == 2
    assert "--size" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The checked engine: each feature's check fires on bad input, and only with its feature
# ---------------------------------------------------------------------------------------------


def _engine(features: str = "abcdef") -> tuple[CheckedEngine, Tensor, Tensor, Tensor]:
    """A 4-wide float32 checked engine with ``features``, two leaves x and w that require grad,
    and a tensor of class ids."""
    rng = np.random.default_rng(1)
    engine = CheckedEngine(np, 4, np.float32, features)
    x, w = (engine.tensor(rng.standard_normal((4, 4), np.float32), True) for _ in range(2))
    return engine, x, w, engine.tensor(np.array([0, 3, 1, 2]))


def _loss(engine: CheckedEngine, x: Tensor, w: Tensor, ids: Tensor) -> Tensor:
    """The tiny graph's loss on the leaves x and w."""
    h = engine.layer_norm(engine.matmul(x, w), 4)
    return engine.cross_entropy(engine.tanh(engine.softmax(engine.add(engine.mul(h, 2), 1))), ids)


BAD_OPERANDS = {  # name: (call on (engine, x, ids), error, words the message must name)
    "float64 operand": (
        lambda e, x, ids: e.matmul(x, e.tensor(np.ones((4, 4)))),
        TypeError,
        ["matmul", "float32", "float64"],
    ),
    "array operand": (
        lambda e, x, ids: e.matmul(x, np.ones((4, 4), np.float32)),
        TypeError,
        ["ndarray"],
    ),
    "unaligned": (
        lambda e, x, ids: e.matmul(x, e.tensor(np.ones((3, 4), np.float32))),
        ValueError,
        ["(4, 4)", "(3, 4)"],
    ),
    "string scalar": (lambda e, x, ids: e.mul(x, "2"), TypeError, ["mul", "str"]),
    "list scalar": (lambda e, x, ids: e.add(x, [1.0]), TypeError, ["add", "list"]),
    "float64 tanh": (lambda e, x, ids: e.tanh(e.tensor(np.ones((4, 4)))), TypeError, ["float64"]),
    "normalized_shape": (lambda e, x, ids: e.layer_norm(x, 3), ValueError, ["normalized_shape 3"]),
    "softmax dim": (lambda e, x, ids: e.softmax(x, dim=0), ValueError, ["dim=0"]),
    "id too large": (
        lambda e, x, ids: e.cross_entropy(x, e.tensor(np.array([0, 1, 2, 4]))),
        IndexError,
        ["[0, 4)", "[0, 4]"],
    ),
    "negative id": (
        lambda e, x, ids: e.cross_entropy(x, e.tensor(np.array([0, -1, 2, 3]))),
        IndexError,
        ["[-1, 3]"],
    ),
    "float ids": (
        lambda e, x, ids: e.cross_entropy(x, e.tensor(np.zeros(4))),
        TypeError,
        ["integer class ids"],
    ),
    "ids of another length": (
        lambda e, x, ids: e.cross_entropy(x, e.tensor(np.zeros(3, int))),
        ValueError,
        ["(4, 4)", "(3,)"],
    ),
    "integer leaf": (lambda e, x, ids: e.tensor(np.arange(4), True), TypeError, ["int64"]),
    "loss of 4 elements": (lambda e, x, ids: e.backward(e.tanh(x)), RuntimeError, ["one element"]),
}


@pytest.mark.parametrize("case", BAD_OPERANDS)
def test_validation_refuses_bad_operands_naming_them(case: str) -> None:
    call, error, words = BAD_OPERANDS[case]
    engine, x, _, ids = _engine("a")
    with pytest.raises(error) as info:
        call(engine, x, ids)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("case", ["float64 operand", "negative id", "softmax dim"])
def test_without_validation_the_same_bad_operands_pass_unnoticed(case: str) -> None:
    """The checks are feature a's: without it NumPy promotes, wraps the id, sums rows."""
    engine, x, _, ids = _engine("")
    out = BAD_OPERANDS[case][0](engine, x, ids)
    assert np.all(np.isfinite(out.data))


def test_grad_mode_records_no_node_where_no_input_needs_one() -> None:
    engine, x, w, ids = _engine("ab")
    with no_grad():
        y = engine.tanh(x)
    assert y.node is None and not y.requires_grad
    c = engine.tensor(np.eye(4, dtype=np.float32))  # requires no grad
    assert engine.matmul(c, c).node is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        engine.backward(engine.cross_entropy(engine.matmul(c, c), ids))
    engine.backward(_loss(engine, x, c, ids))  # only x wants a gradient
    assert x.grad is not None and c.grad is None
    engine, x, _, _ = _engine("a")  # without feature b: recorded all the same
    with no_grad():
        assert engine.tanh(x).node is not None


def test_versions_refuse_a_backward_through_a_tensor_changed_in_place() -> None:
    engine, x, w, ids = _engine("abc")
    y = engine.tanh(engine.matmul(x, w))
    loss = engine.cross_entropy(y, ids)
    engine.add_(y, 1.0)  # Tanh saved its output y
    with pytest.raises(RuntimeError, match="modified by an inplace operation: saved by Tanh"):
        engine.backward(loss)
    assert x.grad is None and w.grad is None  # refused before any gradient arrived
    loss = _loss(engine, x, w, ids)
    engine.add_(x, 1.0)  # MatMul saved the leaf x
    with pytest.raises(
        RuntimeError, match="saved by MatMul, it is at version 1; expected version 0"
    ):
        engine.backward(loss)
    engine, x, w, ids = _engine("ab")  # without feature c: the changed values are used
    y = engine.tanh(engine.matmul(x, w))
    loss = engine.cross_entropy(y, ids)
    engine.add_(y, 1.0)
    engine.backward(loss)
    assert x.grad is not None


def test_leaf_nodes_check_the_gradient_and_add_into_grad_in_place() -> None:
    engine, x, w, ids = _engine("abcd")
    engine.backward(_loss(engine, x, w, ids))
    first, once = x.grad, x.grad.copy()
    engine.backward(_loss(engine, x, w, ids))
    assert x.grad is first  # added in place
    np.testing.assert_allclose(x.grad, 2 * once, rtol=1e-6)
    w_grad = w.grad.copy()
    x.grad = np.zeros((2, 2), np.float32)  # set by hand to another shape
    with pytest.raises(RuntimeError, match=r"whose \.grad has shape \(2, 2\)"):
        engine.backward(_loss(engine, x, w, ids))
    np.testing.assert_array_equal(w.grad, w_grad)  # checked before any .grad changed
    x.grad = None
    loss = _loss(engine, x, w, ids)
    x.data = np.zeros((4, 5), np.float32)  # the leaf changed shape since the forward
    with pytest.raises(RuntimeError, match=r"leaf of shape \(4, 5\)"):
        engine.backward(loss)
    engine, x, w, ids = _engine("abc")  # without feature d: a new array each backward
    engine.backward(_loss(engine, x, w, ids))
    first = x.grad
    engine.backward(_loss(engine, x, w, ids))
    assert x.grad is not first


def test_hooks_run_on_nodes_and_leaves_and_may_replace_the_gradient() -> None:
    engine, x, w, ids = _engine("abcde")

    def head(h: Tensor) -> Tensor:
        return engine.cross_entropy(engine.tanh(engine.softmax(engine.layer_norm(h, 4))), ids)

    engine.backward(head(engine.matmul(x, w)))
    plain = x.grad.copy()
    x.grad = w.grad = None
    h = engine.matmul(x, w)
    engine.register_hook(h, lambda g: Tensor(g.data * 2, False))  # doubles both leaves' grads
    seen: list[np.ndarray] = []
    engine.register_hook(x, lambda g: seen.append(g.data.copy()))
    engine.backward(head(h))
    np.testing.assert_allclose(x.grad, 2 * plain, rtol=1e-6)
    np.testing.assert_array_equal(seen[0], x.grad)
    h = engine.matmul(x, w)
    engine.register_hook(h, lambda g: Tensor(g.data[:2], False))
    with pytest.raises(RuntimeError, match=r"a hook returned a gradient of shape \(2, 4\)"):
        engine.backward(engine.cross_entropy(h, ids))
    engine, x, _, _ = _engine("abcd")  # without feature e: no hooks to register
    with pytest.raises(RuntimeError, match="feature e"):
        engine.register_hook(x, lambda g: None)


def test_freeing_drops_saved_arrays_and_refuses_a_second_backward() -> None:
    engine, x, w, ids = _engine()
    y = engine.tanh(engine.matmul(x, w))
    saved = weakref.ref(y.data)  # Tanh saves its output
    loss = engine.cross_entropy(y, ids)
    del y
    assert saved() is not None  # the graph keeps it until backward
    engine.backward(loss)
    assert saved() is None  # at once: no reference cycle holds it
    with pytest.raises(RuntimeError, match=r"second time \(CrossEntropy node\)"):
        engine.backward(loss)
    x.grad = None
    loss = _loss(engine, x, w, ids)
    engine.backward(loss, retain_graph=True)
    once = x.grad.copy()
    engine.backward(loss)
    np.testing.assert_allclose(x.grad, 2 * once, rtol=1e-6)
    engine, x, w, ids = _engine("abcde")  # without feature f: the graph runs again
    loss = _loss(engine, x, w, ids)
    engine.backward(loss)
    engine.backward(loss)


def test_the_checked_engine_refuses_unknown_features() -> None:
    for features in ("z", "ae"):  # e (hooks) needs d (leaf nodes)
        with pytest.raises(ValueError, match="features"):
            CheckedEngine(np, 4, np.float32, features)


def test_the_levels_table_gives_each_increment_and_the_levels_under_the_target(
    capsys: pytest.CaptureFixture,
) -> None:
    us = [24.0, 25.0, 26.5, 26.7, 27.5, 28.5, 28.7, 29.3]  # tiny-array engine, then each level
    names = ["tiny-array engine", *map(_level_name, LEVELS)]
    timings = {name: Timing(t * 1e-6, t * 1e-6, t * 1e-6, 1, 1) for name, t in zip(names, us)}
    timings["PyTorch"] = Timing(58e-6, 58e-6, 58e-6, 1, 1)  # 0.5x: 29 us
    _report_levels(timings, 0.5)
    out = capsys.readouterr().out
    assert "+ c: versions                       27.5 us  0.47x PyTorch   +0.8 us" in out
    assert "+ f: freeing                        29.3 us  0.51x PyTorch   +0.6 us" in out
    assert out.rstrip().endswith("levels that meet it: " + ", ".join(
        ["the tiny-array engine", "+ tensors apart from graph nodes", "+ a: validation",
         "+ b: grad mode", "+ c: versions", "+ d: leaf nodes", "+ e: hooks"]
    ))  # fmt: skip
    _report_levels(timings, None)  # noisy rounds: no verdict
    assert "meet" not in capsys.readouterr().out


def test_the_checked_graph_keeps_no_array_that_no_backward_saved() -> None:
    """Why the checked engine's tensors stand apart from its nodes: Add saves nothing, so its
    output's array dies with its tensor, as minigrad's; the tiny-array engine's values keep
    every input, and so every array, until the graph goes."""
    engine, x, _, ids = _engine("")
    z = engine.add(x, 1.0)
    unsaved = weakref.ref(z.data)
    loss = engine.cross_entropy(engine.mul(z, 2.0), ids)
    del z
    assert unsaved() is None and loss.node is not None
    tiny = TinyArrayEngine(np, 4, np.float32)
    v = tiny.add(Value(x.data), 1.0)
    kept = weakref.ref(v.data)
    loss = tiny.cross_entropy(tiny.mul(v, 2.0), ids.data)
    del v
    assert kept() is not None
