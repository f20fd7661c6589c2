"""PyTorch breadth: the linear algebra, shape and creation functions of minigrad/ops/linalg.py,
minigrad/ops/shape_breadth.py and minigrad/creation_breadth.py, and the Tensor methods beside
them (new_*, random fills in place, stride, storage_offset).

The differentiable ops are gradchecked, compared with PyTorch and gradgradchecked through their
registry cases (tests/op_cases.py); here: the non-differentiable ones, edge cases (empty, 0-d,
integer inputs and their dtypes), bad inputs (errors naming the shapes, raised before anything
changes) and the factories. Each value is compared with PyTorch's.

The second half covers the matrix norms and the decompositions (minigrad/ops/decompositions.py,
minigrad.linalg): values and gradients against PyTorch over every ord, shape (batched,
non-square, keepdim, negative and permuted dims) and float32/float64, the create_graph
gradients too; float64 gradcheck and gradgradcheck on well-separated singular values; the
degenerate matrices (zero, repeated singular values, ties) against PyTorch's conventions; bad
inputs; and multinomial's generator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch_device

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(14)


def twin(array: Any, grad: bool = False) -> tuple[mg.Tensor, Any]:
    """The same values as a minigrad tensor and a PyTorch one (on the test device)."""
    array = np.asarray(array)
    return (
        mg.tensor(array, requires_grad=grad),
        torch.tensor(array, requires_grad=grad, device=torch_device()),
    )


def same(out: Any, expected: Any) -> None:
    """One result (or a tuple of them) equal to PyTorch's: values, shape and dtype."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(out, (tuple, list)) and len(out) == len(expected)
        for o, e in zip(out, expected):
            same(o, e)
        return
    e = expected.detach().cpu().numpy()
    assert tuple(out.shape) == e.shape, f"shape {tuple(out.shape)} vs torch {e.shape}"
    assert out.dtype == e.dtype, f"dtype {out.dtype} vs torch {e.dtype}"
    np.testing.assert_allclose(out.numpy(), e, rtol=1e-6, atol=1e-6)


# -- integer inputs: dtypes as PyTorch ----------------------------------------------------------

INTS = RNG.integers(-4, 5, (3, 3))


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, a: lib.dot(a[0], a[1]),
        lambda lib, a: lib.inner(a, a),
        lambda lib, a: lib.outer(a[0], a[1]),
        lambda lib, a: lib.mv(a, a[0]),
        lambda lib, a: lib.addmm(a, a, a, beta=2, alpha=3),
        lambda lib, a: lib.addcmul(a, a, a, value=2),
        lambda lib, a: lib.tensordot(a, a, 1),
        lambda lib, a: lib.kron(a, a[0]),
        lambda lib, a: lib.trace(a),
        lambda lib, a: lib.cross(a, a.flip(0), dim=0),
        lambda lib, a: lib.take(a, a.abs().long()),
        lambda lib, a: lib.cartesian_prod(a[0], a[1]),
        lambda lib, a: lib.meshgrid(a[0], a[1], indexing="xy"),
        lambda lib, a: lib.hstack([a, a]),
        lambda lib, a: lib.column_stack([a[0], a]),
        lambda lib, a: lib.diag_embed(a, 1),
        lambda lib, a: lib.rot90(a, 3),
        lambda lib, a: lib.tile(a, (2,)),
    ],
)
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_inputs_keep_pytorchs_dtype(fn: Any, dtype: str) -> None:
    m, t = twin(INTS.astype(dtype))
    same(fn(mg, m), fn(torch, t))


def test_mixed_dtypes_promote_where_pytorch_does_and_refuse_where_it_refuses() -> None:
    (mi, ti), (mf, tf) = twin(INTS[0]), twin(RNG.standard_normal(3).astype(np.float32))
    same(mg.outer(mi, mf), torch.outer(ti, tf))
    same(mg.kron(mi, mf), torch.kron(ti, tf))
    same(mg.hstack([mi, mf]), torch.hstack([ti, tf]))
    for fn in (mg.dot, mg.inner, mg.tensordot):
        with pytest.raises(TypeError, match=r"int64.*float32|float32.*int64"):
            fn(mi, mf) if fn is not mg.tensordot else fn(mi, mf, 1)
    with pytest.raises(mg.DTypeError, match="integer division"):
        mg.addcdiv(mi, mi, mi)
    with pytest.raises(mg.DTypeError, match="int64"):
        mg.norm(mi)


# -- empty and 0-d ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, e, s: lib.dot(e, e),
        lambda lib, e, s: lib.outer(e, e),
        lambda lib, e, s: lib.linalg.vector_norm(e),
        lambda lib, e, s: lib.norm(e, 1),
        lambda lib, e, s: lib.kron(e, s),
        lambda lib, e, s: lib.cdist(e.reshape(0, 1), s.reshape(1, 1)),
        lambda lib, e, s: lib.tensor_split(e, 3),
        lambda lib, e, s: lib.hstack([e, e]),
        lambda lib, e, s: lib.diag_embed(e),
        lambda lib, e, s: lib.take(s, e.long()),
        lambda lib, e, s: lib.meshgrid(e, s, indexing="ij"),
        lambda lib, e, s: lib.tile(e, (2, 3)),
        lambda lib, e, s: lib.inner(s, e),
        lambda lib, e, s: lib.norm(s),
        lambda lib, e, s: lib.atleast_2d(s),
        lambda lib, e, s: lib.atleast_3d(s),
        lambda lib, e, s: lib.take(s, s.long()),
        lambda lib, e, s: lib.cumulative_trapezoid(e),
        lambda lib, e, s: lib.cartesian_prod(e, s.reshape(1)),
    ],
)
def test_empty_and_0d_tensors_as_pytorch(fn: Any) -> None:
    (me, te), (ms, ts) = twin(np.zeros(0, dtype=np.float32)), twin(np.float32(0.0))
    same(fn(mg, me, ms), fn(torch, te, ts))


def test_inf_norm_of_an_empty_tensor_is_refused_as_pytorch() -> None:
    with pytest.raises(ValueError, match=r"empty tensor of shape \(0, 2\)"):
        mg.linalg.vector_norm(mg.zeros(0, 2), float("inf"))
    same(
        mg.norm(mg.zeros(0, 2), float("inf"), dim=1), torch.norm(torch.zeros(0, 2), float("inf"), 1)
    )


def test_norm_of_half_stays_half_computed_in_float32() -> None:
    m, t = twin(np.full(4, 200.0, dtype=np.float16))
    out = mg.norm(m)
    assert out.dtype == mg.float16 and float(out) == pytest.approx(400.0, rel=1e-3)
    assert float(torch.norm(t.float())) == pytest.approx(400.0)  # float16 squares overflow


def test_norm_gradient_at_zero_is_zero_for_every_p() -> None:
    for p in (2, 1, 3, 0.5, float("inf"), 0):
        x = mg.zeros(3, dtype=mg.float64, requires_grad=True)
        tx = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        mg.norm(x, p).backward()
        torch.norm(tx, p).backward()
        expected = np.zeros(3) if tx.grad is None else tx.grad.numpy()  # p=0: None, a zero
        np.testing.assert_array_equal(x.grad.numpy(), expected, err_msg=f"p={p}")


# -- non-differentiable functions, compared with PyTorch ----------------------------------------


@pytest.mark.parametrize("shapes", [[(2, 1), (3,)], [(), (4, 1, 2)], [5, (1,)], [(0, 3), (3,)]])
def test_broadcast_shapes(shapes: list[Any]) -> None:
    assert mg.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))


