"""``minigrad/composites.py``: PyTorch's other spellings and predicates at the top level,
block_diag, combinations, diagonal_scatter, mvlgamma, chain_matmul (values and gradients),
histogram and the signal windows, against torch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch

pytestmark = [
    pytest.mark.skipif(torch is None, reason="torch is not installed"),
    pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated"),
]


def _close(a, b, **tol):
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **(tol or {"rtol": 1e-12}))


def _grads(ours, theirs, arrays, **tol):
    """Values and the gradients of every input through a random upstream gradient."""
    mine = [mg.tensor(a, requires_grad=True) for a in arrays]
    them = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = ours(*mine), theirs(*them)
    assert tuple(out.shape) == tuple(tout.shape)
    _close(out, tout, **tol)
    up = np.random.default_rng(3).standard_normal(tuple(out.shape))
    (out * mg.tensor(up)).sum().backward()
    (tout * torch.tensor(up)).sum().backward()
    for m, t in zip(mine, them):
        _close(m.grad, t.grad, **tol)


@pytest.mark.parametrize(
    "name,args",
    [("absolute", ()), ("negative", ()), ("positive", ()), ("fix", ()), ("clamp_min", (0.2,)),
     ("clamp_max", (0.1,)), ("multiply", (3.0,)), ("subtract", (1.0,)), ("divide", (2.0,))],
)  # fmt: skip
def test_top_level_aliases(name, args):
    a = np.random.default_rng(0).standard_normal((3, 2)) * 3
    _grads(lambda x: getattr(mg, name)(x, *args), lambda x: getattr(torch, name)(x, *args), [a])


def test_concat_concatenate_and_bitwise():
    a, b = np.arange(4.0).reshape(2, 2), np.ones((1, 2))
    _grads(lambda x, y: mg.concat([x, y]), lambda x, y: torch.concat([x, y]), [a, b])
    _grads(
        lambda x, y: mg.concatenate([x, y], axis=0),
        lambda x, y: torch.concatenate([x, y], axis=0),
        [a, b],
    )
    i, j = np.array([6, -2, 9]), np.array([3, 5, 1])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                 "bitwise_right_shift"):  # fmt: skip
        ours = getattr(mg, name)(mg.tensor(i), mg.tensor(j))
        assert ours.tolist() == getattr(torch, name)(torch.tensor(i), torch.tensor(j)).tolist()
    assert mg.bitwise_not(mg.tensor(i)).tolist() == torch.bitwise_not(torch.tensor(i)).tolist()


def test_predicates_and_dtypes():
    assert mg.is_tensor(mg.zeros(1)) and not mg.is_tensor(np.zeros(1))
    assert mg.is_floating_point(mg.zeros(1)) and not mg.is_floating_point(mg.zeros(1).long())
    assert not mg.is_complex(mg.zeros(1)) and mg.is_nonzero(mg.tensor([3]))
    assert mg.is_same_size(mg.zeros((2, 3)), mg.ones((2, 3)))
    assert mg.isreal(mg.zeros(2)).tolist() == [True, True]
    pairs = [(mg.float64, mg.float32), (mg.float32, mg.int32), (mg.int64, mg.bool),
             (mg.bool, mg.float16), (mg.uint8, mg.int8), (mg.int32, mg.float64)]  # fmt: skip
    for a, b in pairs:
        ta, tb = (getattr(torch, str(np.dtype(d))) for d in (a, b))
        assert mg.can_cast(a, b) == torch.can_cast(ta, tb), (a, b)
        assert str(np.dtype(mg.promote_types(a, b))) == str(torch.promote_types(ta, tb))[6:]
    cases = [(np.ones(2, np.int32), 2.5), (np.ones(2, np.int32), np.array(2.5)),
             (np.ones(2, np.float16), np.array(2.5)), (np.ones(2, np.uint8), 300)]  # fmt: skip
    for a, b in cases:
        ours = mg.result_type(mg.tensor(a), mg.tensor(b) if isinstance(b, np.ndarray) else b)
        other = torch.tensor(b) if isinstance(b, np.ndarray) else b
        assert str(np.dtype(ours)) == str(torch.result_type(torch.tensor(a), other))[6:]


def test_block_diag():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(()), rng.standard_normal(3), rng.standard_normal((2, 2))]
    _grads(mg.block_diag, torch.block_diag, arrays)
    mixed = mg.block_diag(mg.ones((1, 2), dtype=mg.int64), mg.ones(1, dtype=mg.float32))
    tmixed = torch.block_diag(torch.ones((1, 2), dtype=torch.int64), torch.ones(1))
    assert mixed.dtype == mg.float32 and mixed.tolist() == tmixed.tolist()
    assert tuple(mg.block_diag().shape) == tuple(torch.block_diag().shape)
    with pytest.raises(ValueError, match=r"input 1 must be a tensor of at most 2 dims"):
        mg.block_diag(mg.ones(2), mg.ones((1, 1, 1)))


@pytest.mark.parametrize("r", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("with_replacement", [False, True])
def test_combinations(r, with_replacement):
    a = np.random.default_rng(2).standard_normal(4)
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out = mg.combinations(x, r, with_replacement)
    tout = torch.combinations(t, r, with_replacement)
    assert tuple(out.shape) == tuple(tout.shape)
    _close(out, tout)
    if out.numel():
        (out * out).sum().backward()
        (tout * tout).sum().backward()
        _close(x.grad, t.grad)


@pytest.mark.parametrize(
    "shape,offset,dims", [((3, 5), 1, (0, 1)), ((4, 3), -1, (0, 1)), ((2, 3, 4), 0, (2, 0))]
)
def test_diagonal_scatter(shape, offset, dims):
    rng = np.random.default_rng(4)
    a = rng.standard_normal(shape)
    src = rng.standard_normal(tuple(torch.tensor(a).diagonal(offset, *dims).shape))
    _grads(
        lambda x, s: mg.diagonal_scatter(x, s, offset, *dims),
        lambda x, s: torch.diagonal_scatter(x, s, offset, *dims),
        [a, src],
    )
    with pytest.raises(
        ValueError, match=r"src of shape \(7,\) must have the shape .* of the diagonal"
    ):
        mg.diagonal_scatter(mg.tensor(a), mg.ones(7), offset, *dims)


@pytest.mark.parametrize("p", [1, 2, 4])
def test_mvlgamma(p):
    a = np.random.default_rng(5).random(5) + 2.0
    _grads(lambda x: mg.mvlgamma(x, p), lambda x: torch.mvlgamma(x, p), [a], rtol=1e-10)
    x = mg.tensor(a[:2], requires_grad=True)
    assert mg.gradgradcheck(lambda u: mg.mvlgamma(u, p), [x])


def test_chain_matmul():
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(s) for s in ((2, 3), (3, 4), (4, 2))]
    _grads(mg.chain_matmul, torch.chain_matmul, arrays, rtol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histogram(dtype):
    a = np.random.default_rng(7).standard_normal((4, 25)).astype(dtype)
    w = np.random.default_rng(8).random((4, 25)).astype(dtype)
    x, t = mg.tensor(a), torch.tensor(a)
    for bins, kwargs in [(5, {}), (3, {"range": (-1.0, 1.0)}), (4, {"density": True})]:
        h, e = mg.histogram(x, bins, **kwargs)
        th, te = torch.histogram(t, bins, **kwargs)
        assert h.dtype == x.dtype and e.dtype == x.dtype
        _close(h, th, rtol=1e-5, atol=1e-6)
        _close(e, te, rtol=1e-5, atol=1e-6)
    edges = np.array([-3.0, -0.5, 0.0, 2.0], dtype=dtype)
    h, e = mg.histogram(x, mg.tensor(edges), weight=mg.tensor(w))
    th, te = torch.histogram(t, torch.tensor(edges), weight=torch.tensor(w))
    _close(h, th, rtol=1e-5)
    with pytest.raises(TypeError, match="floating point"):
        mg.histogram(mg.arange(3), 2)
    with pytest.raises(ValueError, match="positive int"):
        mg.histogram(x, 0)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])  # fmt: skip
@pytest.mark.parametrize("length", [0, 1, 2, 5, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows(name, length, periodic):
    out = getattr(mg, name)(length, periodic, dtype=mg.float64)
    tout = getattr(torch, name)(length, periodic, dtype=torch.float64)
    _close(out, tout, rtol=1e-12, atol=1e-14)
    assert getattr(mg, name)(length).dtype == mg.float32


def test_window_options_and_errors():
    _close(mg.hamming_window(6, True, 0.5, 0.5), torch.hamming_window(6, True, 0.5, 0.5), rtol=1e-6)
    _close(mg.kaiser_window(6, False, 5.0), torch.kaiser_window(6, False, 5.0), rtol=1e-6)
    assert mg.hann_window(4, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="non-negative int"):
        mg.hann_window(-1)
    with pytest.raises(TypeError, match="floating point dtype"):
        mg.hann_window(4, dtype=mg.int64)


def test_random_state_round_trip_and_seed():
    chosen = mg.seed()
    assert isinstance(chosen, int) and chosen >= 0 and mg.initial_seed() == chosen
    state = mg.get_rng_state()
    first = mg.rand(4).tolist(), mg.randn(2).tolist()
    mg.set_rng_state(state)
    assert (mg.rand(4).tolist(), mg.randn(2).tolist()) == first
    mg.manual_seed(chosen)  # the seed replays from the start as well
    mg.set_rng_state(state)
    assert mg.rand(4).tolist() == first[0]
    mg.manual_seed(5)
    assert mg.initial_seed() == 5
    with pytest.raises(TypeError, match="get_rng_state"):
        mg.set_rng_state(b"\x00\x01")
