"""Reproductions of the defects that issue 15 found, each compared with PyTorch where it has a
twin: threaded kernels that split a reduced axis, cross-entropy with unnormalized probability
targets, NaN conventions of gradients, and empty and 0-d tensors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _twin(arr: np.ndarray, requires_grad: bool = True):
    return torch.tensor(np.asarray(arr), requires_grad=requires_grad)


def _diff(arrays, diff):
    """Which inputs require grad: ``diff`` when given, else every float array."""
    return diff if diff is not None else [a.dtype.kind == "f" for a in arrays]


def _grads(fn, *arrays: np.ndarray, seed=None, diff=None) -> tuple[np.ndarray, list]:
    """Forward and gradients of ``fn`` in minigrad."""
    xs = [mg.tensor(a, requires_grad=d) for a, d in zip(arrays, _diff(arrays, diff))]
    out = fn(*xs)
    out.backward(mg.tensor(seed) if seed is not None else mg.ones_like(out))
    return out.numpy(), [x.grad.numpy() if x.grad is not None else None for x in xs]


def _torch_grads(fn, *arrays: np.ndarray, seed=None, diff=None):
    ts = [_twin(a, d) for a, d in zip(arrays, _diff(arrays, diff))]
    out = fn(*ts)
    out.backward(torch.tensor(seed) if seed is not None else torch.ones_like(out))
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in ts]


def _assert_like_torch(fn, tfn, *arrays: np.ndarray, seed=None, diff=None) -> None:
    out, grads = _grads(fn, *arrays, seed=seed, diff=diff)
    tout, tgrads = _torch_grads(tfn, *arrays, seed=seed, diff=diff)
    assert out.shape == tout.shape, f"shape {out.shape}, PyTorch {tout.shape}"
    np.testing.assert_allclose(out, tout, rtol=1e-6, atol=1e-12, equal_nan=True)
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        if tg is None:
            continue
        np.testing.assert_allclose(
            g, tg, rtol=1e-6, atol=1e-12, equal_nan=True, err_msg=f"gradient of input {k}"
        )


# =============================================================================================
# 1. threaded kernels split only axes they do not reduce over
# =============================================================================================

BIG = mg.backend.PARALLEL_MIN_SIZE  # the size from which softmax runs on threads


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two or more threads, whatever this machine has."""
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "3")


