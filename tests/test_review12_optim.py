"""Review 12 (r10) of ``nn.optim``, ``nn.schedule`` and ``nn.utils`` against PyTorch: a
regression test for each fault found, each comparing with torch's twin."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from nn import optim
from tests.conftest import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _twins(shapes, seed=0):
    """The same float64 leaves in minigrad and in torch, and a generator for their gradients."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(shape) for shape in shapes]
    ours = [mg.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    return ours, theirs, rng


def _step_both(ours, theirs, optimizers, rng, steps=1):
    """``steps`` steps of each optimizer on the same random gradients."""
    for _ in range(steps):
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(tuple(p.shape))
            p.grad, q.grad = mg.tensor(g.copy()), torch.tensor(g.copy())
        for optimizer in optimizers:
            optimizer.step()


def _assert_same(ours, theirs):
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14)


@needs_torch
def test_adam_state_kept_after_amsgrad_is_turned_off_loads_and_resumes_as_torch():
    # Adam keeps max_exp_avg_sq when a group turns amsgrad off mid-run (so does PyTorch); our
    # load_state_dict asked for exactly the entries of the group's current options, so the
    # optimizer's own state_dict() failed to load ("has entries [...], Adam expects [...]")
    ours, theirs, rng = _twins([(3, 2), (4,)])
    opt, topt = (
        optim.Adam(ours, lr=0.1, amsgrad=True),
        torch.optim.Adam(theirs, lr=0.1, amsgrad=True),
    )
    _step_both(ours, theirs, [opt, topt], rng, steps=3)
    for group in (opt.param_groups[0], topt.param_groups[0]):
        group["amsgrad"] = False
    _step_both(ours, theirs, [opt, topt], rng, steps=2)
    saved = opt.state_dict()
    assert "max_exp_avg_sq" in saved["state"][0]
    resumed = [mg.tensor(p.numpy(), requires_grad=True) for p in ours]
    opt2 = optim.Adam(resumed, lr=0.5)
    opt2.load_state_dict(saved)
    # and it resumes as torch, also once amsgrad is back on (the kept maximum is used again)
    _step_both(resumed, theirs, [opt2, topt], rng, steps=2)
    for group in (opt2.param_groups[0], topt.param_groups[0]):
        group["amsgrad"] = True
    _step_both(resumed, theirs, [opt2, topt], rng, steps=3)
    _assert_same(resumed, theirs)
    max_sq = topt.state_dict()["state"][1]["max_exp_avg_sq"].numpy()
    np.testing.assert_allclose(opt2.state[resumed[1]]["max_exp_avg_sq"], max_sq, rtol=1e-12)


def test_adam_load_still_refuses_missing_and_unknown_state_entries():
    p = mg.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([p], amsgrad=True)
    p.grad = mg.tensor(np.ones(2))
    opt.step()
    saved = opt.state_dict()
    del saved["state"][0]["max_exp_avg_sq"]  # amsgrad is on: the maximum is needed
    with pytest.raises(ValueError, match=r"expects \['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'"):
        opt.load_state_dict(saved)
    saved = opt.state_dict()
    saved["state"][0]["momentum_buffer"] = mg.tensor(np.ones(2))  # not one of Adam's
    with pytest.raises(ValueError, match=r"has entries \[.*'momentum_buffer'.*\], Adam expects"):
        opt.load_state_dict(saved)


@needs_torch
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_zero_grad_without_set_to_none_detaches_a_create_graph_gradient():
    # torch's zero_grad(set_to_none=False) detaches the gradient before zeroing it; ours zeroed
    # the array and left the old grad_fn on it, so p.grad still required grad and its graph
    # (describing values no longer there) grew with every later backward
    results = []
    for lib, module in ((mg, optim), (torch, torch.optim)):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        (p * p * p).sum().backward(create_graph=True)
        grad = p.grad
        module.SGD([p], lr=0.1).zero_grad(set_to_none=False)
        assert p.grad is grad  # zeroed in place, as torch
        results.append((p.grad.requires_grad, p.grad.grad_fn is None, p.grad.tolist()))
        (p * p).sum().backward()
        results.append((p.grad.requires_grad, p.grad.grad_fn is None, p.grad.tolist()))
    assert results[:2] == results[2:] == [(False, True, [0.0, 0.0]), (False, True, [2.0, 4.0])]


