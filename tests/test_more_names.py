"""PyTorch names from issue 16's review: ``mg.bool``, narrow, movedim/moveaxis, swapaxes/swapdims,
view_as, index_fill, index_add (and their in-place forms), pow_ exp_ neg_ abs_ floor_divide_
remainder_, ``&=`` ``|=``, mm/bmm's own error prefix, and ``//`` without NumPy's overflow warning.
Each compared with PyTorch (values, and gradients in float64 where differentiable); the
gradchecks are the registry cases in tests/op_cases.py."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(16)
X = RNG.standard_normal((2, 3, 4))


def both(array: np.ndarray, grad: bool = False) -> tuple[mg.Tensor, Any]:
    return mg.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)


def test_bool_is_an_exported_dtype_alias() -> None:
    assert mg.bool is mg.bool_ and "bool" in mg.__all__
    t = mg.tensor([1, 0, 2], dtype=mg.bool)
    assert t.dtype == mg.bool_ and t.tolist() == torch.tensor([1, 0, 2], dtype=torch.bool).tolist()
    assert mg.zeros(2, dtype=mg.bool).dtype == mg.bool_


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, t: (m.movedim(0, -1), t.movedim(0, -1)),
        lambda m, t: (m.movedim((0, 1), (2, 0)), t.movedim((0, 1), (2, 0))),
        lambda m, t: (mg.movedim(m, [-1], [1]), torch.movedim(t, [-1], [1])),
        lambda m, t: (mg.moveaxis(m, 2, 0), torch.moveaxis(t, 2, 0)),
        lambda m, t: (m.moveaxis((0, 2), (1, 0)), t.moveaxis((0, 2), (1, 0))),
        lambda m, t: (m.narrow(1, 1, 2), t.narrow(1, 1, 2)),
        lambda m, t: (mg.narrow(m, -1, -2, 2), torch.narrow(t, -1, -2, 2)),
        lambda m, t: (m.narrow(2, 4, 0), t.narrow(2, 4, 0)),
        lambda m, t: (m.narrow(0, mg.tensor(1), 1), t.narrow(0, torch.tensor(1), 1)),
        lambda m, t: (m.swapaxes(0, 2), t.swapaxes(0, 2)),
        lambda m, t: (mg.swapdims(m, 1, -1), torch.swapdims(t, 1, -1)),
        lambda m, t: (mg.swapaxes(m, 0, 1), torch.swapaxes(t, 0, 1)),
        lambda m, t: (m.view_as(mg.zeros(4, 6)), t.view_as(torch.zeros(4, 6))),
        lambda m, t: (
            m.index_fill(1, mg.tensor([2, 0]), -1.5),
            t.index_fill(1, torch.tensor([2, 0]), -1.5),
        ),
        lambda m, t: (
            mg.index_fill(m, -1, mg.tensor(3), 7.0),
            torch.index_fill(t, -1, torch.tensor(3), 7.0),
        ),
        lambda m, t: (
            m.index_add(2, mg.tensor([3, 0, 3]), m[..., :3] * 2),
            t.index_add(2, torch.tensor([3, 0, 3]), t[..., :3] * 2),
        ),
        lambda m, t: (
            mg.index_add(m, 0, mg.tensor([1, 1]), m, alpha=0.5),
            torch.index_add(t, 0, torch.tensor([1, 1]), t, alpha=0.5),
        ),
    ],
)
def test_new_ops_match_pytorch_values_and_gradients(fn: Callable[..., Any]) -> None:
    m, t = both(X, grad=True)
    out_m, out_t = fn(m, t)
    assert tuple(out_m.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), rtol=1e-12)
    w = RNG.standard_normal(tuple(out_t.shape))
    (out_m * mg.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_aliases_are_the_same_functions() -> None:
    assert mg.Tensor.swapaxes is mg.Tensor.transpose and mg.Tensor.swapdims is mg.Tensor.transpose
    assert mg.swapaxes is mg.transpose and mg.moveaxis is mg.movedim
    assert mg.Tensor.moveaxis is mg.Tensor.movedim


def test_0d_forms_match_pytorch() -> None:
    m, t = both(np.array(2.0))
    assert mg.movedim(m, 0, -1).shape == tuple(torch.movedim(t, 0, -1).shape) == ()
    i = [0]
    assert m.index_fill(0, mg.tensor(i), 5.0).item() == t.index_fill(0, torch.tensor(i), 5.0).item()
    got = m.index_add(-1, mg.tensor(i), mg.tensor(3.0, dtype=mg.float64)).item()
    assert (
        got
        == t.index_add(-1, torch.tensor(i), torch.tensor(3.0, dtype=torch.float64)).item()
        == 5.0
    )


def test_narrow_is_a_view_as_in_pytorch() -> None:
    m, t = both(X.copy())
    m.narrow(1, 1, 1).fill_(0.0)
    t.narrow(1, 1, 1).fill_(0.0)
    np.testing.assert_array_equal(m.numpy(), t.numpy())


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, lib: x.narrow(0, -3, 1),  # start out of range
        lambda x, lib: x.narrow(0, 1, 2),  # past the end
        lambda x, lib: x.narrow(3, 0, 1),  # no such dim
        lambda x, lib: x.sum().narrow(0, 0, 1),  # 0-d
        lambda x, lib: x.movedim((0, 0), (1, 2)),
        lambda x, lib: x.movedim((0, 1), (1,)),
        lambda x, lib: x.movedim(0, 3),
        lambda x, lib: x.index_fill(0, lib.tensor([[0]]), 1.0),  # 2-D index
        lambda x, lib: x.index_fill(0, lib.tensor([0.0]), 1.0),  # float index
        lambda x, lib: x.index_add(0, lib.tensor([0]), x),  # source too long along dim
        lambda x, lib: x.index_add(0, lib.tensor([0, 1]), x[:, :2]),  # other dim differs
        lambda x, lib: x.index_add(0, lib.tensor([0, 1]), x.float()),  # dtypes differ
    ],
)
def test_bad_input_is_refused_as_pytorch_refuses_it(fn: Callable[..., Any]) -> None:
    m, t = both(X)
    with pytest.raises(Exception) as theirs:
        fn(t, torch)
    with pytest.raises((RuntimeError, IndexError, TypeError, ValueError)) as ours:
        fn(m, mg)
    assert theirs.value is not None and str(ours.value)


def test_bad_input_errors_name_what_is_at_fault() -> None:
    m = mg.tensor(X)
    with pytest.raises(IndexError, match=r"narrow: start \(-3\).*\(2, 3, 4\)"):
        m.narrow(0, -3, 1)
    with pytest.raises(mg.ShapeError, match=r"index_add: source of shape \(2, 3, 4\).*\(1, 3, 4\)"):
        m.index_add(0, mg.tensor([0]), m)
    with pytest.raises(TypeError, match=r"index_add: self \(float64\) and source \(float32\)"):
        m.index_add(0, mg.tensor([0, 1]), m.float())
    with pytest.raises(IndexError, match=r"index_fill: index must be a 1-D or 0-d integer"):
        m.index_fill(0, mg.tensor([[0]]), 1.0)
    with pytest.raises(RuntimeError, match=r"movedim: repeated dim in `destination`"):
        m.movedim((0, 1), (2, 2))


# -- in-place forms ---------------------------------------------------------------------------

INPLACE = {
    "pow_": (lambda x: x.pow_(2.0), lambda x: x.pow_(2.0)),
    "exp_": (lambda x: x.exp_(), lambda x: x.exp_()),
    "neg_": (lambda x: x.neg_(), lambda x: x.neg_()),
    "abs_": (lambda x: x.abs_(), lambda x: x.abs_()),
    # PyTorch has no derivative for floor_divide_; ours is 0, as a copy of a detached quotient
    "floor_divide_": (lambda x: x.floor_divide_(0.7), lambda x: x.copy_(x.detach() // 0.7)),
    "remainder_": (lambda x: x.remainder_(0.7), lambda x: x.remainder_(0.7)),
    "index_add_": (
        lambda x: x.index_add_(1, mg.tensor([2, 2]), mg.ones(2, 2, 4, dtype=mg.float64), alpha=3),
        lambda x: x.index_add_(
            1, torch.tensor([2, 2]), torch.ones(2, 2, 4, dtype=torch.float64), alpha=3
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_values_identity_and_version(name: str) -> None:
    ours, theirs = INPLACE[name]
    m, t = both(X.copy())
    before = m._version
    assert ours(m) is m and theirs(t) is t
    assert m._version > before
    np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_in_the_graph_gives_pytorchs_gradient(name: str) -> None:
    """On a non-leaf (history rebased) and through a view of one (the base's history too)."""
    ours, theirs = INPLACE[name]
    w = RNG.standard_normal(X.shape)
    for through_view in (False, True):
        grads = []
        for lib, fn in ((mg, ours), (torch, theirs)):
            leaf = lib.tensor(X, requires_grad=True)
            y = leaf * 1.5
            fn(y[:, :] if through_view else y)
            (y * lib.tensor(w)).sum().backward()
            grads.append(leaf.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_on_a_leaf_requiring_grad_is_refused(name: str) -> None:
    ours, theirs = INPLACE[name]
    m, t = both(X, grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        theirs(t)
    with pytest.raises(RuntimeError, match=rf"{name}: a leaf Variable that requires grad"):
        ours(m)
    np.testing.assert_array_equal(m.numpy(), X)  # nothing changed
    with mg.no_grad():
        ours(m)  # allowed under no_grad, as PyTorch
    with torch.no_grad():
        theirs(t)
    np.testing.assert_allclose(m.numpy(), t.detach().numpy(), rtol=1e-12)


def test_a_saved_value_changed_in_place_refuses_the_backward() -> None:
    x = mg.tensor(X, requires_grad=True)
    y = x * 1.0
    z = y.exp()  # saves its output
    z.neg_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


@pytest.mark.parametrize("op", ["and", "or"])
def test_iand_ior_write_in_place(op: str) -> None:
    a = RNG.random((3, 4)) < 0.5
    b = RNG.random((3, 4)) < 0.5
    m, t = mg.tensor(a), torch.tensor(a)
    m_row, t_row = m[1], t[1]
    alias_m, alias_t = m_row, t_row
    if op == "and":
        m_row &= mg.tensor(b[1])
        t_row &= torch.tensor(b[1])
    else:
        m_row |= mg.tensor(b[1])
        t_row |= torch.tensor(b[1])
    assert m_row is alias_m and t_row is alias_t  # no rebinding
    np.testing.assert_array_equal(m.numpy(), t.numpy())  # the base sees the write
    assert m._version == 1


def test_mm_and_bmm_errors_name_their_op() -> None:
    a, b = mg.zeros(2, 3), mg.zeros(4, 5)
    with pytest.raises(mg.ShapeError, match=r"^mm: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        mg.mm(a, b)
    with pytest.raises(TypeError, match=r"^mm: the first operand is float32.*float64"):
        a.mm(mg.zeros(3, 5, dtype=mg.float64))
    with pytest.raises(mg.ShapeError, match=r"^bmm: shapes \(1, 2, 3\) and \(1, 4, 5\) are not"):
        mg.bmm(mg.zeros(1, 2, 3), mg.zeros(1, 4, 5))
    with pytest.raises(TypeError, match=r"^bmm: the first operand is float32.*int64"):
        mg.bmm(mg.zeros(1, 2, 3), mg.zeros(1, 3, 5, dtype=mg.int64))
    with pytest.raises(mg.ShapeError, match=r"^matmul: shapes"):
        mg.matmul(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_floor_divide_of_huge_floats_warns_nothing(dtype: str) -> None:
    big = 3e38 if dtype == "float32" else 1e308
    values = [big, -big, 3.0, 0.0]
    m = mg.tensor(values, dtype=getattr(mg, dtype))
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outs = [
            m // 1e-10,
            m.floor_divide(1e-10),
            m.div(1e-10, rounding_mode="floor"),
            m.div(1e-10, rounding_mode="trunc"),
        ]
        c = m.clone()
        c //= 1e-10
        outs.append(c)
    expected = t // 1e-10
    for out in outs:
        np.testing.assert_array_equal(out.numpy()[:2], expected.numpy()[:2])  # +-inf as PyTorch
    with warnings.catch_warnings():  # real errors still raise
        warnings.simplefilter("error")
        with pytest.raises(ZeroDivisionError):
            mg.tensor([1, 2]) // 0
