"""The tools for studying the graph: detect_anomaly, viz values and render, gradcheck(locate=True),
trace_memory and gradcheck_sweep."""

from __future__ import annotations

import gc
import inspect
import os
import shutil
import sys
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd
from minigrad.autograd import Function

# anomaly mode and the ledger name files relative to the working directory when below it
_path = os.path.abspath(__file__)
HERE = _path[len(os.getcwd()) + 1 :] if _path.startswith(os.getcwd() + os.sep) else __file__
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")


def next_line() -> int:
    """The number of the caller's next line."""
    return inspect.currentframe().f_back.f_lineno + 1


@pytest.fixture(autouse=True)
def _no_tool_left_attached():
    yield
    assert autograd._observer is None, "a tool left its observer attached to the engine"


# ---------------------------------------------------------------------------------------------
# detect_anomaly
# ---------------------------------------------------------------------------------------------


def test_anomaly_names_the_op_its_shape_the_input_and_the_forward_line():
    x = mg.tensor([1.0, 0.0, 4.0], dtype=mg.float64, requires_grad=True)
    with mg.detect_anomaly():
        line = next_line()
        y = mg.sqrt(x)
        loss = (y * 3.0).sum()
        with pytest.raises(mg.AnomalyError) as info:
            loss.backward()
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "Sqrt.backward" in msg
    assert "output shape (3,), float64" in msg
    assert "input 0 (a leaf tensor of shape (3,))" in msg
    assert "1 of 3 elements non-finite (0 nan, 1 inf), the first at index (1,)" in msg
    assert f"{HERE}:{line} in test_anomaly_names" in msg
    assert "y = mg.sqrt(x)" in msg
    assert "the gradient reaching its output was finite" in msg
    assert x.grad is None  # nothing was accumulated


def _helper_sqrt(x: mg.Tensor) -> mg.Tensor:
    return mg.sqrt(x)  # the line anomaly mode names first


def test_anomaly_shows_where_the_forward_line_was_called_from():
    x = mg.tensor([0.0, 1.0], dtype=mg.float64, requires_grad=True)
    with mg.detect_anomaly():
        line = next_line()
        loss = _helper_sqrt(x).sum()
        with pytest.raises(mg.AnomalyError) as info:
            loss.backward()
    msg = str(info.value)
    helper_line = inspect.getsourcelines(_helper_sqrt)[1] + 1
    assert f"{HERE}:{helper_line} in _helper_sqrt\n" in msg
    assert "return mg.sqrt(x)  # the line anomaly mode names first" in msg
    assert f"called from {HERE}:{line} in test_anomaly_shows" in msg
    assert msg.index("_helper_sqrt") < msg.index("called from")


def test_anomaly_names_a_computed_input_and_a_nan():
    x = mg.tensor([-1.0, 2.0], dtype=mg.float64, requires_grad=True)

    @mg.detect_anomaly()  # as a decorator
    def step() -> None:
        h = x * 1.0
        loss = mg.log(h).sum()  # d log(h) = 1/h is finite; log(-1) is nan, but only forward
        loss.backward()

    step()  # gradients 1/h are finite: nothing to report
    assert np.allclose(x.grad.numpy(), [-1.0, 0.5])

    @mg.detect_anomaly()
    def bad_step() -> None:
        h = x * 1.0
        loss = mg.sqrt(h).sum()  # d sqrt(h) = 1/(2 sqrt(h)): nan at h = -1
        loss.backward()

    with pytest.raises(mg.AnomalyError) as info:
        bad_step()
    msg = str(info.value)
    assert "input 0 (the output of a Mul node, created at " in msg
    assert "(1 nan, 0 inf)" in msg
    assert "h = x * 1.0" not in msg.split("was created at")[1]  # the node is Sqrt's own line
    assert "loss = mg.sqrt(h).sum()" in msg


def test_anomaly_check_forward_stops_at_the_first_nan():
    x = mg.tensor([-1.0, 2.0], dtype=mg.float64, requires_grad=True)
    with mg.detect_anomaly():
        y = mg.log(x)  # nan in the forward passes without check_forward
    assert np.isnan(y.numpy()[0])
    with mg.detect_anomaly(check_forward=True):
        z = x * 2.0  # finite: passes
        line = next_line()
        with pytest.raises(mg.AnomalyError) as info:
            mg.log(z)
        with mg.no_grad(), pytest.raises(mg.AnomalyError):
            mg.log(z)  # no graph, still checked
        filled = mg.masked_fill(z, mg.tensor([True, False]), float("-inf"))
    msg = str(info.value)
    assert "Log.forward produced NaN in its output of shape (2,) (float64)" in msg
    assert "from inputs without NaN, so this op made it" in msg
    assert f"{HERE}:{line + 1} in test_anomaly_check_forward" in msg
    assert np.isinf(filled.numpy()[0])  # an infinity in the forward is allowed (masks)