@pytest.mark.parametrize("fn", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args", [(3, 3), (4, 2, 1), (2, 5, -1), (3, 4, -5), (0, 3), (3, 3, 9)])
def test_triangle_indices(fn: str, args: tuple[int, ...]) -> None:
    same(getattr(mg, fn)(*args), getattr(torch, fn)(*args, device=torch_device()))
    assert getattr(mg, fn)(3, 3, dtype=mg.int32).dtype == mg.int32


@pytest.mark.parametrize(
    "indices, shape",
    [([0, 5, -1, 7], (2, 3)), (4, (5,)), ([[1, 2], [3, 11]], (3, 2, 2)), ([], (2, 2))],
)
def test_unravel_index(indices: Any, shape: tuple[int, ...]) -> None:
    m, t = twin(np.asarray(indices, dtype=np.int64))
    same(mg.unravel_index(m, shape), torch.unravel_index(t, shape))
    same(mg.unravel_index(m.int(), shape), torch.unravel_index(t.int(), shape))


def test_function_forms_of_tensor_methods() -> None:
    m, t = twin(RNG.standard_normal((2, 3)).astype(np.float32))
    assert mg.numel(m) == torch.numel(t) == 6
    same(mg.t(m), torch.t(t))
    same(mg.clone(m), torch.clone(t))
    assert mg.clone(m).array is not m.array
    x = mg.ones(2, requires_grad=True) * 2
    d = mg.detach(x)
    assert not d.requires_grad and d.array is x.array


def test_views_share_memory_as_pytorch() -> None:
    m = mg.arange(12.0).reshape(3, 4)
    assert mg.broadcast_to(m[0], (2, 4)).stride() == (0, 1)
    assert mg.ravel(m).storage_offset() == 0 and mg.select(m, 1, 2).storage_offset() == 2
    mg.select(m, 0, 1).fill_(0.0)  # a view: the write reaches m
    assert m[1].tolist() == [0.0] * 4
    copy = mg.narrow_copy(m, 1, 1, 2)
    copy.fill_(-1.0)
    assert float(m.sum()) == 66.0 - 22.0  # narrow_copy owns its memory


# -- bad inputs: errors naming the shapes -------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: mg.dot(mg.ones(3), mg.ones(4)), mg.ShapeError, r"\(3,\).*\(4,\)"),
        (lambda: mg.dot(mg.ones(2, 2), mg.ones(2)), mg.ShapeError, r"\(2, 2\)"),
        (lambda: mg.mv(mg.ones(2, 3), mg.ones(2)), mg.ShapeError, r"\(2, 3\).*\(2,\)"),
        (lambda: mg.outer(mg.ones(2, 1), mg.ones(2)), mg.ShapeError, r"\(2, 1\)"),
        (lambda: mg.addmm(mg.ones(3), mg.ones(2, 2), mg.ones(2, 2)), mg.ShapeError, r"\(3,\)"),
        (lambda: mg.addmm(mg.ones(4, 2), mg.ones(2, 2), mg.ones(2, 2)), mg.ShapeError, r"\(4, 2\)"),
        (lambda: mg.baddbmm(mg.ones(1), mg.ones(2, 2, 2), mg.ones(3, 2, 2)), mg.ShapeError, "3"),
        (lambda: mg.addcmul(mg.ones(2), mg.ones(3), mg.ones(2)), mg.ShapeError, r"\(3,\)"),
        (lambda: mg.tensordot(mg.ones(2, 3), mg.ones(2, 3), 1), Exception, r"\(2, 3\)"),
        (
            lambda: mg.tensordot(mg.ones(2, 3), mg.ones(4, 3), ([0], [0])),
            mg.ShapeError,
            r"\(2, 3\).*\(4, 3\)",
        ),
        (lambda: mg.tensordot(mg.ones(2), mg.ones(2), 3), ValueError, r"\(2,\)"),
        (lambda: mg.trace(mg.ones(2, 2, 2)), mg.ShapeError, r"\(2, 2, 2\)"),
        (lambda: mg.cross(mg.ones(2, 4), mg.ones(2, 4)), mg.ShapeError, r"\(2, 4\)"),
        (lambda: mg.cross(mg.ones(3, 4), mg.ones(3, 4), dim=1), mg.ShapeError, r"\(3, 4\)"),
        (lambda: mg.cdist(mg.ones(2, 3), mg.ones(2, 4)), mg.ShapeError, r"\(2, 3\).*\(2, 4\)"),
        (lambda: mg.cdist(mg.ones(3), mg.ones(2, 3)), mg.ShapeError, r"\(3,\)"),
        (lambda: mg.norm(mg.ones(2, 2, 2), "nuc"), ValueError, r"2-tuple.*\(2, 2, 2\)"),
        (lambda: mg.norm(mg.ones(2, 2, 2), dim=(0, 1, 2)), ValueError, "2-tuple"),
        (lambda: mg.hsplit(mg.ones(2, 5), 2), ValueError, r"5.*2"),
        (lambda: mg.vsplit(mg.ones(4), 2), mg.ShapeError, r"\(4,\)"),
        (lambda: mg.dsplit(mg.ones(2, 2), 2), mg.ShapeError, r"\(2, 2\)"),
        (lambda: mg.tensor_split(mg.tensor(1.0), 2), mg.ShapeError, "0-d"),
        (lambda: mg.tensor_split(mg.ones(4), 0), ValueError, "0"),
        (lambda: mg.fliplr(mg.ones(3)), mg.ShapeError, r"\(3,\)"),
        (lambda: mg.flipud(mg.tensor(1.0)), mg.ShapeError, "0-d"),
        (lambda: mg.rot90(mg.ones(2, 2), 1, (1, -1)), ValueError, "differ"),
        (lambda: mg.rot90(mg.ones(2), 1), mg.ShapeError, r"\(2,\)"),
        (lambda: mg.select(mg.ones(2, 3), 1, 3), IndexError, r"\(2, 3\)"),
        (lambda: mg.select(mg.tensor(1.0), 0, 0), IndexError, "0-dim"),
        (lambda: mg.take(mg.ones(2, 3), mg.tensor([6])), IndexError, r"\(2, 3\)"),
        (lambda: mg.take(mg.ones(2, 3), mg.tensor([-7])), IndexError, r"\(2, 3\)"),
        (lambda: mg.take(mg.ones(2), mg.tensor([0.0])), TypeError, "integer"),
        (lambda: mg.meshgrid(mg.ones(2, 2), mg.ones(2)), mg.ShapeError, r"\(2, 2\)"),
        (lambda: mg.meshgrid(mg.ones(2), indexing="ji"), ValueError, "ji"),
        (lambda: mg.diag_embed(mg.ones(2), 0, 0, -2), ValueError, "identical"),
        (lambda: mg.broadcast_shapes((2, 3), (4, 3)), mg.ShapeError, r"\(2, 3\).*\(4, 3\)"),
        (lambda: mg.broadcast_to(mg.ones(3), (2, 4)), mg.ShapeError, r"\(3,\)"),
        (lambda: mg.broadcast_tensors(mg.ones(3), mg.ones(4)), mg.ShapeError, r"\(3,\).*\(4,\)"),
        (lambda: mg.unravel_index(mg.tensor([1.0]), (2,)), TypeError, "integer"),
        (lambda: mg.unravel_index(mg.tensor([1]), (0, 2)), ValueError, r"\(0, 2\)"),
        (lambda: mg.tril_indices(-1, 2), ValueError, "-1"),
        (lambda: mg.hstack([]), ValueError, "non-empty"),
        (lambda: mg.cumulative_trapezoid(mg.ones(3), mg.ones(4)), mg.ShapeError, r"\(4,\)"),
    ],
)
def test_bad_inputs_raise_naming_the_shapes(call: Any, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        call()


# -- factories ------------------------------------------------------------------------------------


def test_like_factories_take_shape_dtype_and_device() -> None:
    x = mg.zeros(2, 3, dtype=mg.float64)
    for fn in (mg.empty_like, mg.rand_like, mg.randn_like):
        out = fn(x)
        assert out.shape == (2, 3) and out.dtype == mg.float64 and out.device == x.device
        assert fn(x, dtype=mg.float32).dtype == mg.float32
        assert fn(x, requires_grad=True).requires_grad
    u = mg.rand_like(mg.zeros(1000)).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.05
    n = mg.randn_like(mg.zeros(4000)).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    r = mg.randint_like(x, 3, 7)
    assert r.dtype == mg.float64 and set(np.unique(r.numpy())) <= {3.0, 4.0, 5.0, 6.0}
    assert mg.randint_like(mg.zeros(5, dtype=mg.int32), 2).dtype == mg.int32
    with pytest.raises(TypeError, match="float32 or float64"):
        mg.rand_like(mg.zeros(2, dtype=mg.int64))
    half = mg.zeros(3, dtype=mg.float16)
    assert mg.rand_like(half).dtype == mg.randn_like(half).dtype == mg.float16
    assert mg.normal(half, 1.0).dtype == mg.float16


def test_randperm_is_a_seeded_permutation() -> None:
    mg.manual_seed(3)
    p = mg.randperm(20)
    assert p.dtype == mg.int64 and sorted(p.tolist()) == list(range(20))
    mg.manual_seed(3)
    assert mg.randperm(20).tolist() == p.tolist()
    assert mg.randperm(0).shape == (0,) and mg.randperm(4, dtype=mg.int32).dtype == mg.int32
    with pytest.raises(ValueError, match="-1"):
        mg.randperm(-1)


def test_normal_forms_shapes_and_zero_gradient_as_pytorch() -> None:
    mean = mg.zeros(3, 1, dtype=mg.float64, requires_grad=True)
    std = mg.full((4,), 2.0, dtype=mg.float64, requires_grad=True)
    out = mg.normal(mean, std)
    assert out.shape == (3, 4) and out.dtype == mg.float64 and out.requires_grad
    out.sum().backward()
    assert mean.grad.tolist() == [[0.0]] * 3 and std.grad.tolist() == [0.0] * 4
    assert mg.normal(mean.detach(), 0.5).shape == (3, 1)
    assert mg.normal(1.0, std.detach()).shape == (4,)
    big = mg.normal(5.0, 0.5, (4000,)).numpy()
    assert big.dtype == np.float32 and abs(big.mean() - 5) < 0.05 and abs(big.std() - 0.5) < 0.05
    with pytest.raises(ValueError, match=">= 0"):
        mg.normal(mean, -1.0)
    with pytest.raises(TypeError, match="size"):
        mg.normal(0.0, 1.0)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((0, 2, 5), {}),
        ((-1, 1, 4), {"base": 2.0}),
        ((0, 3, 4), {"dtype": "int64"}),
        ((1, 1, 0), {}),
    ],
)
def test_logspace(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    tkw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    mkw = {k: getattr(mg, v) if k == "dtype" else v for k, v in kwargs.items()}
    same(mg.logspace(*args, **mkw), torch.logspace(*args, **tkw, device=torch_device()))


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize("args", [(0, 1, 0.25), (4,), (1, 4), (3, 0, -1), (0, 1, 0.3), (2, 2)])
def test_range_includes_the_end(args: tuple[Any, ...]) -> None:
    if len(args) == 1:  # torch.range needs start and end
        args = (0, *args)
    same(mg.range(*args), torch.range(*args, device=torch_device()))
    with pytest.raises(ValueError, match="nonzero"):
        mg.range(0, 1, 0)
    with pytest.raises(ValueError, match="step sign"):
        mg.range(2, 1)


# -- Tensor methods -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool", "uint8"])
def test_new_factories_take_this_tensors_dtype_and_device(dtype: str) -> None:
    m, t = twin(np.ones((2, 2), dtype=dtype))
    same(m.new_zeros(2, 3), t.new_zeros(2, 3))
    same(m.new_ones((3,)), t.new_ones((3,)))
    same(m.new_full((2, 1), 1), t.new_full((2, 1), 1))
    same(m.new_tensor([[0, 1]]), t.new_tensor([[0, 1]]))
    assert m.new_empty(4, 1).shape == (4, 1) and m.new_empty(4).dtype == m.dtype
    assert m.new_zeros(2, dtype=mg.float32).dtype == mg.float32
    assert m.new_ones(2, requires_grad=True, dtype=mg.float64).requires_grad


def test_new_tensor_copies_and_is_no_part_of_a_graph() -> None:
    x = mg.ones(3, requires_grad=True)
    y = x.new_tensor(x * 2)
    assert not y.requires_grad and y.grad_fn is None and y.tolist() == [2.0] * 3
    data = np.arange(3.0, dtype=np.float32)
    z = x.new_tensor(data)
    data[0] = 9
    assert z.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(Exception, match="300"):
        mg.zeros(2, dtype=mg.uint8).new_full((2,), 300)


def test_reshape_as_and_select_methods() -> None:
    m, t = twin(RNG.standard_normal((2, 6)))
    same(m.reshape_as(mg.zeros(3, 4)), t.reshape_as(torch.zeros(3, 4)))
    same(m.select(-1, 2), t.select(-1, 2))


@pytest.mark.parametrize(
    "view",
    [
        lambda x: x,
        lambda x: x.t() if x.ndim == 2 else x.transpose(0, 2),
        lambda x: x[1:, ::2],
        lambda x: x[..., 1],
        lambda x: x.narrow(0, 1, 1),
        lambda x: x[:1].expand(4, *x.shape[1:]),
        lambda x: x.unsqueeze(1),
        lambda x: x.select(1, 2),
    ],
)
@pytest.mark.parametrize("shape, dtype", [((3, 4), "float32"), ((2, 3, 5), "int16")])
def test_stride_and_storage_offset_count_elements_as_pytorch(view, shape, dtype) -> None:
    m, t = twin(np.arange(math.prod(shape)).reshape(shape).astype(dtype))
    mv, tv = view(m), view(t)
    assert mv.stride() == tv.stride()
    assert mv.stride(-1) == tv.stride(-1)
    assert mv.storage_offset() == tv.storage_offset()
    assert mv.element_size() == tv.element_size() and mv.itemsize == tv.itemsize
    assert mv.nbytes == tv.nbytes


def test_addcmul_and_addcdiv_in_place_as_pytorch() -> None:
    a, b, c = (RNG.standard_normal((2, 3)) for _ in range(3))
    (ma, ta), (mb, tb), (mc, tc) = twin(a), twin(b), twin(c)
    same(ma.addcmul_(mb, mc, value=0.5), ta.addcmul_(tb, tc, value=0.5))
    same(ma.addcdiv_(mb, mc, value=-2), ta.addcdiv_(tb, tc, value=-2))
    assert ma._version == 2


# -- random fills in place ------------------------------------------------------------------------


def test_random_fills_draw_in_range_and_bump_the_version() -> None:
    x = mg.zeros(4000, dtype=mg.float64)
    v = x._version
    u = x.uniform_(2.0, 3.0).numpy().copy()
    assert 2 <= u.min() and u.max() < 3 and abs(u.mean() - 2.5) < 0.03
    n = x.normal_(1.0, 2.0).numpy().copy()
    assert abs(n.mean() - 1) < 0.1 and abs(n.std() - 2) < 0.1
    e = x.exponential_(4.0).numpy().copy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.02
    b = x.bernoulli_(0.25).numpy().copy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.25) < 0.03
    r = x.random_(3, 7).numpy().copy()
    assert set(np.unique(r)) == {3.0, 4.0, 5.0, 6.0}
    assert set(np.unique(x.random_(2).numpy())) == {0.0, 1.0}
    assert x._version == v + 6


