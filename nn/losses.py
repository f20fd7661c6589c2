"""The rest of ``torch.nn``'s losses: margin and embedding losses, Poisson and Gaussian negative
log likelihoods, connectionist temporal classification, as functions (``nn.functional``'s
names and arguments) and as modules (``nn``'s).

Each function is a composite of minigrad's differentiable ops, written as PyTorch's formula
reads (ATen's ``Loss.cpp``), so its gradient, and its gradient's gradient, come from the ops'
own backward. Where PyTorch's formula overflows and a stable one gives the same value
(``soft_margin_loss``) the stable one is used; README's "Differences from PyTorch" says where.

Reductions, as PyTorch's: ``"mean"`` (of all elements, NaN for none), ``"sum"``, ``"none"``.

Owns: these losses. May import: minigrad's public API, ``nn.attention`` (pairwise distance),
``nn.module``. (``nn.functional`` re-exports the functions; ``nn.layers`` holds the modules of
its own losses.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import minigrad as mg
from minigrad.errors import ShapeError
from minigrad.ops import softplus
from minigrad.tensor import Tensor
from nn.attention import pairwise_distance
from nn.module import Module

_COSINE_EPS = 1e-12  # ATen's EPSILON in cosine_embedding_loss: keeps |x| > 0 under the sqrt


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduced(loss: Tensor, reduction: str) -> Tensor:
    """PyTorch's ``apply_loss_reduction``."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _require_float(name: str, **tensors: Tensor) -> None:
    for what, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{name}: {what} must be a floating point tensor, got {t.dtype}")


def _same_ndim(name: str, **tensors: Tensor) -> None:
    dims = {what: t.ndim for what, t in tensors.items()}
    if len(set(dims.values())) > 1:
        sizes = ", ".join(f"{what} {tuple(t.shape)}" for what, t in tensors.items())
        raise ShapeError(f"{name}: the inputs must have the same number of dims, got {sizes}")


def _broadcast(name: str, *tensors: tuple[str, Tensor]) -> None:
    """Refuse operands that do not broadcast together, naming their shapes."""
    try:
        mg.broadcast_shapes(*(tuple(t.shape) for _, t in tensors))
    except (ValueError, RuntimeError):
        sizes = ", ".join(f"{what} {tuple(t.shape)}" for what, t in tensors)
        raise ShapeError(f"{name}: shapes do not broadcast: {sizes}") from None


