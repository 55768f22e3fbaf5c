"""HVP and GGN products against the full float64 Hessian / explicit Jacobians."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genlab.measures import (
    GaussNewtonOperator,
    HessianOperator,
    cross_entropy_loss,
    flatten,
    ggn_vp,
    hvp,
    select_params,
    unflatten,
)
from genlab.measures._func import FunctionalLoss


def _vec(n: int, seed: int = 3) -> torch.Tensor:
    return torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("method", ["fwd", "rev", "auto", "linearize"])
def test_hvp_equals_full_hessian_times_v(method, make_mlp, make_data, exact_hessian):
    model, data = make_mlp(), make_data()
    H = exact_hessian(model, cross_entropy_loss, data)
    v = _vec(H.shape[0])
    hv = hvp(model, cross_entropy_loss, data, v, method=method)
    torch.testing.assert_close(hv, H @ v, rtol=1e-10, atol=1e-12)


def test_hvp_dict_form_matches_flat_form(make_mlp, make_data):
    model, data = make_mlp(), make_data()
    params = select_params(model)
    v = _vec(flatten(params).numel())
    out = hvp(model, cross_entropy_loss, data, unflatten(v, params))
    assert set(out) == set(params)
    torch.testing.assert_close(flatten(out), hvp(model, cross_entropy_loss, data, v))


def test_hvp_over_batches_is_size_weighted_average(make_mlp, make_data, exact_hessian):
    model, (x, y) = make_mlp(), make_data(n=30)
    batches = [(x[:7], y[:7]), (x[7:20], y[7:20]), (x[20:], y[20:])]
    H = exact_hessian(model, cross_entropy_loss, (x, y))  # the full-data Hessian
    v = _vec(H.shape[0])
    for method in ("fwd", "linearize"):
        op = HessianOperator(model, cross_entropy_loss, batches, method=method)
        for _ in range(2):  # the linearized traces are reused
            torch.testing.assert_close(op.matvec(v), H @ v, rtol=1e-10, atol=1e-12)
    gen = (b for b in batches)  # a one-shot iterable works too
    torch.testing.assert_close(hvp(model, cross_entropy_loss, gen, v), H @ v,
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("subset", ["3", ["1.weight", "5.bias"]])
def test_hvp_on_parameter_subset(subset, make_mlp, make_data, exact_hessian):
    model, data = make_mlp(), make_data()
    H = exact_hessian(model, cross_entropy_loss, data, params=subset)
    n = sum(p.numel() for p in select_params(model, subset).values())
    assert H.shape == (n, n)
    v = _vec(n)
    torch.testing.assert_close(hvp(model, cross_entropy_loss, data, v, params=subset), H @ v,
                               rtol=1e-10, atol=1e-12)


def test_hvp_on_dict_batches_and_custom_loss(make_mlp, make_data, exact_hessian):
    model, (x, y) = make_mlp(), make_data()
    batch = {"image": x, "target": F.one_hot(y, 3).double()}
    loss = lambda out, b: ((out - b["target"]) ** 2).sum(dim=1).mean()  # noqa: E731
    kwargs = dict(inputs=lambda b: b["image"])
    H = exact_hessian(model, loss, batch, **kwargs)
    v = _vec(H.shape[0])
    torch.testing.assert_close(hvp(model, loss, batch, v, **kwargs), H @ v,
                               rtol=1e-10, atol=1e-12)


def test_hvp_train_mode_batchnorm_keeps_buffers_and_mode(make_mlp, make_data, exact_hessian):
    model, data = make_mlp(batch_norm=True), make_data()
    model.eval()
    before = {n: b.clone() for n, b in model.named_buffers()}
    H = exact_hessian(model, cross_entropy_loss, data, train_mode=True, loop=True)
    v = _vec(H.shape[0])
    for method in ("fwd", "rev", "linearize"):
        hv = hvp(model, cross_entropy_loss, data, v, train_mode=True, method=method)
        torch.testing.assert_close(hv, H @ v, rtol=1e-10, atol=1e-12)
    assert not model.training
    for n, b in model.named_buffers():
        assert torch.equal(b, before[n]), n


def test_invalid_method_and_subset_raise(make_mlp, make_data):
    model, data = make_mlp(), make_data()
    with pytest.raises(ValueError, match="method"):
        HessianOperator(model, cross_entropy_loss, data, method="newton")
    with pytest.raises(ValueError, match="no parameter"):
        HessianOperator(model, cross_entropy_loss, data, params="nonexistent")


def _explicit_ggn(model, loss_fn, data) -> torch.Tensor:
    """Jᵀ H_out J from the full Jacobian (B·C, n) and output Hessian (B·C, B·C)."""
    f = FunctionalLoss(model, loss_fn, data)
    w0 = flatten(f.params)
    out_fn = lambda w: f.outputs(unflatten(w, f.params), data).reshape(-1)  # noqa: E731
    J = torch.func.jacrev(out_fn)(w0)  # (B·C, n)
    out0 = out_fn(w0)
    shape = f.outputs(f.params, data).shape
    H_out = torch.func.hessian(lambda o: loss_fn(o.reshape(shape), data))(out0)  # (B·C, B·C)
    return J.T @ H_out @ J


def test_ggn_product_equals_explicit_jt_h_j(make_mlp, make_data):
    model, data = make_mlp(), make_data()
    G = _explicit_ggn(model, cross_entropy_loss, data)
    v = _vec(G.shape[0])
    torch.testing.assert_close(ggn_vp(model, cross_entropy_loss, data, v), G @ v,
                               rtol=1e-10, atol=1e-12)
    assert torch.linalg.eigvalsh(G).min() > -1e-10  # PSD for softmax cross-entropy
    op = GaussNewtonOperator(model, cross_entropy_loss, [data, data])
    torch.testing.assert_close(op.matvec(v), G @ v, rtol=1e-10, atol=1e-12)


def test_ggn_equals_hessian_for_linear_model_squared_loss(make_data):
    model = torch.nn.Linear(5, 2).double()
    x, _ = make_data()
    y = torch.randn(x.shape[0], 2, dtype=torch.float64)
    loss = lambda out, b: 0.5 * ((out - b[1]) ** 2).sum(dim=1).mean()  # noqa: E731
    v = _vec(12)
    torch.testing.assert_close(ggn_vp(model, loss, (x, y), v), hvp(model, loss, (x, y), v))