def test_random_fills_per_dtype() -> None:
    assert 0 <= mg.zeros(100, dtype=mg.uint8).random_().numpy().min()
    assert set(np.unique(mg.zeros(100, dtype=mg.bool).random_().numpy())) == {False, True}
    halves = mg.zeros(1000, dtype=mg.float16).random_().numpy()
    assert halves.max() <= 2048 and np.all(halves == np.round(halves))
    assert mg.zeros(3, dtype=mg.float16).uniform_().dtype == mg.float16
    ints = mg.zeros(2, 3, dtype=mg.int32).bernoulli_(mg.tensor([0.0, 1.0, 1.0]))
    assert ints.dtype == mg.int32 and ints.tolist() == [[0, 1, 1]] * 2


def test_random_fills_are_seeded() -> None:
    mg.manual_seed(5)
    a = mg.zeros(5).normal_().tolist()
    mg.manual_seed(5)
    assert mg.zeros(5).normal_().tolist() == a


def test_random_fills_refuse_bad_arguments_before_changing_anything() -> None:
    x = mg.ones(3)
    for call, error, pattern in [
        (lambda: x.normal_(0, -1.0), ValueError, "std"),
        (lambda: x.uniform_(2.0, 1.0), ValueError, "from"),
        (lambda: x.exponential_(0.0), ValueError, "lambd"),
        (lambda: x.bernoulli_(1.5), ValueError, "1.5"),
        (lambda: x.bernoulli_(mg.ones(2)), mg.ShapeError, r"\(2,\).*\(3,\)"),
        (lambda: x.random_(5, 5), ValueError, "from < to"),
        (lambda: mg.zeros(2, dtype=mg.int64).uniform_(), TypeError, "int64"),
    ]:
        with pytest.raises(error, match=pattern):
            call()
    assert x.tolist() == [1.0, 1.0, 1.0] and x._version == 0