# -- margin losses ----------------------------------------------------------------------------


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    *,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: ``y = 1`` asks for ``x1`` ranked above ``x2``.

    Shapes: input1, input2, target with the same number of dims, broadcasting -> () or the
    broadcast shape (``"none"``).
    """
    _check_reduction("margin_ranking_loss", reduction)
    _require_float("margin_ranking_loss", input1=input1, input2=input2, target=target)
    _same_ndim("margin_ranking_loss", input1=input1, input2=input2, target=target)
    _broadcast("margin_ranking_loss", ("input1", input1), ("input2", input2), ("target", target))
    return _reduced((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    margin: float = 1.0,
    *,
    reduction: str = "mean",
) -> Tensor:
    """``x`` where ``y = 1``, ``max(0, margin - x)`` where ``y = -1`` (a distance ``x`` and
    whether the pair is alike). As PyTorch's, a target that is neither adds both terms.

    Shapes: input (*), target broadcasting with it -> () or (*) (``"none"``).
    """
    _check_reduction("hinge_embedding_loss", reduction)
    _require_float("hinge_embedding_loss", input=input)
    _broadcast("hinge_embedding_loss", ("input", input), ("target", target))
    zeros = mg.zeros_like(input)
    margin_term = mg.where(target != 1, (margin - input).clamp(min=0), zeros)
    input_term = mg.where(target != -1, input, zeros)
    return _reduced(margin_term + input_term, reduction)


def soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    *,
    reduction: str = "mean",
) -> Tensor:
    """The two-class logistic loss ``log(1 + exp(-y x))`` (targets 1 or -1), as
    ``softplus(-y x)``: PyTorch's ``log1p(exp(.))`` overflows to inf (and its gradient to NaN)
    past ``-y x`` of about 88 in float32, where this gives ``-y x``.

    Shapes: input (*), target broadcasting with it -> () or (*) (``"none"``).
    """
    _check_reduction("soft_margin_loss", reduction)
    _require_float("soft_margin_loss", input=input)
    _broadcast("soft_margin_loss", ("input", input), ("target", target))
    # d/dx = -y sigmoid(-y x)
    return _reduced(softplus(-input * target, threshold=math.inf), reduction)


def _class_rows(name: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:  # noqa: A002
    """A (C,) or (N, C) input as (N, C) rows; the target as (N,) or (N, C) to match."""
    if input.ndim not in (1, 2):
        raise ShapeError(f"{name}: input must be (C,) or (N, C), got {tuple(input.shape)}")
    if input.ndim == 1:
        return input.unsqueeze(0), target.reshape(1, *target.shape)
    return input, target


def _check_class_ids(name: str, ids: Tensor, low: int, classes: int) -> None:
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class ids, got {ids.dtype}")
    if not ids.numel():
        return
    smallest, largest = ids.min().item(), ids.max().item()
    if smallest < low or largest >= classes:
        raise IndexError(
            f"{name}: target ids must be in [{low}, {classes}), got values in "
            f"[{smallest}, {largest}]"
        )


def multi_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """The multi-class hinge loss: for each sample, ``sum_{i != y} max(0, margin - x[y] +
    x[i])^p / C``, each term times ``weight[y]`` if given; ``p`` is 1 or 2.

    Shapes: input (N, C) or (C,), target (N,) or () class ids, weight (C,) -> () or (N,) (or ()
    for a (C,) input, ``"none"``).
    """
    name = "multi_margin_loss"
    _check_reduction(name, reduction)
    if p not in (1, 2):
        raise ValueError(f"{name}: p must be 1 or 2, got {p}")
    _require_float(name, input=input)
    rows, ids = _class_rows(name, input, target)
    n, classes = rows.shape
    if tuple(ids.shape) != (n,):
        raise ShapeError(
            f"{name}: target must have shape {(n,) if input.ndim == 2 else ()} for an input of "
            f"shape {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    _check_class_ids(name, ids, 0, classes)
    ids = ids.long()
    picked = rows.gather(1, ids.unsqueeze(1))  # x[y], (N, 1)
    others = mg.arange(classes, device=input.device) != ids.unsqueeze(1)  # i != y, (N, C)
    hinge = (margin - picked + rows).relu()  # > 0 only: ATen's kernel skips z <= 0
    terms = hinge if p == 1 else hinge * hinge
    if weight is not None:
        if not isinstance(weight, Tensor) or tuple(weight.shape) != (classes,):
            raise ShapeError(
                f"{name}: weight must be a tensor of shape ({classes},), got "
                f"{tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}"
            )
        terms = terms * weight[ids].unsqueeze(1)
    loss = mg.where(others, terms, mg.zeros_like(terms)).sum(1) / classes  # (N,)
    return _reduced(loss if input.ndim == 2 else loss.reshape(()), reduction)


def multilabel_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    *,
    reduction: str = "mean",
) -> Tensor:
    """The multi-label hinge loss. Each row of ``target`` lists the sample's classes and ends
    at its first -1; the loss is ``sum_{j in targets, i not in targets} max(0, 1 - (x[j] -
    x[i])) / C``.

    Shapes: input (N, C) or (C,), target of the same shape (int64) -> () or (N,) (or ()).
    """
    name = "multilabel_margin_loss"
    _check_reduction(name, reduction)
    _require_float(name, input=input)
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(
            f"{name}: target must have the input's shape {tuple(input.shape)}, got "
            f"{tuple(target.shape)}"
        )
    rows, ids = _class_rows(name, input, target)
    n, classes = rows.shape
    _check_class_ids(name, ids, -1, classes)
    ids = ids.long()
    # the ids before each row's first -1 count
    listed = (ids == -1).long().cumsum(1) == 0  # (N, C) over target positions
    safe = mg.where(listed, ids, mg.zeros_like(ids))
    classes_of = ids.unsqueeze(2) == mg.arange(classes, device=input.device)  # (N, j, C)
    is_target = (classes_of & listed.unsqueeze(2)).any(1)  # (N, C): a listed class
    picked = rows.gather(1, safe)  # x[target[j]], (N, C) over target positions
    hinge = (1 - picked.unsqueeze(2) + rows.unsqueeze(1)).relu()  # (N, j, i)
    pairs = listed.unsqueeze(2) & ~is_target.unsqueeze(1)  # j listed, i not a target
    loss = mg.where(pairs, hinge, mg.zeros_like(hinge)).sum((1, 2)) / classes  # (N,)
    return _reduced(loss if input.ndim == 2 else loss.reshape(()), reduction)


def multilabel_soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """One logistic loss per class, averaged over the classes: ``-mean_c(y_c log sigmoid(x_c)
    + (1 - y_c) log sigmoid(-x_c))``, each class's term times ``weight`` if given.

    Shapes: input (N, C), target (N, C) of 0s and 1s, weight broadcasting with (N, C) -> () or
    (N,) (``"none"``).
    """
    name = "multilabel_soft_margin_loss"
    _check_reduction(name, reduction)
    _require_float(name, input=input)
    if input.ndim == 0:
        raise ShapeError(f"{name}: input must have a class dim, got a 0-d tensor")
    _broadcast(name, ("input", input), ("target", target))
    log_p, log_not_p = -softplus(-input), -softplus(input)  # log sigmoid(+-x)
    loss = -(target * log_p + (1 - target) * log_not_p)
    if weight is not None:
        loss = loss * weight
    return _reduced(loss.sum(-1) / input.shape[-1], reduction)


# -- embedding losses -------------------------------------------------------------------------


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    *,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where ``y = 1``, ``max(0, cos(x1, x2) - margin)`` where ``y = -1``;
    0 for any other target. ``cos`` is ATen's: ``sum(x1 x2) / sqrt((|x1|^2 + 1e-12)(|x2|^2 +
    1e-12))``.

    Shapes: input1, input2 (N, D) with target (N,), or (D,) with a 0-d target -> () or (N,).
    """
    name = "cosine_embedding_loss"
    _check_reduction(name, reduction)
    _require_float(name, input1=input1, input2=input2)
    dim = target.ndim
    if dim not in (0, 1) or input1.ndim != dim + 1 or input2.ndim != dim + 1:
        raise ShapeError(
            f"{name}: expected inputs (N, D) with a target (N,), or (D,) with a 0-d target; got "
            f"input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)}, target "
            f"{tuple(target.shape)}"
        )
    _broadcast(name, ("input1", input1), ("input2", input2))
    dot = (input1 * input2).sum(dim)
    norms = ((input1 * input1).sum(dim) + _COSINE_EPS) * ((input2 * input2).sum(dim) + _COSINE_EPS)
    cos = dot / norms.sqrt()
    zeros = mg.zeros_like(cos)
    alike = mg.where(target == 1, 1 - cos, zeros)
    unlike = mg.where(target == -1, (cos - margin).clamp(min=0), zeros)
    return _reduced(alike + unlike, reduction)


