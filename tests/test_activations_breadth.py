"""The rest of PyTorch's activations (``minigrad/ops/activations_breadth.py``, ``nn/activations.py``)
side by side with PyTorch:

1. values and gradients in float64, float32 and float16 on a grid that holds every kink
   (PyTorch's convention for the gradient there), and the NaN conventions;
2. the names: where PyTorch has each one (top level, Tensor method, functional, module), and
   the functional signatures (argument names and defaults);
3. dtype rules (integers taken or refused as PyTorch), and every bad argument refused with a
   message naming it;
4. the in-place forms: the same object back, the version counter, the leaf refusal, and which
   of them fail a backward after a later write (PyTorch's nodes that save their result);
5. the modules: defaults, reprs, PReLU's parameter and state_dict, RReLU in train and eval;
6. the draws: rrelu's slopes and their gradient, gumbel_softmax's samples, straight-through
   gradient and seeding.

The registry (``tests/op_cases.py``) gradchecks and gradgradchecks each op and fuzzes it
against PyTorch; this file covers what a registry case cannot.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# every kink of every op here: +-0.5 (shrinks), +-1 (hardtanh), 0, +-3 (hardswish,
# hardsigmoid), 6 (relu6), 0.1 (the threshold below), and values between and beyond
GRID = [-7.0, -3.0, -2.9, -1.0, -0.7, -0.5, -0.3, 0.0, 0.1, 0.2, 0.5, 1.0, 2.5, 3.0, 5.9, 6.0, 7.5]

# (name, minigrad function, PyTorch function), each taking one tensor
UNARY = [
    ("mish", F.mish, TF.mish),
    ("selu", mg.selu, torch.selu),
    ("celu", mg.celu, torch.celu),
    ("celu-alpha", lambda t: F.celu(t, 0.5), lambda t: TF.celu(t, 0.5)),
    ("hardtanh", F.hardtanh, TF.hardtanh),
    ("hardtanh-bounds", lambda t: F.hardtanh(t, -3.0, 0.5), lambda t: TF.hardtanh(t, -3.0, 0.5)),
    ("relu6", F.relu6, TF.relu6),
    ("hardswish", F.hardswish, TF.hardswish),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid),
    ("softsign", F.softsign, TF.softsign),
    ("softshrink", F.softshrink, TF.softshrink),
    ("softshrink-lambd", lambda t: F.softshrink(t, 1.0), lambda t: TF.softshrink(t, 1.0)),
    ("hardshrink", mg.hardshrink, torch.hardshrink),
    ("hardshrink-method", lambda t: t.hardshrink(3.0), lambda t: t.hardshrink(3.0)),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink),
    ("threshold", lambda t: mg.threshold(t, 0.1, 20.0), lambda t: torch.threshold(t, 0.1, 20.0)),
    ("rrelu-eval", mg.rrelu, torch.rrelu),
    ("prelu", lambda t: mg.prelu(t, mg.tensor([0.2], dtype=t.dtype)), None),
    ("glu", lambda t: F.glu(t.reshape(-1, 2), 1), lambda t: TF.glu(t.reshape(-1, 2), 1)),
    ("softmin", lambda t: F.softmin(t, 0), lambda t: TF.softmin(t, 0)),
]
TOL = {"float64": (1e-12, 1e-12), "float32": (1e-6, 1e-6), "float16": (2e-3, 2e-3)}


def _twin(name, tfn):
    if tfn is not None:
        return tfn
    return lambda t: TF.prelu(t, torch.tensor([0.2], dtype=t.dtype))  # prelu's weight: x's dtype


def _values(name: str) -> np.ndarray:
    grid = np.array(GRID[:-1] if name == "glu" else GRID)  # glu halves: an even count
    return grid * 0.5 if name == "hardshrink-method" else grid


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize(("name", "fn", "tfn"), UNARY, ids=[u[0] for u in UNARY])
def test_values_and_gradients_match_torch_at_and_between_the_kinks(name, fn, tfn, dtype) -> None:
    x = _values(name).astype(dtype)
    ours = mg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, tout = fn(ours), _twin(name, tfn)(theirs)
    assert out.dtype == np.dtype(dtype) and tuple(out.shape) == tuple(tout.shape)
    seed = np.random.default_rng(0).standard_normal(tuple(out.shape)).astype(dtype)
    out.backward(mg.tensor(seed))
    tout.backward(torch.tensor(seed))
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    assert ours.grad.dtype == np.dtype(dtype)
    if name == "hardsigmoid" and dtype == "float64":
        rtol = 1e-7  # PyTorch's gradient multiplies by 1/6 rounded to float32, ours by 1/6
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol, atol=atol)


# the gradient at each kink, PyTorch's convention, written out
KINKS = [
    ("hardtanh", F.hardtanh, [-1.0, 1.0], [0.0, 0.0]),
    ("relu6", F.relu6, [0.0, 6.0], [0.0, 0.0]),
    ("hardswish", F.hardswish, [-3.0, 3.0], [0.0, 1.0]),
    ("hardsigmoid", F.hardsigmoid, [-3.0, 3.0], [0.0, 0.0]),
    ("softshrink", F.softshrink, [-0.5, 0.5], [0.0, 0.0]),
    ("hardshrink", F.hardshrink, [-0.5, 0.5], [0.0, 0.0]),
    ("threshold", lambda t: F.threshold(t, 1.0, 5.0), [1.0], [0.0]),
    ("selu", F.selu, [0.0], [mg.ops.activations_breadth.SELU_ALPHA * 1.0507009873554805]),
    ("celu", lambda t: F.celu(t, 2.0), [0.0], [1.0]),
    ("prelu", lambda t: F.prelu(t, mg.tensor([0.3], dtype=mg.float64)), [0.0], [0.3]),
    ("rrelu-eval", F.rrelu, [0.0], [(1 / 8 + 1 / 3) / 2]),
]


@pytest.mark.parametrize(("name", "fn", "at", "expected"), KINKS, ids=[k[0] for k in KINKS])
def test_gradient_at_each_kink_is_torchs(name, fn, at, expected) -> None:
    x = mg.tensor(at, dtype=mg.float64, requires_grad=True)
    fn(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-15)


NAN_GRADIENT = [  # PyTorch's one-element (scalar kernel) gradient at NaN
    ("hardtanh", F.hardtanh, TF.hardtanh),
    ("relu6", F.relu6, TF.relu6),
    ("hardswish", F.hardswish, TF.hardswish),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid),
    ("softshrink", F.softshrink, TF.softshrink),
    ("hardshrink", F.hardshrink, TF.hardshrink),
    ("threshold", lambda t: F.threshold(t, 1.0, 5.0), lambda t: TF.threshold(t, 1.0, 5.0)),
    ("selu", F.selu, TF.selu),
    ("mish", F.mish, TF.mish),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid),
    ("softsign", F.softsign, TF.softsign),
]


@pytest.mark.parametrize(("name", "fn", "tfn"), NAN_GRADIENT, ids=[n[0] for n in NAN_GRADIENT])
def test_nan_in_nan_out_and_the_gradient_at_nan(name, fn, tfn) -> None:
    x = mg.tensor([float("nan")], dtype=mg.float32, requires_grad=True)
    tx = torch.tensor([float("nan")], requires_grad=True)
    out, tout = fn(x), tfn(tx)
    assert np.isnan(out.numpy()).all() and torch.isnan(tout).all()
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_logsigmoid_and_mish_are_stable_far_out() -> None:
    x = np.array([-1e4, -800.0, -40.0, 40.0, 800.0, 1e4])
    for fn, tfn in [(F.logsigmoid, TF.logsigmoid), (F.mish, TF.mish), (F.selu, TF.selu)]:
        ours = mg.tensor(x, requires_grad=True)
        out = fn(ours)
        out.sum().backward()
        assert np.isfinite(out.numpy()).all() and np.isfinite(ours.grad.numpy()).all()
        np.testing.assert_allclose(out.numpy(), tfn(torch.tensor(x)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.logsigmoid(mg.tensor(x)).numpy()[:2], [-1e4, -800.0])


# -- names and signatures -----------------------------------------------------------------------

FUNCTIONAL = """mish selu selu_ celu celu_ hardtanh hardtanh_ relu6 hardswish hardsigmoid logsigmoid
softsign softshrink hardshrink tanhshrink threshold threshold_ glu prelu rrelu rrelu_ softmin
gumbel_softmax""".split()
MODULES = """Mish SELU CELU Hardtanh ReLU6 Hardswish Hardsigmoid LogSigmoid Softsign Softshrink
Hardshrink Tanhshrink Threshold GLU PReLU RReLU Softmin Softmax2d""".split()


def test_names_are_where_torch_has_them() -> None:
    for name in FUNCTIONAL:
        assert hasattr(F, name) and name in F.__all__, name
        assert hasattr(mg, name) == hasattr(torch, name), name  # the top level, as torch's
        assert hasattr(mg.Tensor, name) == hasattr(torch.Tensor, name), name
    for name in MODULES:
        assert issubclass(getattr(nn, name), nn.Module) and name in nn.__all__, name


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_signatures_match_torch(name: str) -> None:
    try:
        theirs = inspect.signature(getattr(TF, name))
    except ValueError:  # a builtin without a signature: its docstring's first lines say it
        doc = getattr(TF, name).__doc__.strip().splitlines()[0]
        params = doc[doc.index("(") + 1 : doc.index(")")].replace(" ", "").split(",")
        ours = list(inspect.signature(getattr(F, name)).parameters)
        assert ours[: len(params)] == [p.split("=")[0] for p in params], (ours, doc)
        return
    ours = inspect.signature(getattr(F, name)).parameters
    wanted = {k: p for k, p in theirs.parameters.items() if not k.startswith("_")}
    assert list(ours) == list(wanted), (list(ours), list(wanted))
    for key, param in wanted.items():
        if param.default is not inspect.Parameter.empty:
            assert ours[key].default == param.default, (key, ours[key].default, param.default)


@pytest.mark.parametrize("name", MODULES)
def test_module_constructor_arguments_match_torch(name: str) -> None:
    ours = inspect.signature(getattr(nn, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
    wanted = {k: p for k, p in theirs.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    assert list(ours) == list(wanted), (list(ours), list(wanted))
    for key, param in wanted.items():
        assert ours[key].default == param.default, (key, ours[key].default, param.default)


# -- dtypes and bad input -----------------------------------------------------------------------

DTYPE_CASES = [
    ("mish", F.mish, TF.mish),
    ("selu", F.selu, TF.selu),
    ("hardtanh", lambda t: F.hardtanh(t, -1.5, 2.5), lambda t: TF.hardtanh(t, -1.5, 2.5)),
    ("relu6", F.relu6, TF.relu6),
    ("hardswish", F.hardswish, TF.hardswish),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid),
    ("softsign", F.softsign, TF.softsign),
    ("softshrink", F.softshrink, TF.softshrink),
    ("hardshrink", F.hardshrink, TF.hardshrink),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink),
    ("threshold", lambda t: F.threshold(t, -1.5, 7.9), lambda t: TF.threshold(t, -1.5, 7.9)),
    ("glu", F.glu, TF.glu),
    ("rrelu", F.rrelu, TF.rrelu),
    ("softmin", lambda t: F.softmin(t, 0), lambda t: TF.softmin(t, 0)),
]


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize(("name", "fn", "tfn"), DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_integer_and_bool_inputs_are_taken_or_refused_as_torch(name, fn, tfn, dtype) -> None:
    x = np.array([-4, -1, 0, 1, 2, 7]).astype(dtype)
    try:
        expected = tfn(torch.tensor(x))
    except (RuntimeError, NotImplementedError, TypeError) as err:
        with pytest.raises((TypeError, ValueError, RuntimeError, NotImplementedError)) as ours:
            fn(mg.tensor(x))
        assert dtype in str(ours.value) or name in str(ours.value), (str(ours.value), err)
        return
    out = fn(mg.tensor(x))
    assert out.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


BAD = [
    (lambda: F.glu(mg.ones(2, 3), 1), ValueError, "dimension 1 is size 3"),
    (lambda: F.glu(mg.ones(3)), ValueError, "(3,)"),
    (lambda: F.glu(mg.tensor(1.0)), ValueError, "scalars"),
    (lambda: F.glu(mg.ones(2, 4), 2), IndexError, "out of range"),
    (lambda: F.prelu(mg.ones(2, 3), mg.ones(2)), ValueError, "(2, 3) has 3 channel"),
    (lambda: F.prelu(mg.ones(3), mg.ones(3)), ValueError, "1 channel"),
    (lambda: F.prelu(mg.ones(2, 3), mg.ones(3, 1)), ValueError, "(3, 1)"),
    (lambda: F.prelu(mg.ones(2, 3), mg.ones(3, dtype=mg.float64)), TypeError, "float64"),
    (lambda: F.prelu(mg.ones(2, 3), 0.25), TypeError, "float"),
    (lambda: F.softshrink(mg.ones(2), -1.0), ValueError, "found -1.0"),
    (lambda: F.softshrink(mg.ones(2), float("nan")), ValueError, "found nan"),
    (lambda: F.softshrink(mg.ones(2, dtype=mg.float16), 1e6), ValueError, "65504"),
    (lambda: F.hardtanh(mg.ones(2), 1.0, -1.0), ValueError, "1.0 > -1.0"),
    (lambda: F.celu(mg.ones(2), 0.0), ValueError, "alpha cannot be 0"),
    (lambda: F.rrelu(mg.ones(2), 0.5, 0.1), ValueError, "lower=0.5, upper=0.1"),
    (lambda: F.rrelu(mg.ones(2), 0.5, 0.1, training=True), ValueError, "upper bound"),
    (lambda: F.mish([1.0, 2.0]), TypeError, "list"),
    (lambda: nn.Softmax2d()(mg.ones(2, 3)), ValueError, "got 2D"),
    (lambda: nn.Hardtanh(1.0, 1.0), ValueError, "max_val (1.0) must be greater"),
    (lambda: nn.PReLU(0), ValueError, "num_parameters"),
]


@pytest.mark.parametrize(("call", "error", "words"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_are_refused_naming_them(call, error, words) -> None:
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value), str(info.value)


# -- in place ---------------------------------------------------------------------------------

# (name, minigrad's in-place call, PyTorch's, whether PyTorch's node saves the result)
INPLACE = [
    ("hardtanh_", F.hardtanh_, TF.hardtanh_, False),
    ("hardtanh-inplace", lambda t: F.hardtanh(t, -0.5, 0.5, True), None, False),
    ("relu6-inplace", lambda t: F.relu6(t, inplace=True), None, False),
    ("mish-inplace", lambda t: F.mish(t, inplace=True), None, False),
    ("hardswish-inplace", lambda t: F.hardswish(t, inplace=True), None, False),
    ("hardsigmoid-inplace", lambda t: F.hardsigmoid(t, inplace=True), None, False),
    ("threshold_", lambda t: F.threshold_(t, 0.5, 2.0), None, False),
    ("threshold-inplace", lambda t: F.threshold(t, 0.5, 2.0, True), None, False),
    ("mg.threshold_", lambda t: mg.threshold_(t, 0.5, 2.0), None, False),
    ("selu_", F.selu_, None, True),
    ("selu-inplace", lambda t: F.selu(t, inplace=True), None, True),
    ("mg.selu_", mg.selu_, None, True),
    ("celu_", lambda t: F.celu_(t, 2.0), None, True),
    ("celu-inplace", lambda t: F.celu(t, 2.0, True), None, True),
    ("rrelu_", F.rrelu_, None, True),
    ("rrelu-inplace", lambda t: F.rrelu(t, inplace=True), None, True),
    ("rrelu_-training", lambda t: mg.rrelu_(t, training=True), None, True),
]


def _torch_inplace(name: str):
    """PyTorch's call for an INPLACE row: the same spelling on torch's modules."""
    table = {
        "hardtanh-inplace": lambda t: TF.hardtanh(t, -0.5, 0.5, True),
        "relu6-inplace": lambda t: TF.relu6(t, inplace=True),
        "mish-inplace": lambda t: TF.mish(t, inplace=True),
        "hardswish-inplace": lambda t: TF.hardswish(t, inplace=True),
        "hardsigmoid-inplace": lambda t: TF.hardsigmoid(t, inplace=True),
        "threshold_": lambda t: TF.threshold_(t, 0.5, 2.0),
        "threshold-inplace": lambda t: TF.threshold(t, 0.5, 2.0, True),
        "mg.threshold_": lambda t: torch.threshold_(t, 0.5, 2.0),
        "selu_": TF.selu_,
        "selu-inplace": lambda t: TF.selu(t, inplace=True),
        "mg.selu_": torch.selu_,
        "celu_": lambda t: TF.celu_(t, 2.0),
        "celu-inplace": lambda t: TF.celu(t, 2.0, True),
        "rrelu_": TF.rrelu_,
        "rrelu-inplace": lambda t: TF.rrelu(t, inplace=True),
        "rrelu_-training": lambda t: torch.rrelu_(t, training=True),
    }
    return table[name]


@pytest.mark.parametrize(("name", "fn", "tfn", "saves"), INPLACE, ids=[c[0] for c in INPLACE])
def test_in_place_forms_write_into_their_input_as_torch(name, fn, tfn, saves) -> None:
    tfn = tfn or _torch_inplace(name)
    values = np.array([-2.0, -0.3, 0.0, 0.4, 3.5])
    x = mg.tensor(values, requires_grad=True)
    y = x * 1.0
    version = y._version
    out = fn(y)
    assert out is y and y._version == version + 1
    tx = torch.tensor(values, requires_grad=True)
    ty = tx * 1.0
    tfn(ty)
    if "training" not in name:  # the drawn slopes differ; their gradient is tested below
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
        y.sum().backward(retain_graph=True)
        ty.sum().backward(retain_graph=True)
        # (1e-7: PyTorch's hardsigmoid gradient is 1/6 rounded to float32)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-7)
    # a later write into the result: PyTorch's nodes that saved it refuse the backward
    y.mul_(2.0)
    ty.mul_(2.0)
    if saves:
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            ty.sum().backward()
    else:
        y.sum().backward()
        ty.sum().backward()
    # a leaf that requires grad is refused, before anything changes
    leaf = mg.tensor(values, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        fn(leaf)
    np.testing.assert_array_equal(leaf.numpy(), values)
    with pytest.raises(RuntimeError, match="leaf"):
        tfn(torch.tensor(values, requires_grad=True))


def test_in_place_through_a_view_reaches_the_base_and_keeps_integers() -> None:
    base = mg.tensor([[-2.0, 0.5], [3.0, -0.1]])
    F.hardtanh_(base[0])
    np.testing.assert_allclose(base.numpy(), [[-1.0, 0.5], [3.0, -0.1]], rtol=1e-7)
    ints = mg.tensor([-4, 4, 0])
    assert F.hardtanh(ints, inplace=True) is ints
    np.testing.assert_array_equal(ints.numpy(), [-1, 1, 0])
    assert ints.dtype == mg.int64


# -- modules ------------------------------------------------------------------------------------

REPRS = [
    ("Hardtanh", (), {}),
    ("Hardtanh", (-2, 3, True), {}),
    ("ReLU6", (), {}),
    ("ReLU6", (True,), {}),
    ("Threshold", (0.1, 20.0), {}),
    ("Threshold", (1, 2, True), {}),
    ("RReLU", (), {}),
    ("RReLU", (0.1, 0.3, True), {}),
    ("PReLU", (), {}),
    ("PReLU", (3, 0.1), {}),
    ("Softmin", (), {}),
    ("Softmin", (1,), {}),
    ("GLU", (), {}),
    ("GLU", (0,), {}),
    ("Softshrink", (), {}),
    ("Hardshrink", (0.3,), {}),
    ("CELU", (), {}),
    ("CELU", (2.0, True), {}),
    ("SELU", (), {}),
    ("SELU", (True,), {}),
    ("Mish", (), {}),
    ("Mish", (True,), {}),
    ("Hardswish", (True,), {}),
    ("Hardsigmoid", (True,), {}),
    ("LogSigmoid", (), {}),
    ("Softsign", (), {}),
    ("Tanhshrink", (), {}),
    ("Softmax2d", (), {}),
]


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")  # Softmin(): both warn
@pytest.mark.parametrize(("name", "args", "kwargs"), REPRS, ids=[f"{r[0]}{r[1]}" for r in REPRS])
def test_module_repr_and_outputs_match_torch(name, args, kwargs) -> None:
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ours.eval()  # RReLU: the mean slope
    theirs.eval()
    x = np.random.default_rng(1).standard_normal((2, 4, 3, 2)) * 3
    t = torch.tensor(x, dtype=torch.float32)
    if name == "PReLU":
        expected = theirs(t[:, :3] if args and args[0] == 3 else t)
        got = ours(mg.tensor(x[:, :3] if args and args[0] == 3 else x, dtype=mg.float32))
    else:
        expected = theirs(t.clone())  # an inplace module writes into its input
        got = ours(mg.tensor(x, dtype=mg.float32))
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_prelu_module_parameter_state_dict_and_training() -> None:
    layer = nn.PReLU(3, init=0.1, dtype=mg.float64)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert tuple(layer.weight.shape) == (3,) and layer.weight.dtype == mg.float64
    np.testing.assert_array_equal(layer.weight.numpy(), [0.1, 0.1, 0.1])
    state = layer.state_dict()
    assert list(state) == ["weight"]
    twin = torch.nn.PReLU(3, init=0.1, dtype=torch.float64)
    assert list(twin.state_dict()) == list(state)
    fresh = nn.PReLU(3, dtype=mg.float64)
    fresh.load_state_dict({"weight": mg.tensor([0.5, -0.2, 0.0], dtype=mg.float64)})
    twin.load_state_dict({"weight": torch.tensor([0.5, -0.2, 0.0], dtype=torch.float64)})
    x = np.random.default_rng(2).standard_normal((4, 3, 5))
    out = fresh(mg.tensor(x))
    tout = twin(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(fresh.weight.grad.numpy(), twin.weight.grad.numpy(), rtol=1e-12)
    with pytest.raises(Exception, match="weight"):
        fresh.load_state_dict({"weight": mg.ones(4, dtype=mg.float64)})
    default = nn.PReLU()
    assert default.weight.dtype == mg.float32 and default.weight.numpy().tolist() == [0.25]


def test_hardtanh_module_takes_the_deprecated_spellings_with_a_warning() -> None:
    with pytest.warns(FutureWarning, match="min_value"):
        layer = nn.Hardtanh(min_value=-2.0)
    assert (layer.min_val, layer.max_val) == (-2.0, 1.0)


def test_rrelu_module_draws_in_training_and_uses_the_mean_slope_in_eval() -> None:
    layer = nn.RReLU(0.1, 0.3)
    x = mg.full((1000,), -1.0)
    slopes = -layer(x).numpy()
    assert layer.training and slopes.min() >= 0.1 and slopes.max() < 0.3 and slopes.std() > 0.03
    layer.eval()
    np.testing.assert_allclose(-layer(x).numpy(), 0.2, rtol=1e-6)


# -- the draws ----------------------------------------------------------------------------------


def test_rrelu_training_gradient_is_the_drawn_slope() -> None:
    x = mg.tensor(np.linspace(-3.0, 3.0, 61), requires_grad=True)
    out = mg.rrelu(x, 0.1, 0.4, training=True)
    out.sum().backward()
    negative = x.numpy() < 0
    slopes = out.numpy()[negative] / x.numpy()[negative]
    assert ((slopes >= 0.1) & (slopes < 0.4)).all() and len(np.unique(slopes)) > 20
    np.testing.assert_allclose(x.grad.numpy()[negative], slopes, rtol=1e-12)
    np.testing.assert_array_equal(x.grad.numpy()[x.numpy() > 0], 1.0)
    assert 0.1 <= x.grad.numpy()[30] < 0.4  # x = 0 takes a drawn slope, as PyTorch's


def test_rrelu_draws_follow_the_seed_and_the_generator() -> None:
    x = mg.full((50,), -1.0)
    mg.manual_seed(3)
    first = mg.rrelu(x, training=True).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(mg.rrelu(x, training=True).numpy(), first)
    gen = mg.Generator().manual_seed(5)
    mg.manual_seed(3)
    own = mg.rrelu(x, training=True, generator=gen).numpy()
    np.testing.assert_array_equal(mg.rrelu(x, training=True).numpy(), first)  # global unmoved
    again = mg.rrelu(x, training=True, generator=mg.Generator().manual_seed(5)).numpy()
    np.testing.assert_array_equal(own, again)
    half = mg.rrelu(x.to(dtype=mg.float16), training=True)
    assert half.dtype == mg.float16


def test_gumbel_softmax_samples_sum_to_one_and_follow_the_logits() -> None:
    logits = mg.tensor(np.log([0.2, 0.5, 0.3]), dtype=mg.float64).expand(20000, 3)
    mg.manual_seed(0)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.numpy().sum(-1), 1.0, rtol=1e-12)
    hard = F.gumbel_softmax(logits, hard=True)
    assert set(np.unique(hard.numpy())) == {0.0, 1.0}
    np.testing.assert_array_equal(hard.numpy().sum(-1), 1.0)
    # a Gumbel-max sample is a draw from softmax(logits)
    np.testing.assert_allclose(hard.numpy().mean(0), [0.2, 0.5, 0.3], atol=0.015)
    mg.manual_seed(4)
    first = F.gumbel_softmax(logits[:5], dim=0).numpy()
    mg.manual_seed(4)
    np.testing.assert_array_equal(F.gumbel_softmax(logits[:5], dim=0).numpy(), first)
    np.testing.assert_allclose(first.sum(0), 1.0, rtol=1e-12)


def test_gumbel_softmax_hard_passes_the_soft_gradient_straight_through() -> None:
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    w = mg.tensor(np.random.default_rng(1).standard_normal((4, 5)))
    mg.manual_seed(9)
    hard = F.gumbel_softmax(x, tau=0.7, hard=True)
    (g_hard,) = mg.grad((hard * w).sum(), [x])
    mg.manual_seed(9)
    soft = F.gumbel_softmax(x, tau=0.7)
    (g_soft,) = mg.grad((soft * w).sum(), [x])
    np.testing.assert_allclose(g_hard.numpy(), g_soft.numpy(), rtol=1e-12, atol=1e-15)
    assert (hard.numpy().argmax(-1) == soft.numpy().argmax(-1)).all()
    with pytest.warns(UserWarning, match="eps"):
        F.gumbel_softmax(x, eps=1e-5)


def test_gumbel_softmax_gradient_matches_softmax_of_the_same_noise() -> None:
    """With the noise fixed by the seed, the gradient is softmax's at (x + g) / tau: checked
    by finite differences, reseeding before each call."""
    x = mg.tensor(np.random.default_rng(3).standard_normal((3, 4)), requires_grad=True)

    def sample(t):
        mg.manual_seed(11)
        return F.gumbel_softmax(t, tau=0.8, dim=0)

    assert mg.gradcheck(sample, [x])


# -- softmin ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 2)])
def test_softmin_without_dim_picks_torchs_dim_and_warns(shape) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        ours = F.softmin(mg.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = TF.softmin(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(nn.Softmin()(mg.tensor(x)).numpy(), theirs.numpy(), rtol=1e-12)


def test_softmin_dtype_casts_first() -> None:
    x = np.array([[1, 2, 3]])
    out = F.softmin(mg.tensor(x), 1, dtype=mg.float64)
    expected = TF.softmin(torch.tensor(x), 1, dtype=torch.float64)
    assert out.dtype == mg.float64
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


def test_softmax2d_is_softmax_over_channels() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for arr in (x, x[0]):
        out = nn.Softmax2d()(mg.tensor(arr))
        np.testing.assert_allclose(
            out.numpy(), torch.nn.Softmax2d()(torch.tensor(arr)).numpy(), rtol=1e-12
        )