def test_random_fills_follow_the_in_place_rules() -> None:
    leaf = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.uniform_()
    with mg.no_grad():
        leaf.uniform_()  # nn.init's way
    assert leaf.requires_grad and float(leaf.min()) >= 0
    w = mg.ones(3, requires_grad=True)
    y = w * 2
    y.normal_()
    (y * 3).sum().backward()  # the overwritten values get no gradient, as after fill_
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    base = mg.zeros(2, 3)
    base[0].fill_(1.0)
    base[1].bernoulli_(1.0)  # a view's fill reaches its base
    assert base.tolist() == [[1.0] * 3] * 2


def test_beta_zero_does_not_read_the_input_as_pytorch() -> None:
    nan = np.full((2, 2), np.nan)
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    (mn, tn), (ma, ta), (mb, tb) = twin(nan, grad=True), twin(a), twin(b)
    out, expected = mg.addmm(mn, ma, mb, beta=0), torch.addmm(tn, ta, tb, beta=0)
    same(out, expected)
    out.sum().backward()
    expected.sum().backward()
    same(mn.grad, tn.grad)  # zeros: the input is in the graph with a zero gradient


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
def test_cross_without_dim_takes_the_first_dim_of_size_3_as_torch_cross() -> None:
    (ma, ta), (mb, tb) = twin(RNG.standard_normal((3, 3, 2))), twin(RNG.standard_normal((3, 3, 2)))
    same(mg.cross(ma, mb), torch.cross(ta, tb))
    same(mg.linalg.cross(ma, mb, dim=1), torch.linalg.cross(ta, tb, dim=1))


# =============================================================================================
# matrix norms, decompositions and the functions on them (minigrad/ops/decompositions.py,
# linalg.matrix_norm / norm / cond / matrix_rank / matrix_power / multi_dot / vecdot), and
# multinomial's generator. Values and gradients against PyTorch in float32 and float64;
# float64 gradcheck and gradgradcheck on matrices with well-separated singular values.
# =============================================================================================

INF = float("inf")
MATRIX_ORDS = ["fro", "nuc", 2, -2, 1, -1, INF, -INF]


def conditioned(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """U diag(s) V^T with singular values spread over [0.7, 3] (well separated)."""
    rng = np.random.default_rng(seed)
    *batch, m, n = shape
    k = min(m, n)
    u = np.linalg.qr(rng.standard_normal((*batch, m, k)))[0]
    v = np.linalg.qr(rng.standard_normal((*batch, n, k)))[0]
    s = np.linspace(3.0, 0.7, k) * rng.uniform(0.95, 1.05, (*batch, k))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def spd(n: int, seed: int = 0, batch: tuple[int, ...] = ()) -> np.ndarray:
    """A symmetric positive-definite matrix with well-separated eigenvalues."""
    a = conditioned((*batch, n, n), seed)
    return a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(n)


def values_and_grads(
    fn_mg: Any, fn_torch: Any, arrays: list[np.ndarray], dtype: Any, create_graph: bool = False
) -> None:
    """fn's outputs and its gradients (under random output weights) equal PyTorch's, in
    ``dtype`` (float32: to 1e-4 relative; float64: 1e-9); ``create_graph`` takes the gradient
    through the ops' ``backward_graph`` instead of their array ``backward``."""
    tol = {"rtol": 2e-4, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-11}
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True, device=torch_device()) for a in arrays]
    out, expected = fn_mg(*ours), fn_torch(*theirs)
    assert tuple(out.shape) == tuple(expected.shape) and out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), expected.detach().cpu().numpy(), **tol)
    weights = np.random.default_rng(3).standard_normal(tuple(out.shape)).astype(dtype)
    grads = mg.grad(out, ours, mg.tensor(weights), create_graph=create_graph)
    expected_grads = torch.autograd.grad(expected, theirs, torch.tensor(weights).to(torch_device()))
    for g, e in zip(grads, expected_grads):
        assert g.dtype == dtype
        np.testing.assert_allclose(g.numpy(), e.cpu().numpy(), **tol)


MATRIX_SHAPES = [  # (shape, dim)
    ((3, 3), (-2, -1)),
    ((4, 3), (-2, -1)),
    ((3, 5), (-1, -2)),
    ((2, 4, 3), (-2, -1)),
    ((2, 4, 3), (0, 2)),
    ((3, 2, 1, 4), (-1, 0)),
]


@pytest.mark.parametrize("ord_", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("shape, dim", MATRIX_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_matrix_norm_values_and_gradients_match_torch(ord_, shape, dim, dtype) -> None:
    a = conditioned(shape) if dim == (-2, -1) else RNG.standard_normal(shape)
    for keepdim in (False, True):
        values_and_grads(
            lambda x, k=keepdim: mg.linalg.matrix_norm(x, ord_, dim, k),
            lambda x, k=keepdim: torch.linalg.matrix_norm(x, ord_, dim, k),
            [a],
            dtype,
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, a: lib.linalg.norm(a),  # every element, 2-norm
        lambda lib, a: lib.linalg.norm(a[0], "nuc"),
        lambda lib, a: lib.linalg.norm(a[0], 2),  # ord on a 2-D input: the matrix 2-norm
        lambda lib, a: lib.linalg.norm(a[0, 0], 3),  # ord on a 1-D input: a vector norm
        lambda lib, a: lib.linalg.norm(a, -1, dim=(2, 0), keepdim=True),
        lambda lib, a: lib.linalg.norm(a, INF, dim=1),
        lambda lib, a: lib.linalg.norm(a, "fro", dim=(0, -1)),
        lambda lib, a: lib.linalg.norm(a, dtype=lib.float64),
        lambda lib, a: lib.norm(a),  # torch.norm: "fro" over every dim, a vector 2-norm
        lambda lib, a: lib.norm(a, "nuc", dim=(0, 2)),
        lambda lib, a: lib.norm(a[0], "nuc"),
        lambda lib, a: lib.norm(a, 2, dim=(1, 2)),  # a number: the vector norm, over two dims
        lambda lib, a: lib.norm(a, "fro", dim=(1, 2), keepdim=True),
        lambda lib, a: a.norm("nuc", dim=(-1, -2)),
        lambda lib, a: lib.linalg.matrix_norm(a, "nuc", dtype=lib.float64),
    ],
)
def test_norm_dispatches_to_matrix_norms_as_torch(call) -> None:
    (ma, ta) = twin(conditioned((2, 4, 3)).astype(np.float32), grad=True)
    out, expected = call(mg, ma), call(torch, ta)
    assert tuple(out.shape) == tuple(expected.shape) and str(out.dtype) in str(expected.dtype)
    np.testing.assert_allclose(out.numpy(), expected.detach().cpu().numpy(), rtol=1e-5)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.cpu().numpy(), rtol=1e-4, atol=1e-6)


