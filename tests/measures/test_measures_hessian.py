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
from genlab.models import MLP


def _vec(n: int, seed: int = 3) -> torch.Tensor:
    return torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("method", ["graph", "fwd", "rev", "auto", "linearize"])
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
    for method in ("graph", "fwd", "rev", "linearize"):
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


def _mse(out, batch):
    return F.mse_loss(out, batch[1])


def _regression(make_data):
    x, _ = make_data()
    y = torch.randn(x.shape[0], 3, generator=torch.Generator().manual_seed(4),
                    dtype=torch.float64)
    return x, y


@pytest.mark.parametrize("method", ["graph", "fwd", "rev", "auto"])
def test_hvp_with_mse_loss(method, make_mlp, make_data, exact_hessian):
    """F.mse_loss's double-backward rule divides its target's tangent in place: the
    forward-mode paths give float batch tensors explicit zero tangents."""
    model, data = make_mlp(), _regression(make_data)
    H = exact_hessian(model, _mse, data)
    v = _vec(H.shape[0])
    torch.testing.assert_close(hvp(model, _mse, data, v, method=method), H @ v,
                               rtol=1e-10, atol=1e-12)


_LINEARIZE_MSE = """
import torch, torch.nn.functional as F
from genlab.measures import HessianOperator
from genlab.models import MLP
model = MLP(5, [6, 4], 3, seed=1).double()
g = torch.Generator().manual_seed(0)
x = torch.randn(24, 5, generator=g, dtype=torch.float64)
y = torch.randn(24, 3, generator=g, dtype=torch.float64)
loss = lambda out, b: F.mse_loss(out, b[1])
v = torch.randn(sum(p.numel() for p in model.parameters()), generator=g, dtype=torch.float64)
lin = HessianOperator(model, loss, (x, y), method="linearize")
ref = HessianOperator(model, loss, (x, y), method="rev")
print(lin.method, float((lin.matvec(v) - ref.matvec(v)).abs().max()))
"""