@needs_torch
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize(
    ("shape", "dim"),
    [((BIG,), 0), ((BIG,), -1), ((2, BIG // 2), 1), ((BIG // 2, 2), 0), ((4, BIG // 8, 2), 1)],
)
def test_threaded_row_kernels_match_torch(threads, op: str, shape: tuple, dim: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    seed = rng.standard_normal(shape)
    _assert_like_torch(
        lambda t: getattr(mg, op)(t, dim), lambda t: getattr(torch, op)(t, dim), x, seed=seed
    )


def test_softmax_of_a_long_vector_sums_to_one(threads) -> None:
    assert mg.softmax(mg.zeros(1 << 18), 0).sum().item() == pytest.approx(1.0, rel=1e-5)
    out = mg.log_softmax(mg.zeros(1 << 18, dtype=mg.float64), 0)
    np.testing.assert_allclose(out.numpy(), -math.log(1 << 18))


@needs_torch
def test_attention_row_dot_above_its_einsum_threshold(threads) -> None:
    """The attention backward's row dot switches to einsum above ROW_DOT_EINSUM_SIZE."""
    rng = np.random.default_rng(1)
    n = int(math.isqrt(mg.backend.ROW_DOT_EINSUM_SIZE)) + 8  # scores (n, n) above the threshold
    q, k, v = (rng.standard_normal((n, 4)) for _ in range(3))
    seed = rng.standard_normal((n, 4))
    _assert_like_torch(
        mg.attention, torch.nn.functional.scaled_dot_product_attention, q, k, v, seed=seed
    )


# =============================================================================================
# 2. cross_entropy with probability targets that do not sum to 1
# =============================================================================================

UNNORMALIZED = np.array([[0.2, 0.2, 0.2, 0.2], [0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5]])


@needs_torch
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_unnormalized_probabilities_match_torch(smoothing, reduction) -> None:
    logits = np.random.default_rng(2).standard_normal((3, 4))

    def run(ce):
        return lambda x, q: ce(x, q, label_smoothing=smoothing, reduction=reduction)

    _assert_like_torch(
        run(mg.cross_entropy),
        run(torch.nn.functional.cross_entropy),
        logits,
        UNNORMALIZED,
        diff=[True, False],
    )


def test_cross_entropy_all_zero_target_row_gives_no_loss_and_no_gradient() -> None:
    logits = mg.tensor(np.random.default_rng(3).standard_normal((2, 5)), requires_grad=True)
    target = mg.tensor(np.array([[0.0] * 5, [0.1, 0.2, 0.3, 0.4, 0.0]]))
    loss = mg.cross_entropy(logits, target, reduction="none")
    assert loss.numpy()[0] == 0.0
    loss.sum().backward()
    np.testing.assert_array_equal(logits.grad.numpy()[0], 0.0)
    assert np.abs(logits.grad.numpy()[1]).max() > 0


def test_cross_entropy_refuses_ignore_index_with_probabilities() -> None:
    logits, target = mg.randn(3, 4), mg.rand(3, 4)
    with pytest.raises(ValueError, match=r"ignore_index \(1\) is not supported.*\(3, 4\)"):
        mg.cross_entropy(logits, target, ignore_index=1)
    assert torch is None or _torch_refuses(
        lambda: torch.nn.functional.cross_entropy(
            torch.randn(3, 4), torch.rand(3, 4), ignore_index=1
        )
    )
    mg.cross_entropy(logits, target)  # the default ignore_index is fine, as in PyTorch


def _torch_refuses(fn) -> bool:
    try:
        fn()
    except (RuntimeError, ValueError):
        return True
    return False


# =============================================================================================
# 3. std and var where the spread is 0
# =============================================================================================


@needs_torch
@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("op", ["std", "var"])
@pytest.mark.parametrize(
    ("data", "dim", "correction"),
    [
        ([1.5, 1.5, 1.5], None, 1),
        ([[2.0, 2.0], [1.0, 3.0]], 1, 1),
        ([[2.0, 2.0], [1.0, 3.0]], 1, 0),
        ([[0.5], [4.0]], 1, 0),
        ([[0.5], [4.0]], 1, 1),  # N - correction = 0: NaN, as PyTorch
    ],
)
def test_std_and_var_with_no_spread_match_torch(op, data, dim, correction) -> None:
    x = np.array(data)
    _assert_like_torch(
        lambda t: getattr(t, op)(dim, correction=correction),
        lambda t: getattr(t, op)(dim, correction=correction),
        x,
    )


def test_std_of_constant_rows_has_zero_gradient() -> None:
    x = mg.ones(4, 3, dtype=mg.float64, requires_grad=True)
    x.std(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


# =============================================================================================
# 4. exact gelu (the NumPy erf) on NaN and infinities
# =============================================================================================


def test_erf_propagates_nan_and_saturates_at_infinity() -> None:
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 7.0, -2.9], dtype=np.float64)
    out = mg.backend.erf(x)
    expected = [math.nan, 1.0, -1.0, 0.0, 1.0, math.erf(-2.9)]
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-15, equal_nan=True)
    assert mg.backend.erf(x.astype(np.float32)).dtype == np.float32


@needs_torch
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0, as in PyTorch
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_propagates_nan_like_torch(approximate: str) -> None:
    x = np.array([np.nan, 1.0, -0.5, np.inf, -np.inf])
    _assert_like_torch(
        lambda t: mg.gelu(t, approximate=approximate),
        lambda t: torch.nn.functional.gelu(t, approximate=approximate),
        x,
    )


# =============================================================================================
# 5. pow at zero
# =============================================================================================

POW_BASES = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -2.0, -2.0, 1.5])
POW_EXPONENTS = np.array([0.0, -1.0, 2.0, -0.5, 0.5, 0.0, 2.0, -1.0, -3.0])