def sym(fn: Any) -> Any:
    """fn of the symmetric part: eigh and cholesky read one triangle, so finite differences
    need the input symmetrised (as PyTorch's own gradchecks do)."""
    return lambda a: fn((a + a.swapaxes(-1, -2)) * 0.5)


def u1v1(result: Any) -> Any:
    """The outer product of the first singular vectors, u_1 v_1^T (free of their signs)."""
    return result[0][..., :, :1] * result[2][..., :1, :]


# (name, minigrad fn, torch fn, inputs); the inputs are float64 arrays
DECOMPOSITION_CASES = [
    ("svdvals", mg.linalg.svdvals, torch.linalg.svdvals, [conditioned((2, 4, 3))]),
    (
        "svd-u1v1-tall",
        lambda a: u1v1(mg.linalg.svd(a, full_matrices=False)),
        lambda a: u1v1(torch.linalg.svd(a, full_matrices=False)),
        [conditioned((2, 4, 3), 1)],
    ),
    (
        "svd-polar-wide",  # U Vh and S: every factor's gradient, the m < n projection
        lambda a: (lambda r: r.U @ r.Vh * r.S.sum())(mg.linalg.svd(a, full_matrices=False)),
        lambda a: (lambda r: r.U @ r.Vh * r.S.sum())(torch.linalg.svd(a, full_matrices=False)),
        [conditioned((3, 5), 2)],
    ),
    (
        "svd-square-full",
        lambda a: (lambda r: r.U * r.Vh.swapaxes(-1, -2) + r.S)(mg.linalg.svd(a)),
        lambda a: (lambda r: r.U * r.Vh.mT + r.S)(torch.linalg.svd(a)),
        [conditioned((3, 3), 3)],
    ),
    (
        "eigh",
        sym(
            lambda a: (lambda r: r.eigenvectors**2 * r.eigenvalues.unsqueeze(-2))(mg.linalg.eigh(a))
        ),
        sym(
            lambda a: (lambda r: r.eigenvectors**2 * r.eigenvalues.unsqueeze(-2))(
                torch.linalg.eigh(a)
            )
        ),
        [spd(3, 4, (2,))],
    ),
    ("eigvalsh", sym(mg.linalg.eigvalsh), sym(torch.linalg.eigvalsh), [spd(4, 5)]),
    ("det", mg.linalg.det, torch.linalg.det, [conditioned((2, 3, 3), 6)]),
    (
        "slogdet",
        lambda a: mg.linalg.slogdet(a).logabsdet,
        lambda a: torch.linalg.slogdet(a).logabsdet,
        [conditioned((3, 3), 7)],
    ),
    ("inv", mg.linalg.inv, torch.linalg.inv, [conditioned((2, 3, 3), 8)]),
    ("solve", mg.linalg.solve, torch.linalg.solve, [conditioned((2, 3, 3), 9), RNG.random((3, 2))]),
    (
        "solve-vectors",
        mg.linalg.solve,
        torch.linalg.solve,
        [conditioned((2, 3, 3), 20), RNG.random((2, 3))],
    ),
    (
        "solve-left-false-broadcast",
        lambda a, b: mg.linalg.solve(a, b, left=False),
        lambda a, b: torch.linalg.solve(a, b, left=False),
        [conditioned((2, 1, 3, 3), 10), RNG.random((3, 4, 3))],
    ),
    ("pinv-tall", mg.linalg.pinv, torch.linalg.pinv, [conditioned((2, 4, 3), 11)]),
    ("pinv-wide", mg.linalg.pinv, torch.linalg.pinv, [conditioned((2, 5), 12)]),
    ("cholesky", sym(mg.linalg.cholesky), sym(torch.linalg.cholesky), [spd(3, 13, (2,))]),
    (
        "cholesky-upper",
        sym(lambda a: mg.linalg.cholesky(a, upper=True)),
        sym(lambda a: torch.linalg.cholesky(a, upper=True)),
        [spd(3, 14)],
    ),
    ("cond", mg.linalg.cond, torch.linalg.cond, [conditioned((2, 4, 3), 15)]),
    (
        "cond-2",
        lambda a: mg.linalg.cond(a, -2),
        lambda a: torch.linalg.cond(a, -2),
        [conditioned((3, 3), 16)],
    ),
    (
        "matrix_power-5",
        lambda a: mg.linalg.matrix_power(a, 5),
        lambda a: torch.linalg.matrix_power(a, 5),
        [conditioned((2, 3, 3), 17) * 0.6],
    ),
    (
        "matrix_power-neg",
        lambda a: mg.linalg.matrix_power(a, -3),
        lambda a: torch.linalg.matrix_power(a, -3),
        [conditioned((3, 3), 18)],
    ),
    (
        "multi_dot",
        lambda *m: mg.linalg.multi_dot(m),
        lambda *m: torch.linalg.multi_dot(m),
        [RNG.random(4), RNG.random((4, 6)), RNG.random((6, 2)), RNG.random((2, 5))],
    ),
    (
        "vecdot",
        lambda x, y: mg.linalg.vecdot(x, y, dim=0),
        lambda x, y: torch.linalg.vecdot(x, y, dim=0),
        [RNG.random((3, 4)), RNG.random((3, 1))],
    ),
    ("logdet", mg.logdet, torch.logdet, [spd(3, 19)]),
    *[
        (
            f"qr-{name}-{shape}",  # Q and R made unique: R's diagonal positive
            lambda a, w=which: qr_positive(mg.linalg.qr(a))[w],
            lambda a, w=which: qr_positive(torch.linalg.qr(a))[w],
            [conditioned(shape, 26)],
        )
        for shape in [(2, 4, 3), (3, 3), (2, 3, 5)]
        for which, name in enumerate("QR")
    ],
    *[
        (
            f"solve_triangular-{upper}-{left}-{unit}",
            lambda a, b, u=upper, le=left, un=unit: mg.linalg.solve_triangular(
                a, b, upper=u, left=le, unitriangular=un
            ),
            lambda a, b, u=upper, le=left, un=unit: torch.linalg.solve_triangular(
                a, b, upper=u, left=le, unitriangular=un
            ),
            [RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3), RNG.standard_normal((3, 3))],
        )
        for upper in (True, False)
        for left in (True, False)
        for unit in (False, True)
    ],
    *[
        (
            f"matrix_exp-{scale}",  # no squaring, a few, many
            mg.linalg.matrix_exp,
            torch.linalg.matrix_exp,
            [RNG.standard_normal((2, 3, 3)) * scale],
        )
        for scale in (0.1, 2.0, 8.0)
    ],
]