def test_linearize_with_mse_loss_in_a_subprocess():
    """torch.func.linearize crashed the process (segmentation fault) on F.mse_loss's
    constant target; run it apart so that a regression fails one test, not the suite."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", _LINEARIZE_MSE], capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    method, err = out.stdout.split()
    assert method == "linearize" and float(err) < 1e-12


def test_ggn_with_mse_loss(make_mlp, make_data):
    model, data = make_mlp(), _regression(make_data)
    G = _explicit_ggn(model, _mse, data)
    v = _vec(G.shape[0])
    torch.testing.assert_close(ggn_vp(model, _mse, data, v), G @ v, rtol=1e-10, atol=1e-12)
    linear = torch.nn.Linear(5, 3).double()  # H = GGN for a linear model and squared loss
    n = sum(p.numel() for p in linear.parameters())
    torch.testing.assert_close(ggn_vp(linear, _mse, data, _vec(n)),
                               hvp(linear, _mse, data, _vec(n)), rtol=1e-10, atol=1e-12)


def test_linearize_falls_back_with_a_warning_and_fwd_refuses(make_mlp, make_data,
                                                            exact_hessian):
    """huber_loss has no forward-mode double-backward rule (torch 2.13)."""
    def huber(out, batch):
        return F.huber_loss(out, batch[1], delta=0.5)

    model, data = make_mlp(), _regression(make_data)
    H = exact_hessian(model, huber, data)
    v = _vec(H.shape[0])
    op = HessianOperator(model, huber, data, method="linearize")
    with pytest.warns(UserWarning, match="linearize"):
        torch.testing.assert_close(op @ v, H @ v, rtol=1e-10, atol=1e-12)
    assert op.method == "rev"
    with pytest.raises((RuntimeError, NotImplementedError)):
        hvp(model, huber, data, v, method="fwd")
    torch.testing.assert_close(hvp(model, huber, data, v), H @ v, rtol=1e-10, atol=1e-12)


def test_kept_graph_follows_in_place_weight_updates(make_mlp, make_data, exact_hessian):
    model, data = make_mlp(), make_data()
    op = HessianOperator(model, cross_entropy_loss, data)
    assert op.method == "graph"
    v = _vec(op.dim)
    op.matvec(v)
    with torch.no_grad():  # an optimizer step
        for p in model.parameters():
            p.mul_(1.5)
    H = exact_hessian(model, cross_entropy_loss, data)
    torch.testing.assert_close(op.matvec(v), H @ v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", ["graph", "fwd"])
def test_gradient_of_the_operator(method, make_mlp, make_data):
    model, (x, y) = make_mlp(), make_data()
    batches = [(x[:10], y[:10]), (x[10:], y[10:])]
    op = HessianOperator(model, cross_entropy_loss, batches if method == "fwd" else (x, y),
                         method=method)
    model.zero_grad()
    cross_entropy_loss(model(x), (x, y)).backward()
    expected = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    model.zero_grad(set_to_none=True)
    torch.testing.assert_close(op.gradient(), expected, rtol=1e-10, atol=1e-12)


def test_operators_are_linear_operators(make_mlp, make_data, exact_hessian):
    """shape, @ with a vector and a matrix, and scipy's eigsh on to_scipy()."""
    from scipy.sparse.linalg import eigsh

    from genlab.measures import LinearOperatorLike, MatrixOperator

    model, data = make_mlp(), make_data()
    H = exact_hessian(model, cross_entropy_loss, data)
    G = _explicit_ggn(model, cross_entropy_loss, data)
    n = H.shape[0]
    V = torch.randn(n, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    cases = [(HessianOperator(model, cross_entropy_loss, data), H),
             (GaussNewtonOperator(model, cross_entropy_loss, data), G),
             (MatrixOperator(H), H)]
    for op, M in cases:
        assert isinstance(op, LinearOperatorLike) and op.shape == (n, n)
        torch.testing.assert_close(op @ V[:, 0], M @ V[:, 0], rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(op @ V, M @ V, rtol=1e-10, atol=1e-12)
        values = eigsh(op.to_scipy(), k=4, which="LA", tol=1e-12)[0]
        exact = torch.linalg.eigvalsh(M).flip(0)[:4].numpy()
        assert abs(sorted(values, reverse=True) - exact).max() <= 1e-9 * abs(exact[0])
    with pytest.raises(ValueError, match="matrix"):
        cases[0][0] @ torch.zeros(n + 1, 2, dtype=torch.float64)


def test_to_scipy_converts_float32_at_the_boundary(make_data):
    from scipy.sparse.linalg import eigsh

    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    x, y = make_data()
    data = (x.float(), y)
    op = HessianOperator(model, cross_entropy_loss, data)
    A = op.to_scipy()
    assert A.dtype == "float64" and (A @ _vec(op.dim).numpy()).dtype == "float64"
    top = eigsh(A, k=1, which="LA", tol=1e-10)[0][0]
    twin = HessianOperator(model.double(), cross_entropy_loss, (x, y))
    exact = float(torch.linalg.eigvalsh(torch.stack([twin @ e for e in
                                                     torch.eye(op.dim, dtype=torch.float64)]))[-1])
    assert abs(top - exact) <= 1e-5 * abs(exact)


def _output_curvature_term(model, loss_fn, data) -> torch.Tensor:
    """Σ_{b,c} ∂L/∂f_bc ∇²_w f_bc exactly: the Hessians of every output (torch.func)
    weighted by the loss gradient in the outputs."""
    f = FunctionalLoss(model, loss_fn, data)
    w0 = flatten(f.params)
    out_fn = lambda w: f.outputs(unflatten(w, f.params), data).reshape(-1)  # noqa: E731
    out0 = f.outputs(f.params, data)
    d_out = torch.func.grad(lambda o: loss_fn(o, data))(out0).reshape(-1)  # (B·C,)
    hessians = torch.func.jacfwd(torch.func.jacrev(out_fn))(w0)  # (B·C, n, n)
    return torch.einsum("o,oij->ij", d_out, hessians)


@pytest.mark.parametrize("loss_name", ["cross_entropy", "mse"])
def test_hessian_is_ggn_plus_output_curvature_term(loss_name, make_data, exact_hessian):
    """H = Jᵀ H_out J + Σ_c ∂ℓ/∂f_c ∇²f_c, each term computed independently."""
    model = MLP(5, [4], 3, seed=2, activation=torch.nn.Tanh).double()  # curved f: R ≠ 0
    loss = cross_entropy_loss if loss_name == "cross_entropy" else _mse
    data = make_data() if loss_name == "cross_entropy" else _regression(make_data)
    H = exact_hessian(model, loss, data)
    G = _explicit_ggn(model, loss, data)
    R = _output_curvature_term(model, loss, data)
    torch.testing.assert_close(H, G + R, rtol=1e-10, atol=1e-12)
    assert R.abs().max() > 1e-3 * H.abs().max()  # the term is not negligible here
    op = GaussNewtonOperator(model, loss, data)
    G_op = torch.stack([op @ e for e in torch.eye(op.dim, dtype=torch.float64)], 1)
    torch.testing.assert_close(G_op, G, rtol=1e-10, atol=1e-12)
    H_op = HessianOperator(model, loss, data) @ torch.eye(op.dim, dtype=torch.float64)
    torch.testing.assert_close(H_op - G_op, R, rtol=1e-9, atol=1e-11)