def test_zero_grad_without_set_to_none_stops_a_leaf_gradient_requiring_grad():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    p.grad = mg.tensor([3.0, 4.0], requires_grad=True)  # torch: requires_grad_(False)
    optim.SGD([p]).zero_grad(set_to_none=False)
    assert not p.grad.requires_grad and p.grad.tolist() == [0.0, 0.0]


@needs_torch
def test_sgd_nesterov_is_checked_on_the_constructor_values_and_groups_may_differ():
    # torch checks nesterov against the constructor's momentum and dampening only: a group
    # with momentum 0 runs plain SGD, one with a dampening dampens its buffer. Ours refused
    # both groups ("nesterov momentum needs momentum > 0 and dampening = 0")
    ours, theirs, rng = _twins([(3,), (2, 2), (4,)])

    def groups(params):
        return [
            {"params": [params[0]]},
            {"params": [params[1]], "momentum": 0.0},
            {"params": [params[2]], "dampening": 0.4},
        ]

    opt = optim.SGD(groups(ours), lr=0.1, momentum=0.9, nesterov=True)
    topt = torch.optim.SGD(groups(theirs), lr=0.1, momentum=0.9, nesterov=True)
    _step_both(ours, theirs, [opt, topt], rng, steps=10)
    _assert_same(ours, theirs)
    assert "momentum_buffer" not in opt.state.get(ours[1], {})
    opt.load_state_dict(opt.state_dict())  # the groups load back too
    # the constructor's own values are still checked, as torch
    with pytest.raises(ValueError, match=r"SGD: nesterov momentum needs .*momentum=0.0"):
        optim.SGD([mg.tensor([1.0], requires_grad=True)], lr=0.1, nesterov=True)


# =============================================================================================
# nn.utils: torch.nn.utils's get_total_norm, clip_grads_with_norm_, parameters_to_vector and
# vector_to_parameters were missing (an ImportError before this review)
# =============================================================================================

SHAPES = [(3, 2), (4,), (), (0, 3)]


@needs_torch
def test_parameters_to_vector_and_back_match_torch():
    from nn.utils import parameters_to_vector, vector_to_parameters

    ours, theirs, rng = _twins(SHAPES)
    vec, tvec = parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.numpy(), tvec.detach().numpy())
    # differentiable, as torch's (a cat of views)
    weights = rng.standard_normal(vec.shape)
    (vec * mg.tensor(weights)).sum().backward()
    (tvec * torch.tensor(weights)).sum().backward()
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    new = rng.standard_normal(vec.shape)
    vector_to_parameters(mg.tensor(new), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    _assert_same(ours, theirs)
    assert all(p.is_leaf and p.requires_grad and p.grad_fn is None for p in ours)
    mixed = [mg.tensor(np.ones(2, np.float32)), mg.tensor(np.ones(1))]
    assert parameters_to_vector(mixed).dtype == mg.float64  # promoted, as torch.cat


def test_vector_to_parameters_refuses_a_mismatched_vector_before_changing_anything():
    from nn.utils import parameters_to_vector, vector_to_parameters

    params = [mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True), mg.tensor([7.0])]
    before = parameters_to_vector(params).numpy()
    bad = [
        (mg.tensor(np.ones(8)), ValueError, r"1-d with 7 elements .* got shape \(8,\)"),
        (mg.tensor(np.ones((7, 1))), ValueError, r"got shape \(7, 1\)"),
        (
            mg.tensor(np.ones(7, np.float32)),
            ValueError,
            r"vec is float32 .* parameters\[0\] float64",
        ),
        (np.ones(7), TypeError, r"expected a Tensor, got ndarray"),
    ]
    for vec, error, match in bad:
        with pytest.raises(error, match=match):
            vector_to_parameters(vec, params)
        np.testing.assert_array_equal(parameters_to_vector(params).numpy(), before)
    with pytest.raises(ValueError, match="got no parameters"):
        parameters_to_vector([])
    with pytest.raises(TypeError, match=r"parameters\[1\] is a list"):
        parameters_to_vector([params[0], [1.0]])


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), "inf"])
def test_get_total_norm_then_clip_grads_with_norm_match_torch(norm_type):
    from nn.utils import clip_grads_with_norm_, get_total_norm

    ours, theirs, rng = _twins(SHAPES[:3])
    _step_both(ours, theirs, [], rng)  # gradients only
    total = get_total_norm([p.grad for p in ours], norm_type)
    expected = torch.nn.utils.get_total_norm([q.grad for q in theirs], norm_type)
    assert total.dtype == mg.float64 and not total.requires_grad
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-14)
    clip_grads_with_norm_(ours, 0.5, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, expected)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-14)
    # a total norm given as a number (summed over processes, say) scales the same way
    clip_grads_with_norm_(ours, 0.5, 2.0)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, torch.tensor(2.0, dtype=torch.float64))
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-14)