@needs_torch
@pytest.mark.filterwarnings("ignore:.*:RuntimeWarning")  # the oracle's own inf and NaN
@pytest.mark.parametrize(
    "form",
    [
        "tensor**tensor",
        "tensor**0",
        "tensor**0.0",
        "tensor**-1",
        "tensor**2",
        "0.0**tensor",
        "-2.0**tensor",
        "3.0**tensor",
    ],
)
def test_pow_at_zero_matches_torch(form: str) -> None:
    fns = {
        "tensor**tensor": (lambda a, b: a**b, (POW_BASES, POW_EXPONENTS)),
        "tensor**0": (lambda a: a**0, (POW_BASES,)),
        "tensor**0.0": (lambda a: a**0.0, (POW_BASES,)),
        "tensor**-1": (lambda a: a**-1, (POW_BASES,)),
        "tensor**2": (lambda a: a**2, (POW_BASES,)),
        "0.0**tensor": (lambda b: 0.0**b, (POW_EXPONENTS,)),
        "-2.0**tensor": (lambda b: (-2.0) ** b, (POW_EXPONENTS,)),
        "3.0**tensor": (lambda b: 3.0**b, (POW_EXPONENTS,)),
    }
    fn, arrays = fns[form]
    _assert_like_torch(fn, fn, *arrays)