def test_anomaly_check_forward_says_when_the_nan_came_in():
    x = mg.tensor([float("nan"), 1.0], requires_grad=True)
    with mg.detect_anomaly(check_forward=True), pytest.raises(mg.AnomalyError) as info:
        x * 2.0
    assert "its input(s) [0] already held NaN" in str(info.value)


def test_anomaly_nesting_restores_the_outer_setting():
    x = mg.tensor([-1.0], dtype=mg.float64)
    with mg.detect_anomaly(check_forward=True):
        with mg.detect_anomaly(check_forward=False):
            mg.log(x)  # the inner block does not check the forward
        with pytest.raises(mg.AnomalyError):
            mg.log(x)
    assert autograd._observer is None


def test_outside_anomaly_mode_nothing_is_recorded_or_checked():
    x = mg.tensor([0.0, 1.0], dtype=mg.float64, requires_grad=True)
    y = mg.sqrt(x)
    y.sum().backward()  # an infinite gradient, no error
    assert np.isinf(x.grad.numpy()[0])
    assert "_created_at" not in vars(y.grad_fn)
    with pytest.raises(ValueError), mg.detect_anomaly():
        raise ValueError("an error inside the block")
    assert autograd._observer is None  # detached even when the block raised


def test_anomaly_on_a_graph_built_outside_the_block_says_where_it_cannot_tell():
    x = mg.tensor([0.0, 4.0], dtype=mg.float64, requires_grad=True)
    loss = mg.sqrt(x).sum()
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError) as info:
        loss.backward()
    assert "(unknown: the node was created outside this tool's block)" in str(info.value)


# ---------------------------------------------------------------------------------------------
# viz: values on the graph, render
# ---------------------------------------------------------------------------------------------


def _small_graph() -> tuple[mg.Tensor, ...]:
    x = mg.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], dtype=mg.float64)
    W = mg.tensor([[0.1, -0.2], [0.4, 0.3], [-0.3, 0.2]], dtype=mg.float64, requires_grad=True)  # noqa: N806
    b = mg.tensor([0.05, -0.1], dtype=mg.float64, requires_grad=True)
    return x, W, b


def test_to_dot_values_shows_every_node_and_the_gradients():
    x, W, b = _small_graph()  # noqa: N806
    with mg.viz.keep_values():
        h = x @ W + b
        h.retain_grad()
        y = mg.tanh(h)
        loss = y.sum()
    before = mg.viz.to_dot(loss, values=True)
    assert "\\ngrad " not in before  # backward has not run
    loss.backward()
    dot = mg.viz.to_dot(loss, name="loss", values=True)
    fmt = lambda a: "[" + " ".join(f"{v:.4g}" for v in a) + "]"  # noqa: E731
    h_np = x.numpy() @ W.numpy() + b.numpy()
    y_np = np.tanh(h_np)
    for row in y_np:
        assert fmt(row) in dot  # Tanh's values, row by row
    assert f"loss\\n() float64\\n{y_np.sum():.4g}" in dot
    assert "(2, 2) float64\\n" + fmt(h_np[0]) + "\\n" + fmt(h_np[1]) in dot  # Add's values
    dh = 1 - y_np**2
    assert "grad " + fmt(dh[0]) in dot  # the retained gradient of h
    assert "grad " + fmt(dh.sum(axis=0)) in dot  # b's gradient
    assert "grad " + fmt((x.numpy().T @ dh)[0]) in dot  # W's first row
    # without values the labels are as before: shape and dtype only
    plain = mg.viz.to_dot(loss, name="loss")
    assert "\\ngrad " not in plain and fmt(y_np[0]) not in plain


def test_to_dot_values_summarizes_large_tensors():
    x = mg.tensor(np.arange(20.0).reshape(4, 5), requires_grad=True)
    loss = (x * 2.0).sum()
    loss.backward()
    dot = mg.viz.to_dot(loss, values=True)
    assert "min 0  mean 9.5  max 19" in dot  # the leaf (20 elements)
    assert "grad min 2  mean 2  max 2" in dot
    assert mg.viz.values_text(mg.tensor(np.arange(16.0)).array).count(" ") == 15  # 16: listed
    assert mg.viz.values_text(mg.tensor(np.zeros((0, 3))).array) == "[]"
    assert mg.viz.values_text(mg.tensor(True).array) == "1"


