"""The ReLU rescaling (Dinh et al. 2017): same function, naive sharpness moves,
invariant measures do not."""

from __future__ import annotations

import pytest
import torch

from genlab.measures import (
    HessianOperator,
    cross_entropy_loss,
    filter_normalized_sharpness,
    homogeneous_pairs,
    pac_bayes_sigma,
    rescale_relu,
    top_eigen,
)
from genlab.models import MLP, MnistCNN

ALPHAS = (1e-2, 1e-1, 1.0, 1e1, 1e2)


def _small_cnn():
    return MnistCNN(0, channels=2, hidden=6, num_classes=3, image_size=8).double()


def test_homogeneous_pairs():
    assert homogeneous_pairs(MnistCNN(0)) == [("0", "4"), ("4", "6")]
    assert homogeneous_pairs(MLP(4, [3, 3], 2)) == [("1", "3"), ("3", "5")]
    assert homogeneous_pairs(MLP(4, [3, 3], 2, batch_norm=True)) == []  # BN breaks it
    assert homogeneous_pairs(MLP(4, [3], 2, activation=torch.nn.Tanh)) == []


@pytest.mark.parametrize("alpha", ALPHAS)
def test_rescaled_network_computes_same_function(alpha):
    x = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model = _small_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = model(x)
    for first, second in homogeneous_pairs(model):
        scaled = rescale_relu(model, first, second, alpha)
        torch.testing.assert_close(scaled(x), out, rtol=1e-6, atol=1e-6 * float(out.abs().max()))
        w = scaled.state_dict()[f"{first}.weight"]
        assert torch.allclose(w, alpha * before[f"{first}.weight"])
    for k, v in model.state_dict().items():  # the original is untouched
        assert torch.equal(v, before[k])


def test_rescale_rejects_bad_arguments():
    model = _small_cnn()
    with pytest.raises(ValueError, match="alpha"):
        rescale_relu(model, "0", "4", 0.0)
    with pytest.raises(ValueError, match="not a Linear/Conv"):
        rescale_relu(model, "1", "4", 2.0)


def test_naive_lambda_max_moves_invariant_measures_do_not(make_data):
    x, y = make_data(n=32)
    data = (x, y)
    model = MLP(5, [8], 3, seed=0).double()
    lam, fns, sig = [], [], []
    for alpha in ALPHAS:
        m = rescale_relu(model, "1", "3", alpha)
        lam.append(float(top_eigen(HessianOperator(m, cross_entropy_loss, data), k=1).values[0]))
        fns.append(filter_normalized_sharpness(
            m, cross_entropy_loss, data, generator=torch.Generator().manual_seed(0),
            radius=0.5, num_directions=4, num_points=5))
        sig.append(pac_bayes_sigma(m, cross_entropy_loss, data, target=0.05, magnitude_aware=True,
                                   eps=0.0, num_samples=4, iters=20,
                                   generator=torch.Generator().manual_seed(0)))
    assert max(lam) / min(lam) >= 100  # naive sharpness: orders of magnitude
    ref = fns[ALPHAS.index(1.0)]
    assert ref.value > 0
    for est in fns:
        assert est.value == pytest.approx(ref.value, rel=1e-2)
    ref_sigma = sig[ALPHAS.index(1.0)].sigma
    for fl in sig:
        assert fl.sigma == pytest.approx(ref_sigma, rel=1e-2)