def _triplet_checks(name: str, margin: float, reduction: str, **tensors: Tensor) -> None:
    _check_reduction(name, reduction)
    if not margin > 0:
        raise ValueError(f"{name}: margin must be > 0, got {margin}")
    _same_ndim(name, **tensors)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with the distance ``d`` (default
    ``pairwise_distance``); ``swap`` takes ``d(a, n)`` as ``min(d(a, n), d(p, n))``.

    Shapes: anchor, positive, negative with the same number of dims, e.g. (N, D) -> () or (N,).
    """
    name = "triplet_margin_with_distance_loss"
    _triplet_checks(name, margin, reduction, anchor=anchor, positive=positive, negative=negative)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(distance, anchor, positive, negative, margin, swap, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    *,
    reduction: str = "mean",
) -> Tensor:
    """``triplet_margin_with_distance_loss`` with the p-norm distance ``|x1 - x2 + eps|_p``.

    Shapes: anchor, positive, negative (N, D) or (D,) -> () or (N,) (or ()).
    """
    name = "triplet_margin_loss"
    _triplet_checks(name, margin, reduction, anchor=anchor, positive=positive, negative=negative)
    _require_float(name, anchor=anchor, positive=positive, negative=negative)
    if anchor.ndim not in (1, 2):
        raise ShapeError(f"{name}: inputs must be (N, D) or (D,), got {tuple(anchor.shape)}")

    def distance(x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, p, eps)

    return _triplet(distance, anchor, positive, negative, margin, swap, reduction)


def _triplet(
    distance: Callable[[Tensor, Tensor], Tensor],
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float,
    swap: bool,
    reduction: str,
) -> Tensor:
    near, far = distance(anchor, positive), distance(anchor, negative)
    if swap:
        far = mg.minimum(far, distance(positive, negative))
    return _reduced((margin + near - far).clamp(min=0), reduction)


# -- likelihoods ------------------------------------------------------------------------------


def poisson_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    *,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of ``target`` counts under Poisson rates: ``exp(x) - y x`` with
    ``log_input`` (x the log rate), else ``x - y log(x + eps)``; ``full`` adds Stirling's
    approximation of ``log(y!)``, ``y log y - y + log(2 pi y) / 2``, where ``y > 1``.

    Shapes: input (*), target broadcasting with it -> () or the broadcast shape.
    """
    name = "poisson_nll_loss"
    _check_reduction(name, reduction)
    _require_float(name, input=input)
    _broadcast(name, ("input", input), ("target", target))
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:  # (target 1 stands in where the term is 0, so that log(0) makes no NaN gradient)
        safe = mg.where(target > 1, target, mg.ones_like(target))
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + mg.where(target > 1, stirling, mg.zeros_like(stirling))
    return _reduced(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of ``target`` under normals of mean ``input`` and variance
    ``var``: ``(log(max(var, eps)) + (x - y)^2 / max(var, eps)) / 2``, plus ``log(2 pi) / 2``
    with ``full``. As PyTorch's, the clamp at ``eps`` is not differentiated (``var`` gets
    the gradient of the unclamped formula at the clamped value).

    Shapes: input (N, *), target like input, var like input, or input's shape without its
    last dim, or input's with one dim of size 1; a float var is the same everywhere.
    """
    name = "gaussian_nll_loss"
    _check_reduction(name, reduction)
    _require_float(name, input=input)
    if not isinstance(var, Tensor):
        if not var >= 0:
            raise ValueError(f"{name}: var has negative entries (got {var})")
        var = mg.full_like(input, float(var))
    elif (var < 0).any().item():
        raise ValueError(f"{name}: var has negative entries")
    var = _homoscedastic(name, input, var)
    _broadcast(name, ("input", input), ("target", target), ("var", var))
    with mg.no_grad():
        floor = (var.detach() < eps).to(var.dtype) * (eps - var.detach())
    var = var + floor  # max(var, eps) in value, the identity in gradient
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduced(loss, reduction)


def _homoscedastic(name: str, input: Tensor, var: Tensor) -> Tensor:  # noqa: A002
    """``var`` shaped to broadcast with ``input``, by PyTorch's rules (see the caller)."""
    shape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape == shape:
        return var
    if vshape == shape[:-1]:
        return var.unsqueeze(-1)
    if len(vshape) == len(shape) and sum(v for s, v in zip(shape, vshape) if s != v) == 1:
        return var
    raise ShapeError(f"{name}: var of shape {vshape} does not fit the input's {shape}")


