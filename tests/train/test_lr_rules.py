import math

import pytest
import torch

from genlab.train import LR_RULES, lr_plan

BASE = dict(base_lr=0.1, base_batch_size=32, epochs=10)


@pytest.mark.parametrize("rule,batch,lr", [
    ("none", 512, 0.1), ("sqrt", 512, 0.4), ("linear", 512, 1.6),  # B/B₀ = 16, √16 = 4
    ("sqrt", 8, 0.05), ("linear", 8, 0.025),                        # smaller batch: B/B₀ = 1/4
])
def test_peak_lr_by_rule(rule, batch, lr):
    plan = lr_plan(rule, batch_size=batch, warmup_epochs=0, **BASE)
    assert plan.lr == pytest.approx(lr, rel=1e-15)
    assert plan.lr_at(0, 10) == pytest.approx(lr, rel=1e-15)


@pytest.mark.parametrize("rule", LR_RULES)
def test_base_batch_size_leaves_everything_unchanged(rule):
    plan = lr_plan(rule, batch_size=32, milestones=[5], regime_adaptation=True, **BASE)
    assert (plan.lr, plan.epochs, plan.milestones) == (0.1, 10, (5.0,))
    assert [plan.lr_at(s, 4) for s in (0, 19, 20)] == pytest.approx([0.1, 0.1, 0.01])


def test_linear_rule_warms_up_from_base_lr_over_five_epochs():
    plan = lr_plan("linear", batch_size=256, **BASE)  # η = 0.8; warm-up 5 epochs = 50 updates
    assert plan.warmup_epochs == 5
    lrs = [plan.lr_at(s, 10) for s in (0, 1, 25, 49, 50, 99)]
    assert lrs == pytest.approx([0.1, 0.114, 0.45, 0.786, 0.8, 0.8], rel=1e-12)  # 0.1 + 0.7·s/50
    assert lr_plan("sqrt", batch_size=256, **BASE).warmup_epochs == 0


def test_milestones_decay_by_gamma_and_regime_adaptation_stretches_them():
    plan = lr_plan("sqrt", batch_size=128, milestones=[5, 8], gamma=0.5, **BASE)  # η = 0.2
    assert [plan.lr_at(s, 10) for s in (49, 50, 79, 80, 99)] == pytest.approx(
        [0.2, 0.1, 0.1, 0.05, 0.05])
    adapted = lr_plan("sqrt", batch_size=128, milestones=[5, 8], gamma=0.5,
                      regime_adaptation=True, **BASE)  # B/B₀ = 4
    assert (adapted.epochs, adapted.milestones, adapted.lr) == (40, (20.0, 32.0), plan.lr)
    assert [adapted.lr_at(s, 10) for s in (199, 200, 320)] == pytest.approx([0.2, 0.1, 0.05])


def test_regime_adaptation_matches_the_number_of_updates():
    n = 4096  # 128 updates per epoch at B₀ = 32, 4 at B = 1024
    small = lr_plan("none", batch_size=32, **BASE)
    large = lr_plan("sqrt", batch_size=1024, regime_adaptation=True, **BASE)
    assert small.steps(n // 32) == large.steps(n // 1024) == 1280
    assert lr_plan("sqrt", batch_size=1024, **BASE).steps(n // 1024) == 40


def test_scheduler_applies_lr_at_to_every_update():
    plan = lr_plan("linear", batch_size=128, milestones=[3], warmup_epochs=1, epochs=4,
                   base_lr=0.05, base_batch_size=32)
    w = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([w], lr=plan.lr, momentum=0.9)
    sched = plan.scheduler(opt, steps_per_epoch=5)
    seen = []
    for _ in range(plan.steps(5)):  # the training loop's order: step, then scheduler.step()
        seen.append(opt.param_groups[0]["lr"])
        w.sum().backward()
        opt.step()
        sched.step()
    expected = [0.05, 0.08, 0.11, 0.14, 0.17] + [0.2] * 10 + [0.02] * 5  # ramp 0.05 → 0.2
    assert seen == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="plan.lr"):
        plan.scheduler(torch.optim.SGD([w], lr=0.05), steps_per_epoch=5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(rule="cosine"), "unknown lr rule"), (dict(base_lr=0.0), "base_lr"),
    (dict(batch_size=0), "batch_size"), (dict(base_batch_size=2.0), "base_batch_size"),
    (dict(epochs=-1), "epochs"), (dict(milestones=[8, 5]), "milestones"),
    (dict(milestones=[12]), "milestones"), (dict(gamma=0.0), "gamma"),
    (dict(warmup_epochs=11), "warmup_epochs"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    args = dict(rule="sqrt", batch_size=64, **BASE) | kwargs
    with pytest.raises(ValueError, match=match):
        lr_plan(args.pop("rule"), **args)


def test_lr_at_rejects_bad_steps():
    plan = lr_plan("none", batch_size=32, **BASE)
    for step, spe in ((-1, 10), (0, 0)):
        with pytest.raises(ValueError):
            plan.lr_at(step, spe)
    assert math.isclose(plan.lr_at(10**6, 10), 0.1)