def qr_positive(result: Any) -> tuple[Any, Any]:
    """Q and R with R's diagonal made positive (the QR is unique then)."""
    q, r = result
    signs = r.diagonal(dim1=-2, dim2=-1).sign()  # (..., k)
    return q * signs.unsqueeze(-2), r * signs.unsqueeze(-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name, fn, torch_fn, arrays", DECOMPOSITION_CASES, ids=lambda c: "")
def test_decompositions_match_torch(name, fn, torch_fn, arrays, dtype) -> None:
    values_and_grads(fn, torch_fn, arrays, dtype)
    if dtype == np.float64:  # the create_graph gradient (backward_graph) is PyTorch's too
        values_and_grads(fn, torch_fn, arrays, dtype, create_graph=True)


GRADCHECKED = (
    [c for c in DECOMPOSITION_CASES if c[0] != "vecdot"]
    + [
        (
            f"matrix_norm-{o}",
            lambda a, o=o: mg.linalg.matrix_norm(a, o),
            None,
            [conditioned((2, 4, 3))],
        )
        for o in MATRIX_ORDS
    ]
    + [
        (
            "matrix_norm-nuc-dims",
            lambda a: mg.linalg.matrix_norm(a, "nuc", (2, 0)),
            None,
            [conditioned((3, 2, 4)).transpose(2, 1, 0).copy()],
        ),
    ]
)


@pytest.mark.parametrize("name, fn, torch_fn, arrays", GRADCHECKED, ids=lambda c: "")
def test_gradcheck_and_gradgradcheck_in_float64(name, fn, torch_fn, arrays) -> None:
    inputs = [mg.tensor(a, requires_grad=True) for a in arrays]
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


DEGENERATE = {
    "zero": np.zeros((3, 3)),
    "zero-batch": np.zeros((2, 4, 3)),
    "identity": np.eye(3),  # every singular value repeated: 2 and -2 split between them
    "repeated-tall": 2 * np.eye(4)[:, :2],
    "tied-columns-and-rows": np.array([[1.0, -2.0, 0.5], [2.0, 1.0, -1.0], [0.0, 0.0, 2.0]]),
}


@pytest.mark.parametrize("ord_", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_matrix_norm_gradients_at_degenerate_matrices_follow_torch(ord_, name) -> None:
    """Zero matrices, repeated singular values and tied columns/rows: the gradient PyTorch
    gives (0 for "fro" at 0; U Vh for "nuc"; for 2/-2 and 1/inf the gradient split evenly
    between the tied singular values, columns or rows)."""
    (ma, ta) = twin(DEGENERATE[name], grad=True)
    out, expected = mg.linalg.matrix_norm(ma, ord_), torch.linalg.matrix_norm(ta, ord_)
    same(out, expected)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.cpu().numpy(), atol=1e-12)


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix_as_torch() -> None:
    a = conditioned((3, 3), 21)
    a[:, 2] = a[:, 0] + a[:, 1]  # rank 2: det 0, a nonzero cofactor matrix
    (ma, ta) = twin(a, grad=True)
    out, expected = mg.linalg.det(ma), torch.linalg.det(ta)
    np.testing.assert_allclose(out.numpy(), expected.detach().cpu().numpy(), atol=1e-12)
    out.backward()
    expected.backward()
    assert np.abs(ma.grad.numpy()).max() > 0.1
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.cpu().numpy(), atol=1e-10)


def test_slogdet_sign_and_logdet_nan_as_torch() -> None:
    a = conditioned((2, 3, 3), 22)
    a[0] = -a[0]  # det of one matrix flips sign (n = 3)
    (ma, ta) = twin(a)
    sign, logabsdet = mg.linalg.slogdet(ma)
    expected = torch.linalg.slogdet(ta)
    same(sign, expected.sign)
    same(logabsdet, expected.logabsdet)
    np.testing.assert_allclose(mg.logdet(ma).numpy(), torch.logdet(ta).numpy(), equal_nan=True)
    assert mg.slogdet(ma).sign is not None and mg.det(ma).shape == (2,)


@pytest.mark.parametrize(
    "kwargs", [{}, {"atol": 0.9}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 0.3}, {"hermitian": True}]
)
def test_matrix_rank_matches_torch(kwargs) -> None:
    a = conditioned((2, 4, 4), 23)
    low = conditioned((4, 2), 24) @ conditioned((2, 4), 25)  # rank 2
    a = np.concatenate([a, low[None], np.zeros((1, 4, 4))])
    a = (a + np.swapaxes(a, -1, -2)) / 2 if kwargs.get("hermitian") else a
    (ma, ta) = twin(a)
    same(mg.linalg.matrix_rank(ma, **kwargs), torch.linalg.matrix_rank(ta, **kwargs))


def test_svd_full_matrices_and_reconstruction() -> None:
    """Full U and Vh of a non-square matrix reconstruct A and are orthogonal; the singular
    values equal PyTorch's (tests/test_review11_linalg.py checks their gradients)."""
    a = RNG.standard_normal((2, 4, 3))
    u, s, vh = mg.linalg.svd(mg.tensor(a))
    assert u.shape == (2, 4, 4) and s.shape == (2, 3) and vh.shape == (2, 3, 3)
    np.testing.assert_allclose(s.numpy(), torch.linalg.svdvals(torch.tensor(a)).numpy())
    np.testing.assert_allclose((u.numpy()[..., :3] * s.numpy()[:, None]) @ vh.numpy(), a)
    np.testing.assert_allclose(
        np.swapaxes(u.numpy(), -1, -2) @ u.numpy(), np.eye(4)[None].repeat(2, 0), atol=1e-12
    )


def test_float16_takes_the_entrywise_norms_and_refuses_the_svd_ones() -> None:
    a = RNG.standard_normal((3, 4)).astype(np.float16)
    (ma, ta) = twin(a)
    for ord_ in ("fro", 1, INF):
        out, expected = mg.linalg.matrix_norm(ma, ord_), torch.linalg.matrix_norm(ta, ord_)
        assert out.dtype == mg.float16
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-3)
    with pytest.raises(mg.DTypeError, match=r"float16.*\(3, 4\)"):
        mg.linalg.matrix_norm(ma, "nuc")


