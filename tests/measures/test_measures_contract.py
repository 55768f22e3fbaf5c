"""One test walks every measure: finite output of the right shape, the same result
for the same generator, and the model (parameters, buffers, mode) left unchanged."""

from __future__ import annotations

import pytest
import torch

import genlab.measures as M
from genlab.models import MLP

N_PARAMS = 5 * 6 + 6 + 6 + 6 + 6 * 3 + 3  # Linear, BatchNorm (affine), Linear


def _model() -> MLP:
    model = MLP(5, [6], 3, seed=0, batch_norm=True).double()
    g = torch.Generator().manual_seed(9)
    with torch.no_grad():  # non-trivial running statistics, then back to train mode
        model.train()(torch.randn(32, 5, generator=g, dtype=torch.float64) * 2 + 1)
    return model


def _data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(20, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (20,), generator=g)
    return [(x[:12], y[:12]), (x[12:], y[12:])]


L = M.cross_entropy_loss
V = torch.linspace(-1, 1, N_PARAMS, dtype=torch.float64)

# name -> (call(model, data, generator), function turning the result into tensors, shape)
MEASURES = {
    "hvp_eval": (lambda m, d, g: M.hvp(m, L, d, V), lambda r: r, (N_PARAMS,)),
    "hvp_train": (lambda m, d, g: M.hvp(m, L, d, V, train_mode=True, method="rev"), lambda r: r,
                  (N_PARAMS,)),
    "ggn_vp": (lambda m, d, g: M.ggn_vp(m, L, d, V, train_mode=True), lambda r: r, (N_PARAMS,)),
    "top_eigen": (lambda m, d, g: M.top_eigen(M.HessianOperator(m, L, d), k=2, generator=g),
                  lambda r: r.values, (2,)),
    "top_eigen_linearize": (lambda m, d, g: M.top_eigen(M.HessianOperator(
        m, L, d, method="linearize", train_mode=True), k=2, generator=g), lambda r: r.values, (2,)),
    "power_iteration": (lambda m, d, g: M.power_iteration(M.HessianOperator(m, L, d), k=2,
                                                          generator=g, max_iter=30),
                        lambda r: r.values, (2,)),
    "hutchinson": (lambda m, d, g: M.hutchinson_trace(M.HessianOperator(m, L, d), 6, generator=g),
                   lambda r: torch.tensor([r.value, r.stderr]), (2,)),
    "hutchpp": (lambda m, d, g: M.hutchpp_trace(M.HessianOperator(m, L, d), 9, generator=g),
                lambda r: torch.tensor([r.value, r.stderr]), (2,)),
    "slq": (lambda m, d, g: M.spectral_density(M.HessianOperator(m, L, d), 2, 5, generator=g,
                                               grid_size=50), lambda r: r.density, (50,)),
    "eps_sharpness": (lambda m, d, g: M.epsilon_sharpness(m, L, d, max_iter=3, generator=g),
                      lambda r: torch.tensor([r.value]), (1,)),
    "eps_sharpness_subspace": (lambda m, d, g: M.epsilon_sharpness(
        m, L, d, subspace_dim=4, max_iter=3, method="pgd", generator=g),
        lambda r: torch.tensor([r.value]), (1,)),
    "pac_bayes": (lambda m, d, g: M.pac_bayes_sigma(m, L, d, num_samples=2, iters=4, generator=g),
                  lambda r: torch.tensor([r.sigma, r.stderr]), (2,)),
    "pac_bayes_magnitude": (lambda m, d, g: M.pac_bayes_sigma(
        m, L, d, magnitude_aware=True, num_samples=2, iters=4, generator=g, train_mode=True),
        lambda r: torch.tensor([r.sigma, r.increase]), (2,)),
    "filter_sharpness": (lambda m, d, g: M.filter_normalized_sharpness(
        m, L, d, generator=g, num_directions=2, num_points=3),
        lambda r: torch.tensor([r.value, r.stderr]), (2,)),
    "slice_2d": (lambda m, d, g: M.loss_slice_2d(
        m, L, d, (M.filter_normalized_direction(m, generator=g),) * 2,
        torch.linspace(-1, 1, 3), torch.linspace(-1, 1, 2)), lambda r: r, (3, 2)),
    "interpolate": (lambda m, d, g: M.interpolate(m, MLP(5, [6], 3, seed=g.initial_seed(),
                                                         batch_norm=True).double(),
                                                  L, d, torch.linspace(0, 1, 4),
                                                  metrics={"acc": M.accuracy}),
                    lambda r: torch.stack([r.loss, r.metrics["acc"]]), (2, 4)),
    "per_sample": (lambda m, d, g: M.per_sample_grads(m, L, d[0]),
                   lambda r: torch.cat([t.reshape(12, -1) for t in r.values()], 1),
                   (12, N_PARAMS)),
    "gradient_moments": (lambda m, d, g: M.gradient_moments(m, L, d),
                         lambda r: torch.cat([r.mean, torch.tensor([r.trace_cov])]),
                         (N_PARAMS + 1,)),
    "fisher_centered": (lambda m, d, g: M.fisher_vp(m, L, d, V, centered=True), lambda r: r,
                        (N_PARAMS,)),
    "network_spectrum": (lambda m, d, g: M.network_spectrum(m, d[0][0], train_mode=True),
                         lambda r: r, (3, 7)),
    "layer_spectral_norms": (lambda m, d, g: M.layer_spectral_norms(m, generator=g, tol=1e-4),
                             lambda r: torch.tensor(list(r.values())), (2,)),
    "class_means": (lambda m, d, g: M.class_mean_gradients(m, L, d),
                    lambda r: r.gradients, (3, N_PARAMS)),
    "top_eigen_ggn": (lambda m, d, g: M.top_eigen(M.GaussNewtonOperator(m, L, d), k=2,
                                                  generator=g), lambda r: r.values, (2,)),
    "rescale": (lambda m, d, g: M.rescale_relu(m, "1", "4", 3.0),
                lambda r: M.flatten(M.select_params(r)), (N_PARAMS,)),
}


@pytest.mark.parametrize("name", sorted(MEASURES))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_measure_contract(name, mode):
    call, tensors, shape = MEASURES[name]
    model, data = _model(), _data()
    model.train(mode == "train")
    model[2].eval() if mode == "train" else model[2].train()  # mixed flags must survive too
    flags = [m.training for m in model.modules()]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    first = tensors(call(model, data, torch.Generator().manual_seed(3)))
    second = tensors(call(model, data, torch.Generator().manual_seed(3)))
    assert first.shape == shape
    assert torch.isfinite(first).all()
    assert torch.equal(first, second)
    assert [m.training for m in model.modules()] == flags
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert all(p.grad is None for p in model.parameters())


def test_public_surface_is_re_exported():
    import importlib

    subs = ("_func", "fisher", "hessian", "spectrum", "sharpness", "landscape", "rescale",
            "per_sample", "critical", "frequency", "lipschitz", "linop", "eigen", "subspace",
            "filtering")
    for sub in subs:
        module = importlib.import_module(f"genlab.measures.{sub}")
        missing = set(module.__all__) - set(M.__all__)
        assert not missing, (sub, missing)
    assert all(hasattr(M, name) for name in M.__all__)