def test_grad_of_x_to_the_zero_at_zero_is_zero() -> None:
    x = mg.zeros(3, dtype=mg.float64, requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
    e = mg.zeros(3, dtype=mg.float64, requires_grad=True)
    x.grad = None
    (x**e).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
    np.testing.assert_array_equal(e.grad.numpy(), 0.0)


# =============================================================================================
# 6. NaN conventions of gradients
# =============================================================================================

NAN = math.nan
WITH_NAN = np.array([NAN, 0.0, 1.0, -1.0, 2.0])
OTHER = np.array([1.0, 0.0, NAN, 2.0, NAN])


@needs_torch
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # sqrt'(0) = inf
@pytest.mark.parametrize(
    "name",
    [
        "relu",
        "abs",
        "maximum",
        "minimum",
        "maximum-both-nan",
        "clamp",
        "clamp-min",
        "amax",
        "amin",
        "amax-dim",
        "sigmoid",
        "tanh",
        "sqrt",
        "exp",
    ],
)
def test_nan_gradients_match_torch(name: str) -> None:
    both = np.array([NAN, NAN, 1.0])
    table = {
        "relu": (mg.relu, torch.relu, (WITH_NAN,)),
        "abs": (mg.abs, torch.abs, (WITH_NAN,)),
        "maximum": (mg.maximum, torch.maximum, (WITH_NAN, OTHER)),
        "minimum": (mg.minimum, torch.minimum, (WITH_NAN, OTHER)),
        "maximum-both-nan": (mg.maximum, torch.maximum, (both, both)),
        "clamp": (lambda t: t.clamp(-0.5, 1.0), lambda t: t.clamp(-0.5, 1.0), (WITH_NAN,)),
        "clamp-min": (lambda t: t.clamp(min=0.0), lambda t: t.clamp(min=0.0), (WITH_NAN,)),
        "amax": (lambda t: t.amax(), torch.amax, (WITH_NAN,)),  # max(): test_parity_fuzz.py
        "amin": (lambda t: t.amin(), torch.amin, (WITH_NAN,)),
        "amax-dim": (
            lambda t: t.amax(1),
            lambda t: torch.amax(t, 1),
            (np.array([[NAN, 1.0], [2.0, 2.0]]),),
        ),
        "sigmoid": (mg.sigmoid, torch.sigmoid, (WITH_NAN,)),
        "tanh": (mg.tanh, torch.tanh, (WITH_NAN,)),
        "sqrt": (mg.sqrt, torch.sqrt, (np.abs(WITH_NAN),)),
        "exp": (mg.exp, torch.exp, (WITH_NAN,)),
    }
    fn, tfn, arrays = table[name]
    _assert_like_torch(fn, tfn, *arrays)


# =============================================================================================
# 7. empty and 0-d tensors
# =============================================================================================

S = np.array(1.5)  # a 0-d input
IDS0 = np.zeros((0,), dtype=np.int64)
EMPTY_CASES = {
    "embedding-no-ids": (
        lambda i, w: mg.embedding(i, w),
        lambda i, w: torch.nn.functional.embedding(i, w),
        (IDS0, np.ones((3, 2))),
    ),
    "embedding-no-ids-2d": (
        lambda i, w: mg.embedding(i, w),
        lambda i, w: torch.nn.functional.embedding(i, w),
        (np.zeros((2, 0), dtype=np.int64), np.ones((3, 2))),
    ),
    "matmul-k0": (lambda a, b: a @ b, lambda a, b: a @ b, (np.ones((2, 3, 0)), np.ones((0, 4)))),
    "matmul-m0": (lambda a, b: a @ b, lambda a, b: a @ b, (np.ones((2, 0, 3)), np.ones((3, 4)))),
    "matmul-k0-2d": (lambda a, b: a @ b, lambda a, b: a @ b, (np.ones((3, 0)), np.ones((0, 2)))),
    "linear-k0": (
        lambda x, w: mg.linear(x, w),
        lambda x, w: torch.nn.functional.linear(x, w),
        (np.ones((2, 3, 0)), np.ones((4, 0))),
    ),
    "softmax-size0-dim": (lambda x: x.softmax(1), lambda x: x.softmax(1), (np.ones((2, 0)),)),
    "softmax-size0-other": (lambda x: x.softmax(1), lambda x: x.softmax(1), (np.ones((0, 3)),)),
    "log_softmax-size0-dim": (
        lambda x: x.log_softmax(1),
        lambda x: x.log_softmax(1),
        (np.ones((2, 0)),),
    ),
    "softmax-0d": (lambda x: x.softmax(0), lambda x: x.softmax(0), (S,)),
    "softmax-0d-last": (lambda x: x.softmax(-1), lambda x: x.softmax(-1), (S,)),
    "log_softmax-0d": (lambda x: x.log_softmax(0), lambda x: x.log_softmax(0), (S,)),
    "log_softmax-0d-last": (lambda x: x.log_softmax(-1), lambda x: x.log_softmax(-1), (S,)),
    "index-empty-list": (lambda x: x[[]], lambda x: x[[]], (np.ones((3, 2)),)),
    "sum-0d-dim0": (lambda x: x.sum(0), lambda x: x.sum(0), (S,)),
    "sum-0d-dim-1-keep": (lambda x: x.sum(-1, keepdim=True), lambda x: x.sum(-1, True), (S,)),
    "mean-0d": (lambda x: x.mean(0), lambda x: x.mean(0), (S,)),
    "max-0d": (lambda x: x.max(0).values, lambda x: x.max(0).values, (S,)),
    "min-0d": (lambda x: x.min(-1)[0], lambda x: x.min(-1)[0], (S,)),
    "amax-0d": (lambda x: x.amax(0), lambda x: torch.amax(x, 0), (S,)),
    "logsumexp-0d": (lambda x: x.logsumexp(0), lambda x: x.logsumexp(0), (S,)),
    "var-0d": (lambda x: x.var(0), lambda x: x.var(0), (S,)),
    "std-0d-c0": (lambda x: x.std(0, correction=0), lambda x: x.std(0, correction=0), (S,)),
    "transpose-0d": (lambda x: x.transpose(0, -1), lambda x: x.transpose(0, -1), (S,)),
    "squeeze-0d": (lambda x: x.squeeze(0), lambda x: x.squeeze(0), (S,)),
    "squeeze-0d-last": (lambda x: x.squeeze(-1), lambda x: x.squeeze(-1), (S,)),
    "sum-empty": (lambda x: x.sum(1), lambda x: x.sum(1), (np.ones((2, 0)),)),
    "mean-empty": (lambda x: x.mean(), lambda x: x.mean(), (np.ones((2, 0)),)),
    "max-empty-rows": (lambda x: x.max(1).values, lambda x: x.max(1).values, (np.ones((0, 3)),)),
    "amax-empty-rows": (lambda x: x.amax(1), lambda x: torch.amax(x, 1), (np.ones((0, 3)),)),
    "logsumexp-empty": (lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), (np.ones((2, 0)),)),
    "var-empty": (lambda x: x.var(1), lambda x: x.var(1), (np.ones((2, 0)),)),
}


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's degrees-of-freedom warning
@pytest.mark.parametrize("name", sorted(EMPTY_CASES))
def test_empty_and_0d_match_torch(name: str) -> None:
    fn, tfn, arrays = EMPTY_CASES[name]
    rng = np.random.default_rng(4)
    out = fn(*[mg.tensor(a) for a in arrays])
    seed = np.asarray(rng.standard_normal(tuple(out.shape)))
    _assert_like_torch(fn, tfn, *arrays, seed=seed)


def test_argmax_on_0d_with_dim() -> None:
    assert mg.tensor(2.0).argmax(0).item() == 0
    assert mg.tensor(2.0).argmin(-1).item() == 0
    with pytest.raises(IndexError, match="dimension out of range"):
        mg.tensor(2.0).argmax(1)