def _ones(*shape: int, dtype: Any = None, grad: bool = False) -> mg.Tensor:
    return mg.ones(*shape, dtype=dtype or mg.float64, requires_grad=grad)


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (
            lambda: mg.linalg.matrix_norm(mg.ones(3, 3, dtype=mg.int64)),
            mg.DTypeError,
            r"int64.*\(3, 3\)",
        ),
        (lambda: mg.linalg.matrix_norm(_ones(3)), mg.ShapeError, r"at least 2.*\(3,\)"),
        (lambda: mg.linalg.matrix_norm(_ones(3, 3), 3), ValueError, "order 3"),
        (lambda: mg.linalg.matrix_norm(_ones(3, 3), "abc"), ValueError, "order 'abc'"),
        (
            lambda: mg.linalg.matrix_norm(_ones(3, 3), 2, dim=(0, -2)),
            ValueError,
            r"different.*\(0, -2\)",
        ),
        (lambda: mg.linalg.matrix_norm(_ones(3, 3), dim=(0,)), ValueError, r"2-tuple.*\(3, 3\)"),
        (lambda: mg.linalg.matrix_norm(_ones(3, 3), dim=0), ValueError, "2-tuple"),
        (lambda: mg.linalg.matrix_norm(_ones(2, 3, 3), dim=(0, 3)), IndexError, r"\(2, 3, 3\)"),
        (lambda: mg.linalg.matrix_norm(_ones(3, 3), dtype=mg.float32), mg.DTypeError, "narrowing"),
        (lambda: mg.linalg.norm(_ones(2, 3, 3), 2), mg.ShapeError, r"1-D or 2-D.*\(2, 3, 3\)"),
        (lambda: mg.linalg.norm(_ones(2, 3, 3), dim=(0, 1, 2)), ValueError, r"length 1 or 2"),
        (lambda: mg.linalg.norm(_ones(3), "fro"), mg.ShapeError, r"\(3,\)"),
        (lambda: mg.norm(_ones(2, 3, 4), "nuc"), ValueError, r"2-tuple.*\(2, 3, 4\)"),
        (lambda: mg.linalg.svd(mg.ones(2, 3, dtype=mg.int32)), mg.DTypeError, r"int32.*\(2, 3\)"),
        (lambda: mg.linalg.svdvals(_ones(4)), mg.ShapeError, r"\(4,\)"),
        (lambda: mg.linalg.inv(_ones(2, 3)), mg.ShapeError, r"square.*\(2, 3\)"),
        (lambda: mg.linalg.inv(_ones(3, 3)), mg.LinAlgError, r"inv.*\(3, 3\)"),
        (lambda: mg.linalg.det(_ones(2, 4, 3)), mg.ShapeError, r"\(2, 4, 3\)"),
        (lambda: mg.linalg.solve(_ones(3, 3), _ones(4, 2)), mg.ShapeError, r"\(3, 3\).*\(4, 2\)"),
        (lambda: mg.linalg.solve(_ones(3, 3), _ones(3), left=False), mg.ShapeError, r"\(3,\)"),
        (lambda: mg.linalg.solve(_ones(2, 3, 3), _ones(4, 3, 1)), mg.ShapeError, r"\(2,\).*\(4,\)"),
        (
            lambda: mg.linalg.solve(_ones(3, 3), _ones(3, dtype=mg.float32)),
            mg.DTypeError,
            "float32",
        ),
        (lambda: mg.linalg.cholesky(-_ones(2, 2)), mg.LinAlgError, r"cholesky.*\(2, 2\)"),
        (lambda: mg.linalg.eigh(_ones(2, 3)), mg.ShapeError, r"\(2, 3\)"),
        (lambda: mg.linalg.eigh(_ones(2, 2), UPLO="X"), ValueError, "UPLO"),
        (lambda: mg.linalg.matrix_power(_ones(2, 3), 2), mg.ShapeError, r"\(2, 3\)"),
        (lambda: mg.linalg.matrix_power(_ones(2, 2), 1.5), TypeError, "1.5"),
        (lambda: mg.linalg.multi_dot([_ones(2, 3)]), ValueError, "at least 2"),
        (
            lambda: mg.linalg.multi_dot([_ones(2, 3), _ones(4, 2)]),
            mg.ShapeError,
            r"\(2, 3\).*\(4, 2\)",
        ),
        (
            lambda: mg.linalg.multi_dot([_ones(2, 3), _ones(3), _ones(3, 2)]),
            mg.ShapeError,
            r"tensors\[1\]",
        ),
        (lambda: mg.linalg.vecdot(_ones(3), _ones(4)), mg.ShapeError, r"\(3,\).*\(4,\)"),
        (lambda: mg.linalg.pinv(_ones(3, 3), atol="x"), TypeError, "atol"),
        (lambda: mg.linalg.cond(_ones(2, 3), "fro"), mg.ShapeError, r"square.*\(2, 3\)"),
        (lambda: mg.linalg.cond(_ones(3, 3), 3), ValueError, "order 3"),
        (lambda: mg.linalg.qr(_ones(3, 2), mode="full"), ValueError, "mode"),
        (lambda: mg.linalg.qr(_ones(3, 2, grad=True), mode="complete"), ValueError, r"\(3, 2\)"),
        (lambda: mg.linalg.qr(_ones(2, 3, grad=True), mode="r"), ValueError, r"\(2, 3\)"),
        (
            lambda: mg.linalg.solve_triangular(_ones(3, 3), _ones(3), upper=True),
            mg.ShapeError,
            r"\(3,\)",
        ),
        (lambda: mg.linalg.matrix_exp(_ones(2, 3)), mg.ShapeError, r"\(2, 3\)"),
        (lambda: mg.linalg.lstsq(_ones(4, 3), _ones(5, 2)), mg.ShapeError, r"\(4, 3\).*\(5, 2\)"),
        (lambda: mg.linalg.lstsq(_ones(4, 3), _ones(4)[0]), mg.ShapeError, r"\(4, 3\).*\(\)"),
        (lambda: mg.linalg.lstsq(_ones(4, 3), _ones(4, 2), driver="qr"), ValueError, "qr"),
        (lambda: mg.linalg.tensorinv(_ones(2, 3, 4), 1), mg.ShapeError, r"\(2, 3, 4\)"),
        (lambda: mg.linalg.tensorsolve(_ones(2, 3, 5), _ones(2, 3)), mg.ShapeError, r"\(2, 3, 5\)"),
        (lambda: mg.multinomial(mg.ones(3), 2, generator=3), TypeError, "Generator"),
        (lambda: mg.Generator().manual_seed(-1), ValueError, "-1"),
    ],
)
def test_matrix_function_bad_inputs_raise_naming_the_shapes(call, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        call()


def test_a_refused_call_changes_nothing() -> None:
    """The checks run before any node is made: no gradient reaches the input afterwards."""
    a = mg.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    for bad in (lambda: mg.linalg.matrix_norm(a, 3), lambda: mg.linalg.inv(a)):
        with pytest.raises((ValueError, mg.ShapeError)):
            bad()
    assert a.grad is None and a.grad_fn is None
    s = mg.tensor(np.ones((3, 3)), requires_grad=True)
    with pytest.raises(mg.LinAlgError):
        mg.linalg.inv(s)
    assert s.grad is None and np.array_equal(s.numpy(), np.ones((3, 3)))


# -- multinomial's generator --------------------------------------------------------------------

WEIGHTS = [[0.1, 0.5, 0.4, 2.0], [1.0, 1.0, 1.0, 1.0]]


@pytest.mark.parametrize("replacement", [False, True])
def test_multinomial_generator_reproduces_and_leaves_the_global_stream(replacement) -> None:
    w = mg.tensor(WEIGHTS)
    first = mg.multinomial(w, 3, replacement, generator=mg.Generator().manual_seed(7))
    again = mg.multinomial(w, 3, replacement, generator=mg.Generator().manual_seed(7))
    assert first.tolist() == again.tolist() and first.dtype == mg.int64 and first.shape == (2, 3)
    draws = {
        tuple(
            map(
                tuple,
                mg.multinomial(w, 3, replacement, generator=mg.Generator().manual_seed(k)).tolist(),
            )
        )
        for k in range(20)
    }
    assert len(draws) > 1  # the seed matters
    # the global stream is where it would be without the generator's draws
    mg.manual_seed(11)
    plain = [mg.rand(3).tolist(), mg.rand(3).tolist()]
    mg.manual_seed(11)
    mixed = [mg.rand(3).tolist()]
    mg.multinomial(w, 3, replacement, generator=mg.Generator().manual_seed(1))
    mixed.append(mg.rand(3).tolist())
    assert plain == mixed
    # a NumPy Generator (what nn.init takes) serves too, drawing the same numbers
    numpy_gen = mg.backend.new_generator("cpu", 7)
    assert mg.multinomial(w, 3, replacement, generator=numpy_gen).tolist() == first.tolist()


def test_multinomial_with_a_generator_draws_the_right_frequencies() -> None:
    gen = mg.Generator().manual_seed(0)
    counts = np.bincount(
        mg.multinomial(mg.tensor([1.0, 3.0, 0.0, 4.0]), 8000, True, generator=gen).numpy(),
        minlength=4,
    )
    np.testing.assert_allclose(counts / 8000, [0.125, 0.375, 0.0, 0.5], atol=0.02)


def test_generator_api_as_torch() -> None:
    gen = mg.Generator()
    assert gen.manual_seed(5) is gen and gen.initial_seed() == 5 and gen.device == "cpu"
    fresh = gen.seed()
    assert gen.initial_seed() == fresh and isinstance(fresh, int)
    assert gen.random((2,)).shape == (2,) and "Generator" in repr(gen)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5)])
def test_qr_modes_complete_and_r_as_torch(shape) -> None:
    (ma, ta) = twin(RNG.standard_normal(shape))
    q, r = mg.linalg.qr(ma, mode="complete")
    tq, tr = torch.linalg.qr(ta, mode="complete")
    assert q.shape == tuple(tq.shape) and r.shape == tuple(tr.shape)
    np.testing.assert_allclose((q @ r).numpy(), ma.numpy(), atol=1e-12)
    np.testing.assert_allclose(np.abs(r.numpy()), np.abs(tr.numpy()), atol=1e-12)
    q, r = mg.linalg.qr(ma, mode="r")
    tq, tr = torch.linalg.qr(ta, mode="r")
    assert q.shape == tuple(tq.shape) == (0,)
    np.testing.assert_allclose(np.abs(r.numpy()), np.abs(tr.numpy()), atol=1e-12)


