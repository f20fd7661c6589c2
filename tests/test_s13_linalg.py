"""Session 13: linalg.solve_triangular solves by substitution (its own op), as PyTorch's.

It went through the general ``solve`` of the triangle, so a zero on the diagonal raised
``LinAlgError`` naming ``linalg.solve``, where PyTorch's gives inf/NaN (LAPACK's trtrs).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def test_a_zero_on_the_diagonal_gives_inf_as_pytorch() -> None:
    a = np.array([[1.0, 2.0], [0.0, 0.0]])
    b = np.array([[1.0], [1.0]])
    ta = torch.tensor(a, requires_grad=True)
    torch.linalg.solve_triangular(ta, torch.tensor(b), upper=True).sum().backward()
    ma = mg.tensor(a, requires_grad=True)
    out = mg.linalg.solve_triangular(ma, mg.tensor(b), upper=True)
    expected = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sum of inf and -inf: NaN
        out.sum().backward()
    np.testing.assert_array_equal(ma.grad.numpy(), ta.grad.numpy())


@pytest.mark.parametrize("upper,left,unit", list(itertools.product((True, False), repeat=3)))
def test_values_and_two_orders_of_gradients_match_pytorch(
    upper: bool, left: bool, unit: bool
) -> None:
    rng = np.random.default_rng(int(upper) * 4 + int(left) * 2 + int(unit))
    a = rng.standard_normal((2, 1, 4, 4)) + 3 * np.eye(4)  # batch dims broadcast against B's
    b = rng.standard_normal((3, 4, 2) if left else (3, 2, 4))
    options = {"upper": upper, "left": left, "unitriangular": unit}
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ma, mb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    tx = torch.linalg.solve_triangular(ta, tb, **options)
    mx = mg.linalg.solve_triangular(ma, mb, **options)
    g = rng.standard_normal(tuple(tx.shape))
    tga, tgb = torch.autograd.grad(tx, (ta, tb), torch.tensor(g), create_graph=True)
    mga, mgb = mg.grad(mx, (ma, mb), mg.tensor(g), create_graph=True)
    t2 = torch.autograd.grad((tga**2).sum() + (tgb**3).sum(), (ta, tb))
    m2 = mg.grad((mga**2).sum() + (mgb**3).sum(), (ma, mb))
    pairs = [(mx, tx), (mga, tga), (mgb, tgb), *zip(m2, t2)]
    for mine, theirs in pairs:
        np.testing.assert_allclose(
            mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-9
        )


def test_gradcheck_in_float64() -> None:
    rng = np.random.default_rng(7)
    a = mg.tensor(rng.standard_normal((3, 3)) + 3 * np.eye(3), requires_grad=True)
    b = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    for upper, unit in itertools.product((True, False), repeat=2):
        assert mg.gradcheck(
            lambda a, b, u=upper, t=unit: mg.linalg.solve_triangular(
                a, b, upper=u, unitriangular=t
            ),
            (a, b),
        )
        assert mg.gradgradcheck(
            lambda a, b, u=upper, t=unit: mg.linalg.solve_triangular(
                a, b.mT, upper=u, left=False, unitriangular=t
            ),
            (a, b),
        )
