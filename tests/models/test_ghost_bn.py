import copy

import pytest
import torch
from torch import nn
from torch.func import functional_call, grad, jvp

from genlab.models import MLP, GhostBatchNorm1d, GhostBatchNorm2d, ghost_batch_norm

TOL = dict(rtol=1e-10, atol=1e-12)


def _ghost_order(n: int, g: int) -> list[torch.Tensor]:
    """The documented ghost batches: examples j, j + k, ... for j < k = n // g, then the rest."""
    k = n // g
    groups = [torch.arange(j, k * g, k) for j in range(k)]
    return groups + ([torch.arange(k * g, n)] if n % g else [])


def _chunked(bn: nn.Module, x: torch.Tensor, g: int) -> torch.Tensor:
    """Plain batch norm called once per ghost batch, in order; outputs put back in place."""
    groups = _ghost_order(len(x), g)
    out = torch.cat([bn(x[idx]) for idx in groups])
    return out[torch.argsort(torch.cat(groups))]


class _Chunked(nn.Module):
    """The reference as a module: ``bn`` applied ghost batch by ghost batch."""

    def __init__(self, bn: nn.Module, g: int):
        super().__init__()
        self.bn, self.g = bn, g

    def forward(self, x):
        return _chunked(self.bn, x, self.g)


def _pair(cls, c, g, **kw):
    """A ghost layer and a plain batch norm with the same random affine parameters."""
    torch.manual_seed(0)
    ghost = cls(c, ghost_batch_size=g, dtype=torch.float64, **kw)
    plain_cls = nn.BatchNorm1d if cls is GhostBatchNorm1d else nn.BatchNorm2d
    plain = plain_cls(c, dtype=torch.float64, **kw)
    if ghost.affine:
        with torch.no_grad():
            ghost.weight.uniform_(0.5, 2.0)
            ghost.bias.normal_()
    plain.load_state_dict(ghost.state_dict())
    return ghost, plain


CASES = [  # layer, input shape, ghost size: divisible, remainder, remainder of 1 with L > 1
    (GhostBatchNorm1d, (24, 5), 8), (GhostBatchNorm1d, (26, 5), 8),
    (GhostBatchNorm1d, (21, 3, 4), 5), (GhostBatchNorm2d, (18, 3, 4, 5), 4),
]
SETTINGS = [dict(), dict(momentum=None), dict(affine=False, track_running_stats=False)]


@pytest.mark.parametrize("cls,shape,g", CASES)
@pytest.mark.parametrize("settings", SETTINGS)
def test_equals_batch_norm_applied_ghost_batch_by_ghost_batch(cls, shape, g, settings):
    ghost, plain = _pair(cls, shape[1], g, **settings)
    for step in range(3):  # running statistics accumulate over steps
        x = (torch.randn(shape, dtype=torch.float64) * 3 + step).requires_grad_()
        dy = torch.randn(shape, dtype=torch.float64)
        xr = x.detach().clone().requires_grad_()
        y, yr = ghost(x), _chunked(plain, xr, g)
        torch.testing.assert_close(y, yr, **TOL)
        y.backward(dy)
        yr.backward(dy)
        torch.testing.assert_close(x.grad, xr.grad, **TOL)
    for (name, a), (_, b) in zip(ghost.named_parameters(), plain.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, **TOL, msg=name)
    for name, buf in plain.named_buffers():
        torch.testing.assert_close(ghost.get_buffer(name), buf, **TOL, msg=name)
    ghost.eval(), plain.eval()
    x = torch.randn(shape, dtype=torch.float64)
    torch.testing.assert_close(ghost(x), _chunked(plain, x, g) if plain.running_mean is None
                               else plain(x), **TOL)


def test_hand_checked_partition_and_running_update():
    # x = [0, 10, 2, 12], g = 2: ghost batches {0, 2} and {10, 12} (examples 0, 2 and 1, 3),
    # each of mean ±1 deviations and biased variance 1, unbiased variance 2.
    bn = GhostBatchNorm1d(1, ghost_batch_size=2, dtype=torch.float64)
    y = bn(torch.tensor([[0.0], [10.0], [2.0], [12.0]], dtype=torch.float64))
    s = (1 + 1e-5) ** -0.5
    torch.testing.assert_close(y.flatten(), torch.tensor([-s, -s, s, s], dtype=torch.float64))
    # momentum 0.1, once per ghost batch: mean 0 → 0.1 → 0.9·0.1 + 0.1·11; var 1 → 1.1 → 1.19
    torch.testing.assert_close(bn.running_mean, torch.tensor([1.19], dtype=torch.float64))
    torch.testing.assert_close(bn.running_var, torch.tensor([1.19], dtype=torch.float64))
    assert int(bn.num_batches_tracked) == 2


@pytest.mark.parametrize("g", [12, 50])
def test_one_ghost_batch_is_plain_batch_norm(g):
    ghost, plain = _pair(GhostBatchNorm1d, 4, g)
    x = torch.randn(12, 4, dtype=torch.float64, requires_grad=True)
    xr = x.detach().clone().requires_grad_()
    y, yr = ghost(x), plain(xr)
    assert torch.equal(y, yr)
    y.sum().backward(), yr.sum().backward()
    assert torch.equal(x.grad, xr.grad) and torch.equal(ghost.weight.grad, plain.weight.grad)
    assert torch.equal(ghost.running_var, plain.running_var)