def test_matrix_exp_of_zero_and_commuting_matrices() -> None:
    assert np.array_equal(
        mg.linalg.matrix_exp(mg.zeros(2, 3, 3)).numpy(), np.eye(3)[None].repeat(2, 0)
    )
    d = mg.tensor(np.diag([0.5, -1.0, 2.0]))
    np.testing.assert_allclose(mg.linalg.matrix_exp(d).numpy(), np.diag(np.exp([0.5, -1.0, 2.0])))
    assert mg.linalg.matrix_exp(mg.zeros(0, 2, 2)).shape == (0, 2, 2)


LSTSQ_INPUTS = {
    "tall": (conditioned((2, 5, 3), 27), RNG.standard_normal((2, 5, 2))),
    "vectors": (conditioned((2, 5, 3), 28), RNG.standard_normal((2, 5))),
    "wide-broadcast": (conditioned((2, 3, 5), 29), RNG.standard_normal((1, 3, 2))),
    "rank-deficient": (np.repeat(conditioned((5, 1), 30), 3, axis=1), RNG.standard_normal((5, 2))),
}


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("name", sorted(LSTSQ_INPUTS))
def test_lstsq_matches_torch(driver, name) -> None:
    """The solution (minimum-norm), residuals, ranks and singular values that PyTorch's CPU
    drivers return, shapes and dtypes included; the solution's gradient."""
    if name == "rank-deficient" and driver == "gels":
        pytest.skip("PyTorch's gels refuses a rank-deficient A")
    a, b = LSTSQ_INPUTS[name]
    (ma, ta), (mb, tb) = twin(a, grad=True), twin(b)
    out, expected = (
        mg.linalg.lstsq(ma, mb, driver=driver),
        torch.linalg.lstsq(ta, tb, driver=driver),
    )
    assert type(out).__name__ == "linalg_lstsq"
    for o, e in zip(out, expected):
        assert tuple(o.shape) == tuple(e.shape) and str(o.dtype) in str(e.dtype)
        np.testing.assert_allclose(o.numpy(), e.detach().cpu().numpy(), atol=1e-10)
    weights = RNG.standard_normal(tuple(out.solution.shape))
    (g,) = mg.grad(out.solution, [ma], mg.tensor(weights))
    (tg,) = torch.autograd.grad(expected.solution, [ta], torch.tensor(weights))
    np.testing.assert_allclose(g.numpy(), tg.numpy(), atol=1e-10)


def test_lstsq_gradcheck_and_linalg_aliases() -> None:
    a, b = LSTSQ_INPUTS["tall"]
    inputs = [mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)]
    assert mg.gradcheck(lambda x, y: mg.linalg.lstsq(x, y, driver="gelsd").residuals, inputs)
    assert mg.gradgradcheck(lambda x, y: mg.linalg.lstsq(x, y).solution, inputs)
    (ma, ta) = twin(RNG.standard_normal((2, 3, 4)))
    same(mg.linalg.diagonal(ma, offset=1), torch.linalg.diagonal(ta, offset=1))
    same(mg.linalg.matmul(ma, ma.swapaxes(-1, -2)), torch.linalg.matmul(ta, ta.mT))
    (mx, tx), (my, ty) = twin(RNG.standard_normal((4, 3))), twin(RNG.standard_normal((4, 3)))
    same(mg.linalg.cross(mx, my), torch.linalg.cross(tx, ty))  # dim -1, as torch.linalg.cross


def test_cholesky_and_eigh_read_the_triangle_torch_reads() -> None:
    """A non-symmetric A: cholesky reads the lower triangle (the upper with ``upper=True``),
    eigh/eigvalsh the one ``UPLO`` names, as PyTorch."""
    (ma, ta) = twin(np.array([[4.0, 1.0, 0.0], [2.0, 5.0, 1.0], [0.0, 3.0, 6.0]]))
    for upper in (False, True):
        same(mg.linalg.cholesky(ma, upper=upper), torch.linalg.cholesky(ta, upper=upper))
    for uplo in ("L", "U"):
        same(mg.linalg.eigvalsh(ma, UPLO=uplo), torch.linalg.eigvalsh(ta, UPLO=uplo))
        values, vectors = mg.linalg.eigh(ma, UPLO=uplo)
        expected = torch.linalg.eigh(ta, UPLO=uplo)
        same(values, expected.eigenvalues)
        np.testing.assert_allclose(np.abs(vectors.numpy()), expected.eigenvectors.abs().numpy())


@pytest.mark.parametrize("shape", [(0, 3, 3), (3, 0), (0, 3), (0, 0)])
def test_matrix_norms_of_empty_matrices_as_torch(shape) -> None:
    """0 for every norm of an empty matrix PyTorch computes; the smallest-value norms (-1, -2)
    of one with no columns or singular values raise, as PyTorch's."""
    for ord_ in MATRIX_ORDS:
        (ma, ta) = twin(np.zeros(shape), grad=True)
        try:
            expected = torch.linalg.matrix_norm(ta, ord_)
        except (RuntimeError, IndexError):
            with pytest.raises(ValueError, match="size 0"):
                mg.linalg.matrix_norm(ma, ord_)
            continue
        out = mg.linalg.matrix_norm(ma, ord_)
        same(out, expected)
        out.sum().backward()
        assert ma.grad.shape == shape


def test_tensorinv_and_tensorsolve_match_torch() -> None:
    a = conditioned((24, 24), 31).reshape(4, 6, 8, 3)
    values_and_grads(
        lambda x: mg.linalg.tensorinv(x, 2), lambda x: torch.linalg.tensorinv(x, 2), [a], np.float64
    )
    a, b = conditioned((6, 6), 32).reshape(2, 3, 6), RNG.standard_normal((2, 3))
    values_and_grads(mg.linalg.tensorsolve, torch.linalg.tensorsolve, [a, b], np.float64)
    a = np.moveaxis(a, -1, 0).copy()  # (6, 2, 3): dims=(0,) moves the solved-for dim last
    values_and_grads(
        lambda x, y: mg.linalg.tensorsolve(x, y, dims=(0,)),
        lambda x, y: torch.linalg.tensorsolve(x, y, dims=(0,)),
        [a, b],
        np.float64,
    )


@pytest.mark.parametrize(
    "name, args",
    [
        ("det", ()),
        ("logdet", ()),
        ("inverse", ()),
        ("pinverse", ()),
        ("matrix_power", (3,)),
        ("matrix_power", (-2,)),
        ("matrix_exp", ()),
    ],
)
def test_tensor_linalg_methods_match_torchs(name: str, args: tuple) -> None:
    a = np.random.default_rng(5).standard_normal((2, 3, 3)) + 3 * np.eye(3)
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, z = getattr(x, name)(*args), getattr(t, name)(*args)
    y.sum().backward()
    z.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_tensor_slogdet_and_multinomial_generator() -> None:
    a = np.random.default_rng(6).standard_normal((4, 4))
    sign, logabs = mg.tensor(a).slogdet()
    tsign, tlogabs = torch.tensor(a).slogdet()
    assert float(sign) == float(tsign)
    assert abs(float(logabs) - float(tlogabs)) < 1e-12
    p = mg.tensor([0.1, 0.2, 0.3, 0.4])
    first = p.multinomial(20, True, generator=mg.Generator().manual_seed(7))
    again = p.multinomial(20, True, generator=mg.Generator().manual_seed(7))
    assert first.tolist() == again.tolist()
    assert (
        first.tolist()
        == mg.multinomial(p, 20, True, generator=mg.Generator().manual_seed(7)).tolist()
    )