# -- connectionist temporal classification ----------------------------------------------------


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """Connectionist temporal classification (Graves et al., 2006): ``-log`` of the total
    probability of every alignment of each target to its input, through the forward (alpha)
    recursion in log space over the target with blanks between and around its labels.

    ``"mean"`` divides each sample's loss by its target length (at least 1) and averages over
    the batch, as PyTorch's; ``zero_infinity`` gives 0 (and a zero gradient) for samples no
    alignment fits. The gradient is the loss's own, with respect to ``log_probs``; PyTorch's
    assumes ``log_probs`` came out of ``log_softmax`` and differs from it by ``exp(log_probs)``
    (the two agree on the gradient before that ``log_softmax``).

    Shapes: log_probs (T, N, C) or (T, C); targets (N, S) padded, or (sum(target_lengths),) the
    targets concatenated, or (S,) for unbatched log_probs; input_lengths, target_lengths (N,)
    (or 0-d / int unbatched) -> () or (N,) (``"none"``; () unbatched).
    """
    _check_reduction("ctc_loss", reduction)
    batched = log_probs.ndim == 3
    if not batched:
        log_probs = log_probs.unsqueeze(1)
    steps, n, classes = log_probs.shape
    in_len, tg_len = _ctc_lengths(log_probs, input_lengths, target_lengths, batched)
    labels = _ctc_labels(targets, tg_len, classes, blank, batched)  # n lists of 2 S_i + 1
    width = max(len(row) for row in labels) if labels else 1
    padded = [row + [blank] * (width - len(row)) for row in labels]
    index = mg.tensor(padded, dtype=mg.int64, device=log_probs.device)  # (N, L)
    # emissions: log p(the l-th extended label at t), (T, N, L)
    emit = log_probs.gather(2, index.unsqueeze(0).expand(steps, n, width))
    can_skip = mg.tensor(  # l may follow l - 2: a label other than the one two before
        [[s % 2 == 1 and s >= 2 and row[s] != row[s - 2] for s in range(width)] for row in padded],
        device=log_probs.device,
    )
    alphas = [_ctc_start(emit[0], tg_len)]
    for t in range(1, steps):
        alpha = alphas[-1]
        step = _shifted(alpha, 1)  # from l - 1
        skip = mg.where(can_skip, _shifted(alpha, 2), mg.full_like(alpha, -math.inf))
        alphas.append(_logsumexp3(alpha, step, skip) + emit[t])
    loss = _ctc_ends(mg.stack(alphas), in_len, tg_len)  # (N,)
    if zero_infinity:
        loss = mg.where(loss == math.inf, mg.zeros_like(loss), loss)
    if reduction == "mean":
        lengths = mg.tensor([max(k, 1) for k in tg_len], dtype=loss.dtype, device=loss.device)
        return (loss / lengths).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.reshape(())