def test_nodes_keep_their_output_only_inside_keep_values():
    x = mg.tensor([1.0, 2.0], requires_grad=True)

    def graph() -> tuple[mg.Tensor, weakref.ref]:
        z = x + 1.0  # Add saves nothing: only its own output tensor holds this array
        ref = weakref.ref(z.array)
        return z.sum(), ref

    loss, ref = graph()
    gc.collect()
    assert ref() is None  # outside keep_values the intermediate array died with its tensor
    assert "_value" not in vars(loss.grad_fn)
    assert "[2 3]" not in mg.viz.to_dot(loss, values=True)
    with mg.viz.keep_values():
        loss, ref = graph()
    gc.collect()
    assert ref() is not None  # kept by the Add node, for the drawing
    assert "[2 3]" in mg.viz.to_dot(loss, values=True)
    del loss
    gc.collect()
    assert ref() is None  # and freed with the graph


def test_render_rejects_an_unknown_format_before_writing(tmp_path):
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="unknown format 'jpeg'; use one of svg, png, dot"):
        mg.viz.render(x * 2.0, tmp_path / "g.svg", format="jpeg")
    with pytest.raises(ValueError, match="cannot tell the picture format from the file name"):
        mg.viz.render(x * 2.0, tmp_path / "g.gif")
    assert list(tmp_path.iterdir()) == []