@pytest.mark.parametrize(("shape", "dim"), [((0, 2), 0), ((5, 0), 1), ((0,), 0)])
@pytest.mark.parametrize("chunks", [1, 3])
def test_chunk_of_an_empty_dim_gives_chunks_pieces(shape, dim, chunks) -> None:
    pieces = mg.zeros(*shape).chunk(chunks, dim)
    expected = torch.zeros(*shape).chunk(chunks, dim) if torch is not None else [None] * chunks
    assert len(pieces) == len(expected) == chunks
    assert all(tuple(p.shape) == tuple(shape) for p in pieces)


def test_empty_index_list_is_an_int64_index() -> None:
    x = mg.ones(3, 2, requires_grad=True)
    y = x[[]]
    assert tuple(y.shape) == (0, 2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "var", "std", "logsumexp"])
def test_a_float_dim_is_refused_naming_dim(op: str) -> None:
    with pytest.raises(TypeError, match=r"dim must be .*float 1\.0"):
        getattr(mg.ones(2, 2), op)(dim=1.0)


@pytest.mark.parametrize("op", ["sum", "max", "softmax", "transpose", "squeeze"])
def test_0d_refuses_dims_beyond_0_and_minus_1(op: str) -> None:
    x = mg.tensor(2.0)
    call = {"transpose": lambda: x.transpose(0, 1), "softmax": lambda: x.softmax(1)}
    with pytest.raises(IndexError, match=r"range of \[-1, 0\]"):
        call.get(op, lambda: getattr(x, op)(1))()


def test_max_over_an_empty_dim_is_refused_naming_the_shape() -> None:
    with pytest.raises(ValueError, match=r"size 0.*\(3, 0\)"):
        mg.ones(3, 0).max(1)


# =============================================================================================
# Found by the differential fuzz (tests/test_fuzz.py)
# =============================================================================================


@needs_torch
@pytest.mark.parametrize(
    ("shape", "start", "end"), [((0, 0), 0, -1), ((2, 0, 3), 1, 2), ((3, 0), 0, 0), ((0,), 0, 0)]
)
def test_flatten_next_to_a_size_0_dim(shape, start, end) -> None:
    """flatten reshaped with -1, which a size-0 dim elsewhere leaves undetermined."""
    _assert_like_torch(
        lambda t: t.flatten(start, end), lambda t: t.flatten(start, end), np.ones(shape)
    )


@needs_torch
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf in that row
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_ignored_rows_with_nan_logits_count_nothing(reduction, smoothing) -> None:
    """An ignored target's row gave NaN * 0 = NaN in the loss; it is 0, as in PyTorch (whose
    gradient there is NaN, from its log_softmax backward, and so is minigrad's)."""
    logits = np.random.default_rng(5).standard_normal((3, 4))
    logits[1] = np.nan
    logits[2, 0] = np.inf
    target = np.array([2, -100, -100])

    def run(ce):
        return lambda x, t: ce(x, t, reduction=reduction, label_smoothing=smoothing)

    _assert_like_torch(
        run(mg.cross_entropy),
        run(torch.nn.functional.cross_entropy),
        logits,
        target,
        diff=[True, False],
    )


@needs_torch
@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin", "var", "std"])
def test_an_empty_tuple_of_dims_reduces_every_dim(op: str) -> None:
    """As PyTorch (whose var/std backward then divides by N - correction with N = 1, a bug:
    the twin there is dim=None)."""
    x = np.random.default_rng(6).standard_normal((2, 3))
    tname = op
    tdim = None if op in ("var", "std") else ()
    _assert_like_torch(
        lambda t: getattr(mg, op)(t, ()), lambda t: getattr(torch, tname)(t, tdim), x
    )


@needs_torch
@pytest.mark.parametrize(
    "index",
    [
        (0, slice(None), [0, 0, 1]),
        (0, slice(None), []),
        (slice(None), 1, slice(None), [1, 0]),
        ([1, 0], slice(None), 0),
        (Ellipsis, 1, [0, 1]),
        (None, 0, slice(None), [1]),
        ([0], 1, [1, 1]),
    ],
)
def test_ints_beside_integer_arrays_select_first_as_torch(index) -> None:
    """NumPy moves the dims of separated advanced indices (ints count as such) to the front;
    PyTorch selects with the ints first."""
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    out = mg.tensor(x)[index]
    seed = np.random.default_rng(7).standard_normal(tuple(out.shape))
    _assert_like_torch(lambda t: t[index], lambda t: t[index], x, seed=seed)