def _shifted(alpha: Tensor, k: int) -> Tensor:
    """alpha moved k places along the labels, -inf coming in: (N, L) -> (N, L)."""
    fill = mg.full((alpha.shape[0], k), -math.inf, dtype=alpha.dtype, device=alpha.device)
    return mg.cat([fill, alpha[:, : alpha.shape[1] - k]], 1)


def _ctc_start(emit0: Tensor, tg_len: list[int]) -> Tensor:
    """alpha at t = 0: an alignment starts on the first blank, or on the first label."""
    starts = [[s == 0 or (s == 1 and k > 0) for s in range(emit0.shape[1])] for k in tg_len]
    start = mg.tensor(starts, device=emit0.device) if tg_len else mg.zeros_like(emit0).bool()
    return mg.where(start, emit0, mg.full_like(emit0, -math.inf))


def _logsumexp3(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """log(e^a + e^b + e^c), elementwise; -inf where all three are (no NaN, zero gradient)."""
    m = mg.maximum(mg.maximum(a, b), c).detach()
    finite = m > -math.inf
    m = mg.where(finite, m, mg.zeros_like(m))
    total = (a - m).exp() + (b - m).exp() + (c - m).exp()
    safe = mg.where(finite, total, mg.ones_like(total))
    return mg.where(finite, safe.log() + m, mg.full_like(m, -math.inf))


def _ctc_ends(alphas: Tensor, in_len: list[int], tg_len: list[int]) -> Tensor:
    """-log of the probability of the alignments that end, at each sample's last step, on its
    last label or on the blank after it. alphas (T, N, L) -> (N,); an empty input has only
    the empty alignment (probability 1 for an empty target, 0 otherwise)."""
    device, n = alphas.device, alphas.shape[1]
    rows = mg.arange(n, device=device)
    last_t = mg.tensor([max(k - 1, 0) for k in in_len], dtype=mg.int64, device=device)
    last = alphas[last_t, rows]  # (N, L) at each sample's last step
    on_blank = last[rows, mg.tensor([2 * k for k in tg_len], dtype=mg.int64, device=device)]
    on_label = last[rows, mg.tensor([max(2 * k - 1, 0) for k in tg_len], dtype=mg.int64)]
    none = mg.full_like(on_blank, -math.inf)
    has_label = mg.tensor([k > 0 for k in tg_len], device=device)
    log_p = _logsumexp3(on_blank, mg.where(has_label, on_label, none), none)
    empty = [0.0 if k == 0 else -math.inf for k in tg_len]  # log p of an empty input
    no_input = mg.tensor([k == 0 for k in in_len], device=device)
    log_p = mg.where(no_input, mg.tensor(empty, dtype=log_p.dtype, device=device), log_p)
    return -log_p


def _ctc_lengths(
    log_probs: Tensor, input_lengths: Any, target_lengths: Any, batched: bool
) -> tuple[list[int], list[int]]:
    """The lengths as lists of N ints, checked against log_probs (T, N, C)."""
    steps, n, _ = log_probs.shape
    if log_probs.dtype.kind != "f":
        raise TypeError(f"ctc_loss: log_probs must be floating point, got {log_probs.dtype}")
    in_len = _int_list(input_lengths, n, "input_lengths", batched)
    tg_len = _int_list(target_lengths, n, "target_lengths", batched)
    if any(not 0 <= k <= steps for k in in_len):
        raise ValueError(f"ctc_loss: input_lengths must be in [0, {steps}], got {in_len}")
    if any(k < 0 for k in tg_len):
        raise ValueError(f"ctc_loss: target_lengths must be >= 0, got {tg_len}")
    return in_len, tg_len


def _int_list(lengths: Any, n: int, what: str, batched: bool) -> list[int]:
    values = lengths.tolist() if isinstance(lengths, Tensor) else lengths
    if isinstance(values, int) and not batched:
        values = [values]
    elif not batched and isinstance(values, (list, tuple)) and len(values) == 1:
        values = list(values)
    if not isinstance(values, (list, tuple)) or len(values) != n:
        raise ShapeError(
            f"ctc_loss: {what} must hold {n} lengths (one per sample), got {lengths!r}"
        )
    if isinstance(lengths, Tensor) and lengths.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: {what} must be integers, got {lengths.dtype}")
    if not all(isinstance(k, int) for k in values):
        raise TypeError(f"ctc_loss: {what} must be integers, got {values!r}")
    return [int(k) for k in values]


def _ctc_labels(
    targets: Tensor, tg_len: list[int], classes: int, blank: int, batched: bool
) -> list[list[int]]:
    """Each target with a blank between and around its labels: n lists of 2 S_i + 1 ids."""
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: blank must be a class id in [0, {classes}), got {blank}")
    if targets.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: targets must hold integer labels, got {targets.dtype}")
    rows = targets.tolist()
    if not batched or targets.ndim == 1:
        flat = rows if targets.ndim == 1 else [k for row in rows for k in row]
        if not batched and targets.ndim == 2:
            raise ShapeError(f"ctc_loss: unbatched targets must be 1-D, got {tuple(targets.shape)}")
        if targets.ndim == 1 and batched and len(flat) != sum(tg_len):
            raise ShapeError(
                f"ctc_loss: concatenated targets hold {len(flat)} labels, target_lengths sum "
                f"to {sum(tg_len)}"
            )
        cuts = [sum(tg_len[:i]) for i in range(len(tg_len) + 1)] if batched else [0, tg_len[0]]
        if not batched and tg_len[0] > len(flat):
            raise ValueError(f"ctc_loss: target_lengths {tg_len[0]} > the {len(flat)} targets")
        rows = [flat[cuts[i] : cuts[i + 1]] for i in range(len(tg_len))]
    elif targets.ndim == 2:
        if len(rows) != len(tg_len) or any(k > targets.shape[1] for k in tg_len):
            raise ShapeError(
                f"ctc_loss: padded targets {tuple(targets.shape)} do not hold target_lengths "
                f"{tg_len}"
            )
        rows = [row[:k] for row, k in zip(rows, tg_len)]
    else:
        raise ShapeError(f"ctc_loss: targets must be 1-D or 2-D, got {tuple(targets.shape)}")
    labels = []
    for row in rows:
        if any(not 0 <= k < classes or k == blank for k in row):
            raise ValueError(
                f"ctc_loss: target labels must be class ids in [0, {classes}) other than the "
                f"blank {blank}, got {row}"
            )
        extended = [blank]
        for k in row:
            extended += [k, blank]
        labels.append(extended)
    return labels


# -- the modules ------------------------------------------------------------------------------
# PyTorch's deprecated ``size_average`` and ``reduce`` sit before ``reduction`` in most of its
# signatures: the arguments from there on are keywords here, so that no positional value means
# something else in each library.


class _Loss(Module):
    """A loss module: its ``reduction``, checked once here."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class _MarginLoss(_Loss):
    """A loss module with a ``margin`` (its default the subclass's ``default_margin``)."""

    default_margin = 0.0

    def __init__(self, margin: float | None = None, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = self.default_margin if margin is None else margin

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class MarginRankingLoss(_MarginLoss):
    """:func:`margin_ranking_loss` as a module: (x1, x2, y) -> () or the broadcast shape."""

    default_margin = 0.0

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """:func:`hinge_embedding_loss` as a module: (x, y) -> () or (*)."""

    default_margin = 1.0

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """:func:`soft_margin_loss` as a module: (x, y) -> () or (*)."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """:func:`multilabel_margin_loss` as a module: (N, C), (N, C) ids -> () or (N,)."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """:func:`multilabel_soft_margin_loss` as a module (``weight``: a buffer): (N, C), (N, C)
    -> () or (N,)."""

    def __init__(self, weight: Tensor | None = None, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiMarginLoss(_Loss):
    """:func:`multi_margin_loss` as a module (``weight``: a buffer): (N, C), (N,) -> () or
    (N,)."""

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        *,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        if weight is not None and weight.ndim != 1:
            raise ShapeError(f"MultiMarginLoss: weight must be 1-D, got {tuple(weight.shape)}")
        self.p, self.margin = p, margin
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return multi_margin_loss(
            input, target, self.p, self.margin, self.weight, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        return f"p={self.p}, margin={self.margin}, reduction={self.reduction!r}"


class CosineEmbeddingLoss(_MarginLoss):
    """:func:`cosine_embedding_loss` as a module: (N, D), (N, D), (N,) -> () or (N,)."""

    default_margin = 0.0

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """:func:`triplet_margin_loss` as a module: (N, D) three times -> () or (N,)."""

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        *,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginLoss: margin must be > 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
            reduction=self.reduction,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"margin={self.margin}, p={self.p}, eps={self.eps}, swap={self.swap}, "
            f"reduction={self.reduction!r}"
        )


class TripletMarginWithDistanceLoss(_Loss):
    """:func:`triplet_margin_with_distance_loss` as a module: (N, D) three times -> () or
    (N,)."""

    def __init__(
        self,
        *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be > 0, got {margin}")
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"margin={self.margin}, swap={self.swap}, reduction={self.reduction!r}"


class PoissonNLLLoss(_Loss):
    """:func:`poisson_nll_loss` as a module: (*), (*) -> () or (*)."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        *,
        eps: float = 1e-8,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        return f"log_input={self.log_input}, full={self.full}, reduction={self.reduction!r}"


class GaussianNLLLoss(_Loss):
    """:func:`gaussian_nll_loss` as a module: (input, target, var) -> () or (N, *)."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:  # noqa: A002
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)

    def extra_repr(self) -> str:
        return f"full={self.full}, eps={self.eps}, reduction={self.reduction!r}"


class CTCLoss(_Loss):
    """:func:`ctc_loss` as a module: (T, N, C) log-probabilities, targets, input and target
    lengths -> () or (N,)."""

    def __init__(
        self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
    ) -> None:
        super().__init__(reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(
        self,
        log_probs: Tensor,
        targets: Tensor,
        input_lengths: Tensor | Sequence[int],
        target_lengths: Tensor | Sequence[int],
    ) -> Tensor:
        return ctc_loss(
            log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
            self.zero_infinity,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"blank={self.blank}, reduction={self.reduction!r}, zero_infinity={self.zero_infinity}"
        )