def test_render_without_graphviz_says_so_and_writes_the_dot_text(tmp_path, monkeypatch, capsys):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    monkeypatch.setattr(mg.viz.shutil, "which", lambda name: None)
    path = mg.viz.render(loss, tmp_path / "g.png", values=True)
    assert path == tmp_path / "g.dot"
    assert path.read_text() == mg.viz.to_dot(loss, values=True)
    err = capsys.readouterr().err
    assert "Graphviz's `dot` program is not installed, so no png was drawn" in err
    assert str(path) in err
    text = mg.viz.render(loss, tmp_path / "h.txt", format="dot")
    assert text.read_text() == mg.viz.to_dot(loss)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_render_draws_png_and_svg_with_values(tmp_path):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    png = mg.viz.render(loss, tmp_path / "g.png", values=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = mg.viz.render(loss, tmp_path / "g", format="svg", values=True)
    assert "<svg" in svg.read_text() and "grad [2 4]" in svg.read_text()


# ---------------------------------------------------------------------------------------------
# gradcheck(locate=True)
# ---------------------------------------------------------------------------------------------


class BadSquare(Function):
    """x**2 with a backward that forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # wrong: d x^2 = 2 x


class BadScale(Function):
    """3 * x with a backward of 2."""

    @staticmethod
    def forward(ctx, x):
        return 3.0 * x

    @staticmethod
    def backward(ctx, grad):
        return 2.0 * grad


def test_locate_names_the_users_wrong_backward_and_its_line():
    x = mg.tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True)
    w = mg.tensor([[0.5, -0.3], [0.2, 0.8]], dtype=mg.float64, requires_grad=True)

    def fn(x, w):
        h = mg.tanh(x @ w)
        return BadSquare.apply(h).sum()

    line = inspect.getsourcelines(fn)[1] + 2
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(fn, (x, w), locate=True)
    msg = str(info.value)
    assert "the backward of BadSquare is wrong" in msg
    assert "BadSquare inputs: (3, 2) float64; output (3, 2)" in msg
    assert "input 0, element (" in msg and "analytic" in msg and "numerical" in msg
    assert f"{HERE}:{line} in fn\n" in msg and "return BadSquare.apply(h).sum()" in msg
    assert "The whole-graph check said: gradcheck: input 0" in msg
    # the worst element's numbers are the node's own: analytic = numerical / 2
    numbers = msg.split("analytic ")[1].split(" (u:")[0].split(" vs numerical ")
    analytic, numeric = (float(v) for v in numbers)
    assert analytic == pytest.approx(numeric / 2, rel=1e-6)
    # without locate only the whole-graph error
    with pytest.raises(mg.GradcheckError) as plain:
        mg.gradcheck(fn, (x, w))
    assert "BadSquare" not in str(plain.value)
    assert mg.gradcheck(fn, (x, w), locate=True, raise_exception=False) is False


def test_locate_reports_the_wrong_node_nearest_the_output():
    x = mg.tensor([0.3, -0.7], dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="the backward of BadScale is wrong"):
        mg.gradcheck(lambda x: BadScale.apply(BadSquare.apply(x) + 1.0), (x,), locate=True)
    with pytest.raises(mg.GradcheckError, match="the backward of BadSquare is wrong"):
        mg.gradcheck(lambda x: mg.exp(BadSquare.apply(BadScale.apply(x))), (x,), locate=True)


def test_locate_blames_the_wiring_when_every_node_is_right():
    w = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    fn = lambda w: (mg.Tensor(w.array) * w).sum()  # noqa: E731  (w.array escapes the graph)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(fn, (w,), locate=True)
    msg = str(info.value)
    assert "each of the 2 nodes' backward agrees" in msg
    assert "the wiring is at fault" in msg
    assert mg.gradcheck(lambda w: (w * w).sum(), (w,), locate=True)  # a right graph passes


def test_locate_says_when_a_random_forward_cannot_be_checked():
    x = mg.tensor([0.3, -0.7, 0.2, 0.9], dtype=mg.float64, requires_grad=True)
    with pytest.raises(
        mg.GradcheckError, match=r"random numbers in their forward: Dropout \(1 of 3\)"
    ):
        mg.gradcheck(lambda x: mg.dropout(x * 2.0, 0.5, training=True).sum(), (x,), locate=True)


def test_locate_refuses_float32_inputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    with pytest.raises(TypeError, match=r"locate=True\): input 0 \(shape \(2,\)\) is float32"):
        mg.gradcheck(lambda x: (x * x).sum(), (x,), locate=True)


# ---------------------------------------------------------------------------------------------
# trace_memory
# ---------------------------------------------------------------------------------------------


def test_ledger_counts_saved_arrays_once_and_frees_them_in_backward():
    x = mg.randn(64, 32, dtype=mg.float64)
    W = mg.randn(32, 16, dtype=mg.float64, requires_grad=True)  # noqa: N806
    with mg.trace_memory() as m:
        h = mg.tanh(x @ W)  # MatMul saves x (W's gradient reads it; x wants none), Tanh its output
        loss = (h * h).sum()  # Mul saves h twice: already held by Tanh
        expected = (64 * 32 + 64 * 16) * 8
        assert m.saved_bytes == expected
        loss.backward()
        assert m.saved_bytes == 0
    assert m.peak_saved_bytes == expected
    by_op = {r["op"]: r for r in m.records}
    assert set(by_op) == {"MatMul", "Tanh", "Mul"}  # Sum saves nothing: no record
    assert by_op["MatMul"]["bytes"] == 64 * 32 * 8
    assert by_op["MatMul"]["shapes"] == [(64, 32)]
    assert by_op["Mul"]["bytes"] == 0 and by_op["Mul"]["shared_bytes"] == 64 * 16 * 8
    assert [by_op[op]["freed"] for op in ("Mul", "Tanh", "MatMul")] == [2, 3, 4]  # Sum is 1
    assert by_op["Tanh"]["site"].startswith(f"{HERE}:")
    assert m.process_peak_bytes >= 64 * 16 * 8  # the process allocated at least the output
    text = str(m)
    assert text.splitlines()[1].startswith("MatMul")  # sorted by bytes
    assert "3 nodes saved 24.0 KiB (each array once); held at the peak 24.0 KiB, now 0 B" in text
    assert "process peak during the block (tracemalloc" in text
    assert m.totals() == {"MatMul": 16384, "Tanh": 8192, "Mul": 0}


def test_ledger_sees_a_graph_dropped_without_backward_and_keeps_retained_graphs():
    x = mg.randn(8, 8, dtype=mg.float64, requires_grad=True)
    with mg.trace_memory(label=lambda: "block A") as m:
        y = mg.exp(x).sum()
        assert m.saved_bytes == 8 * 8 * 8
        del y
        gc.collect()
        assert m.saved_bytes == 0  # the graph died without backward
        z = mg.exp(x).sum()
        z.backward(retain_graph=True)
        assert m.saved_bytes == 8 * 8 * 8  # retained: still held
    assert [r["freed"] for r in m.records] == ["gc", None]
    assert m.totals(by="label") == {"block A": 2 * 8 * 8 * 8}


def test_ledgers_do_not_nest():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.trace_memory() as outer:
        with pytest.raises(RuntimeError, match="trace_memory: a ledger is already active"):
            with mg.trace_memory():
                pass
        y = mg.exp(x)  # the outer ledger still counts
    assert outer.records and outer.records[0]["op"] == "Exp"
    del y
    with mg.trace_memory(measure_process=False) as again:  # usable again after the outer ends
        mg.exp(x)
    assert again.process_peak_bytes is None and "not measured" in str(again)


# ---------------------------------------------------------------------------------------------
# gradcheck_sweep
# ---------------------------------------------------------------------------------------------


def _sweep_fn(x: mg.Tensor) -> mg.Tensor:
    return mg.tanh(x) * x * x


def test_sweep_draws_the_v_and_its_float32_suggestion_holds(tmp_path):
    x = mg.tensor([0.3, -1.2, 0.8, 2.0], dtype=mg.float64, requires_grad=True)
    result = mg.gradcheck_sweep(_sweep_fn, (x,))
    errors = dict(zip(result.eps, result.errors))
    assert result.eps == [10.0**-k for k in range(1, 11)]
    # truncation on the right (about eps^2: 100x per decade), round-off on the left
    assert errors[1e-1] > 50 * errors[1e-2] > 2500 * errors[1e-3]
    assert 1e-7 <= result.best_eps <= 1e-4 and result.best_error < 1e-9
    assert errors[1e-10] > 100 * result.best_error
    # the float32 suggestion, tried for real: float32 central differences at the suggested eps
    s = result.suggested
    xs = x.numpy().astype(np.float32)
    t = x.numpy()
    exact = np.diag(t**2 / np.cosh(t) ** 2 + 2 * t * np.tanh(t))
    numeric = np.zeros((4, 4))
    with mg.no_grad():
        for j in range(4):
            step = np.zeros(4, np.float32)
            step[j] = s["eps"]
            plus = _sweep_fn(mg.tensor(xs + step)).numpy().astype(np.float64)
            minus = _sweep_fn(mg.tensor(xs - step)).numpy().astype(np.float64)
            numeric[:, j] = (plus - minus) / (2 * np.float32(s["eps"]))
    assert (np.abs(numeric - exact) <= s["atol"] + s["rtol"] * np.abs(numeric)).all()
    assert np.abs(numeric - exact).max() <= 3 * s["predicted_error"]  # the prediction is close
    assert "<- bottom of the V" in str(result) and "float32 suggestion: eps=" in str(result)


def test_sweep_finds_a_floor_for_a_wrong_backward():
    x = mg.tensor([0.3, -0.7], dtype=mg.float64, requires_grad=True)
    result = mg.gradcheck_sweep(lambda x: BadSquare.apply(x), (x,), eps=(1e-2, 1e-5, 1e-8))
    assert min(result.errors) > 0.2  # no eps brings a wrong gradient down: no V, a floor


def test_sweep_plot(tmp_path, monkeypatch, capsys):
    x = mg.tensor([0.5], dtype=mg.float64, requires_grad=True)
    pytest.importorskip("matplotlib")
    result = mg.gradcheck_sweep(_sweep_fn, (x,), eps=(1e-1, 1e-4, 1e-8), plot=tmp_path / "v.png")
    assert result.plot == tmp_path / "v.png"
    assert result.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    result = mg.gradcheck_sweep(_sweep_fn, (x,), eps=(1e-1, 1e-4), plot=tmp_path / "w.png")
    assert result.plot is None and not (tmp_path / "w.png").exists()
    assert "matplotlib is not installed" in capsys.readouterr().err


def test_sweep_rejects_bad_steps_and_float32():
    x = mg.tensor([0.5], dtype=mg.float64, requires_grad=True)
    with pytest.raises(ValueError, match="eps must be finite steps > 0"):
        mg.gradcheck_sweep(_sweep_fn, (x,), eps=(1e-3, 0.0))
    with pytest.raises(TypeError, match="float32"):
        mg.gradcheck_sweep(_sweep_fn, (mg.tensor([0.5], requires_grad=True),))


# ---------------------------------------------------------------------------------------------
# The walkthrough uses all of them on one graph
# ---------------------------------------------------------------------------------------------


def test_walkthrough_runs_every_tool(tmp_path, capsys):
    import importlib.util  # noqa: PLC0415

    path = os.path.join(os.path.dirname(__file__), "..", "examples", "walkthrough.py")
    spec = importlib.util.spec_from_file_location("walkthrough", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    backend = mg.get_backend()
    assert module.main(["--backend", backend, "--draw", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "match" in out and "MISMATCH" not in out
    assert "grad [" in out  # values and gradients on the graph
    assert "AnomalyError: detect_anomaly: Sqrt.backward" in out
    assert "root = mg.sqrt(mg.relu(h)).sum()" in out
    assert "the backward of BadTanh is wrong" in out
    assert "2 nodes saved 40 B" in out  # x (MatMul: W's gradient reads it) and tanh's output
    assert "<- bottom of the V" in out
    if shutil.which("dot"):
        assert (tmp_path / "graph.png").exists()