def test_eval_mode_uses_running_statistics_like_batch_norm():
    ghost, plain = _pair(GhostBatchNorm2d, 3, 4)
    ghost(torch.randn(16, 3, 5, 5, dtype=torch.float64) + 2)
    plain.load_state_dict(ghost.state_dict())
    ghost.eval(), plain.eval()
    x = torch.randn(16, 3, 5, 5, dtype=torch.float64)
    assert torch.equal(ghost(x), plain(x))
    assert not torch.allclose(ghost.train()(x), ghost.eval()(x))


def _loss(params, module, x, dy):
    return (functional_call(module, params, (x,)) * dy).sum()


def test_functional_call_gradients_and_second_derivatives_match_reference():
    ghost, plain = _pair(GhostBatchNorm1d, 4, 5)
    ghost.track_running_stats = plain.track_running_stats = False  # pure functions of params
    reference = _Chunked(plain, 5)
    x, dy = torch.randn(17, 4, dtype=torch.float64), torch.randn(17, 4, dtype=torch.float64)
    params = {k: v.detach().clone() for k, v in ghost.named_parameters()}
    ref_params = {f"bn.{k}": v for k, v in params.items()}
    assert torch.equal(_loss(params, ghost, x, dy), _loss(params, ghost, x, dy))
    g_ghost, g_ref = grad(_loss)(params, ghost, x, dy), grad(_loss)(ref_params, reference, x, dy)
    for k in params:
        torch.testing.assert_close(g_ghost[k], g_ref[f"bn.{k}"], **TOL)
    tangent = {k: torch.randn_like(v) for k, v in params.items()}  # Hessian-vector product
    hvp = jvp(lambda p: grad(_loss)(p, ghost, x, dy), (params,), (tangent,))[1]
    hvp_ref = jvp(lambda p: grad(_loss)(p, reference, x, dy), (ref_params,),
                  ({f"bn.{k}": v for k, v in tangent.items()},))[1]
    for k in params:
        torch.testing.assert_close(hvp[k], hvp_ref[f"bn.{k}"], **TOL)


def test_torch_func_grad_updates_running_stats_passed_as_inputs():
    ghost, _ = _pair(GhostBatchNorm2d, 3, 4)
    direct = copy.deepcopy(ghost)
    x = torch.randn(10, 3, 2, 2, dtype=torch.float64)
    params = dict(ghost.named_parameters())
    buffers = {k: v.clone() for k, v in ghost.named_buffers()}
    g = grad(lambda p, b: functional_call(ghost, (p, b), (x,)).pow(3).sum())(params, buffers)
    direct(x).pow(3).sum().backward()
    torch.testing.assert_close(g["weight"], direct.weight.grad, **TOL)
    for name, buf in direct.named_buffers():  # as for nn.BatchNorm, mutated buffers are inputs
        torch.testing.assert_close(buffers[name], buf, **TOL)


def test_ghost_batch_norm_swaps_layers_in_place():
    mlp = MLP(6, [8, 8], 3, batch_norm=True).double()
    conv = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).double().eval()
    for model, x in [(mlp, torch.randn(20, 6, dtype=torch.float64)),
                     (conv, torch.randn(20, 2, 6, 6, dtype=torch.float64))]:
        before = copy.deepcopy(model)
        params = list(model.parameters())
        keys = list(model.state_dict())
        assert ghost_batch_norm(model, 4) is model
        kinds = {type(m) for m in model.modules()}
        assert kinds & {GhostBatchNorm1d, GhostBatchNorm2d}
        assert not kinds & {nn.BatchNorm1d, nn.BatchNorm2d}
        assert all(a is b for a, b in zip(model.parameters(), params))  # optimizers keep working
        assert list(model.state_dict()) == keys and model.training == before.training
        model.eval(), before.eval()
        assert torch.equal(model(x), before(x))
    assert ghost_batch_norm(mlp, 10)[2].ghost_batch_size == 10  # re-sizing a ghost model


def test_bad_input_raises_value_error():
    for size in (0, 2.0, True):
        with pytest.raises(ValueError, match="ghost_batch_size"):
            GhostBatchNorm1d(3, ghost_batch_size=size)
    with pytest.raises(ValueError, match="one value per channel"):
        GhostBatchNorm1d(3, ghost_batch_size=4)(torch.randn(9, 3))  # remainder of 1 example
    with pytest.raises(ValueError, match="no BatchNorm"):
        ghost_batch_norm(nn.Sequential(nn.Linear(2, 2)), 4)
    with pytest.raises(ValueError, match="inside a model"):
        ghost_batch_norm(nn.BatchNorm1d(3), 4)


def test_mlp_with_ghost_batch_size_records_it_and_matches_batch_norm_in_eval():
    from genlab.models import MLP, GhostBatchNorm1d, build_model, model_spec

    ghost = MLP(6, [8], 3, seed=1, batch_norm=True, ghost_batch_size=4)
    assert any(isinstance(m, GhostBatchNorm1d) for m in ghost.modules())
    assert model_spec(ghost)["kwargs"]["ghost_batch_size"] == 4
    plain = MLP(6, [8], 3, seed=1, batch_norm=True)
    plain.load_state_dict(ghost.state_dict())
    x = torch.randn(16, 6, generator=torch.Generator().manual_seed(0))
    rebuilt = build_model(model_spec(ghost))
    rebuilt.load_state_dict(ghost.state_dict())
    assert isinstance(rebuilt[2], GhostBatchNorm1d)
    torch.testing.assert_close(rebuilt.eval()(x), plain.eval()(x))
    with pytest.raises(ValueError, match="batch_norm"):
        MLP(6, [8], 3, ghost_batch_size=4)