def test_get_total_norm_and_clip_grads_with_norm_bad_input():
    from nn.utils import clip_grads_with_norm_, get_total_norm

    assert get_total_norm([]).item() == 0.0 and get_total_norm([]).dtype == mg.float32
    assert get_total_norm(mg.tensor([3.0, 4.0])).item() == 5.0
    with pytest.raises(RuntimeError, match=r"get_total_norm: the total norm of order 2.0 .* inf"):
        get_total_norm([mg.tensor([1.0, np.inf])], error_if_nonfinite=True)
    with pytest.raises(ValueError, match=r"norm_type must be > 0 or inf, got -1.0"):
        get_total_norm([mg.tensor([1.0])], norm_type=-1)
    with pytest.raises(TypeError, match=r"tensors\[0\] is a list"):
        get_total_norm([[1.0]])
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    p.grad = mg.tensor([3.0, 4.0])
    with pytest.raises(ValueError, match=r"total_norm must be one number, got .* shape \(2,\)"):
        clip_grads_with_norm_([p], 1.0, mg.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"clip_grads_with_norm_: max_norm must be >= 0"):
        clip_grads_with_norm_([p], -1.0, mg.tensor(5.0))
    assert p.grad.tolist() == [3.0, 4.0]


@needs_torch
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_float16_adam_squares_gradients_in_float32_as_torch(name, amsgrad):
    # torch computes each float16 step in float32 ("opmath") and rounds the results; ours
    # squared the float16 gradient in float16, which overflows from |g| = 256: exp_avg_sq
    # became inf (torch: 90 for g = 300) and the parameter stopped moving
    rng = np.random.default_rng(0)
    start = rng.standard_normal((4, 3)).astype(np.float16)
    p, q = (
        mg.tensor(start.copy(), requires_grad=True),
        torch.tensor(start.copy(), requires_grad=True),
    )
    opt = getattr(optim, name)([p], lr=0.01, amsgrad=amsgrad)
    topt = getattr(torch.optim, name)([q], lr=0.01, amsgrad=amsgrad)
    for scale in (1.0, 300.0, 2000.0, 0.5):
        g = (rng.standard_normal((4, 3)) * scale).astype(np.float16)
        p.grad, q.grad = mg.tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    assert p.dtype == mg.float16
    ours, theirs = opt.state[p], topt.state[q]
    for key in ("exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if amsgrad else ())):
        assert ours[key].dtype == np.float16 and np.isfinite(ours[key]).all(), key
        # float16 state: within a rounding or two of torch's (it rounds after each operation)
        np.testing.assert_allclose(ours[key], theirs[key].numpy(), rtol=3e-3, err_msg=key)
    np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=2e-3, atol=1e-3)
    assert np.abs(p.numpy().astype(np.float64) - start).max() > 0.02  # the steps did move it


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_float16_adam_keeps_eps_where_torch_loses_it(name):
    # docs/guide/differences.md: torch's float16 denominator rounds eps=1e-8 to 0, so a zero
    # gradient divides 0 by 0 (NaN) and a tiny one gives inf; ours adds eps in float32
    p = mg.tensor(np.array([1.0, -1.0, 0.5], np.float16), requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.01)
    p.grad = mg.tensor(np.array([1e-4, -2e-4, 0.0], np.float16))
    opt.step()
    # the zero gradient's moment stays 0: 0 / (0 + eps) moves nothing (AdamW's decay of
    # 0.5 by lr * 0.01 is under float16's resolution)
    assert np.isfinite(p.numpy()).all() and p.numpy()[2] == 0.5
    assert p.numpy()[0] < 1.0 and p.numpy()[1] > -1.0