def test_a_nan_behind_a_masked_key_does_not_reach_the_attention_output() -> None:
    """A deliberate difference (README): the mask replaces scores, PyTorch's SDPA adds -inf."""
    rng = np.random.default_rng(8)
    k = rng.standard_normal((2, 3))
    k[1] = np.nan
    q, v = rng.standard_normal((1, 3)), rng.standard_normal((2, 2))
    out = mg.attention(mg.tensor(q), mg.tensor(k), mg.tensor(v), mg.tensor(np.array([[0, 1]]) > 0))
    np.testing.assert_allclose(out.numpy(), v[:1], rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize(("shape", "dim"), [((0, 3), 1), ((2, 0, 3), -1), ((0,), None)])
def test_argmax_over_a_nonempty_dim_of_an_empty_tensor(name, shape, dim) -> None:
    """Found by the fuzz: any empty tensor was refused; only a reduced dim of size 0 is."""
    x = torch.zeros(shape)
    try:
        expected = getattr(x, name)(dim)
    except (RuntimeError, IndexError):
        with pytest.raises(ValueError, match=r"size 0.*" + re.escape(str(shape))):
            getattr(mg.zeros(*shape), name)(dim)
        return
    out = getattr(mg.zeros(*shape), name)(dim)
    assert tuple(out.shape) == tuple(expected.shape) and out.dtype == mg.int64


# =============================================================================================
# copy.deepcopy: the copy trains on its own
# =============================================================================================


def test_a_deep_copied_model_sends_its_gradients_to_its_own_parameters() -> None:
    """After a backward, each parameter holds its gradient node (AccumulateGrad, which refers
    to the parameter). A deep copy used to copy the node's reference to the *original*
    parameter, so training the copy (a target network, an EMA model) filled the original's
    .grad and left the copy's None. Tied weights stay tied in the copy, as PyTorch's."""
    import copy  # noqa: PLC0415

    from transformer import Transformer  # noqa: PLC0415

    model = Transformer(
        7,
        7,
        d_model=8,
        n_heads=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        d_ff=16,
        dropout=0.0,
        tie_embeddings=True,
    )
    src = mg.tensor([[1, 2, 3]])
    tgt = mg.tensor([[1, 4]])
    model(src, tgt).sum().backward()  # every parameter now has its gradient node
    twin = copy.deepcopy(model)
    model.zero_grad()
    assert all(p.grad is None for p in twin.parameters())  # parameters drop .grad, as torch's
    twin(src, tgt).sum().backward()
    assert all(p.grad is None for p in model.parameters())
    assert all(p.grad is not None for p in twin.parameters())
    assert twin.output_proj.weight is twin.tgt_embed.weight is twin.src_embed.weight
    assert twin.output_proj.weight is not model.output_proj.weight
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


def test_deepcopy_of_a_leaf_copies_its_grad_and_refuses_a_computed_tensor() -> None:
    """As PyTorch: a leaf's copy owns a copy of the array and of .grad, and its own node; a
    tensor with a grad_fn is refused (its copy would drag the graph along)."""
    import copy  # noqa: PLC0415

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 1).sum().backward()
    y = copy.deepcopy(x)
    assert y.requires_grad and y.grad_fn is None
    assert not np.shares_memory(y.numpy(), x.numpy())
    x.grad = None
    (y * 3).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(y.grad.numpy(), [4.0, 4.0])  # the copied 1 plus 3
    with pytest.raises(RuntimeError, match=r"deepcopy: only a leaf.*output of Mul.*detach"):
        copy.deepcopy(x * 2)


def test_a_shallow_copy_is_a_leaf_of_its_own_sharing_the_array() -> None:
    """As PyTorch's copy.copy: the copy shares the memory but not the gradient node (it shared
    the original's AccumulateGrad, so its backward filled the original's .grad)."""
    import copy  # noqa: PLC0415

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 1).sum().backward()
    y = copy.copy(x)
    assert y is not x and y.requires_grad and y.grad is None and y.grad_fn is None
    assert np.shares_memory(y.numpy(), x.numpy())
    x.grad = None
    (y * 3).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0])
    with mg.no_grad():
        y.add_(1.0)  # the shared memory: x sees it
    np.testing.assert_array_equal(x.numpy(), [2.0, 3.0])
