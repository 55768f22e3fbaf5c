"""Per-layer sums of per-example gradients and of their squares, without a (B, P) matrix.

For a linear layer y = W x + b the gradient of example b's loss is g_b = a_b x_bᵀ with
a_b = ∂ℓ_b/∂y_b, so Σ_b g_b ⊙ g_b = (a ⊙ a)ᵀ (x ⊙ x): one matrix product of squared
output gradients and squared inputs (Goodfellow 2015, "Efficient per-example gradient
computations", arXiv:1510.01799; Dangel, Kunstner & Hennig 2020, "BackPACK: packing
more into backprop", arXiv:1912.10985, the "second moment" paragraph). A convolution is
a linear layer on its input's patches; there each example's weight gradient
(C_out, C_in/G, *k) is formed, a chunk of examples at a time, and squared.

A rule applies to a module whose type is exactly ``nn.Linear`` or ``nn.Conv1d/2d/3d``,
that owns its parameters alone (no weight tying), runs once per forward pass and sees the examples along dim 0 of its input and output. Every other parameter
goes through the generic per-example path of :mod:`genlab.measures.per_sample`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_RULES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
CHUNK_ELEMENTS = 1 << 24  # entries of a per-chunk temporary (64 MB in float32)
RULE_ELEMENTS = 1 << 21  # the same for a layer's rule, which runs inside the backward pass

Moments = dict[str, tuple[Tensor, Tensor]]  # parameter name -> (Σ_b g_b, Σ_b g_b ⊙ g_b)


@dataclass
class Site:
    """A module with a rule: its parameters' names by slot, what its forward saw, and
    (filled during the backward pass) the sums of its parameters' per-example gradients."""

    module: nn.Module
    names: dict[str, str]  # "weight" / "bias" -> parameter name
    calls: list[tuple[Tensor, int]] = field(default_factory=list)  # (input, len(output))
    ready: bool = False  # set after the forward pass: the rule may run
    result: Moments = field(default_factory=dict)

    def usable(self, n: int) -> bool:
        """Called exactly once, on a batch of n examples along dim 0 (checked before the
        backward pass)."""
        if len(self.calls) != 1:
            return False
        x, m = self.calls[0]
        return x.shape[0] == n and m == n

    def receive(self, a: Tensor) -> None:
        """The rule, given ∂(Σ_b ℓ_b)/∂output (B, ...), while the backward pass runs."""
        if self.ready:
            rule = _linear if isinstance(self.module, nn.Linear) else _conv
            rule(self, self.calls[0][0].detach(), a.detach(), self.result)
            self.calls.clear()  # free the input now, as a weight gradient would


class _Probe(torch.autograd.Function):
    """Identity on a layer's output whose backward hands the output gradient to the
    site; its second input, a scalar "anchor" leaf, puts every probe on the path of
    ∂/∂anchor, so one backward pass reaches all of them and each output gradient is
    freed once used (no weight gradient is formed)."""

    @staticmethod
    def forward(ctx, y: Tensor, anchor: Tensor, site: Site) -> Tensor:
        ctx.site = site
        return y.clone()  # not a view: the next layer may act in place (ReLU(inplace=True))

    @staticmethod
    def backward(ctx, a: Tensor) -> tuple[Tensor, None, None]:
        ctx.site.receive(a)
        return a, None, None


def sites(model: nn.Module, selected: set[str]) -> list[Site]:
    """Modules whose selected parameters can take a rule (see the module docstring)."""
    uses = Counter(id(p) for _, m in model.named_modules(remove_duplicate=False)
                   for p in m._parameters.values() if p is not None)
    found = []
    for prefix, m in model.named_modules():
        if type(m) not in _RULES:
            continue
        names = {slot: f"{prefix}.{slot}" if prefix else slot
                 for slot, p in m._parameters.items() if p is not None}
        if any(uses[id(getattr(m, slot))] != 1 for slot in names):
            continue
        names = {slot: n for slot, n in names.items() if n in selected}
        if names:
            found.append(Site(m, names))
    return found


@contextmanager
def probing(found: list[Site], anchor: Tensor) -> Iterator[None]:
    """During the forward passes inside, record each site's (input, output) and put a
    :class:`_Probe` on its output; ``torch.autograd.grad(loss, anchor)`` then runs the
    rules of the sites marked ``ready``."""
    def hook(module: nn.Module, inp: tuple, out: Tensor, site: Site) -> Tensor:
        site.calls.append((inp[0], out.shape[0]))  # the output itself is not kept
        return _Probe.apply(out, anchor, site)

    hooks = [s.module.register_forward_hook(
        lambda mod, inp, out, s=s: hook(mod, inp, out, s)) for s in found]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def _chunks(n: int, per_example: int) -> Iterator[slice]:
    step = max(1, RULE_ELEMENTS // max(per_example, 1))
    for i in range(0, n, step):
        yield slice(i, i + step)


def _from_per_example(site: Site, gw: Tensor | None, gb: Tensor | None, out: Moments) -> None:
    """Add the sums over a chunk of per-example gradients (c, ...) to ``out``."""
    for slot, g in (("weight", gw), ("bias", gb)):
        if slot in site.names:
            shape = getattr(site.module, slot).shape
            s, sq = g.sum(0).reshape(shape), (g * g).sum(0).reshape(shape)
            if site.names[slot] in out:
                s0, sq0 = out[site.names[slot]]
                s, sq = s0 + s, sq0 + sq
            out[site.names[slot]] = (s, sq)


def _linear(site: Site, x: Tensor, a: Tensor, out: Moments) -> None:
    if a.ndim == 2:  # x (B, I), a (B, O): no per-example gradient is formed
        if "weight" in site.names:
            out[site.names["weight"]] = (a.T @ x, (a * a).T @ (x * x))  # (O, I)
        if "bias" in site.names:
            out[site.names["bias"]] = (a.sum(0), (a * a).sum(0))  # (O,)
        return
    x, a = x.flatten(1, -2), a.flatten(1, -2)  # (B, M, I), (B, M, O): a sequence per example
    for c in _chunks(x.shape[0], a.shape[2] * x.shape[2]):
        gw = torch.einsum("bmo,bmi->boi", a[c], x[c])  # (c, O, I)
        _from_per_example(site, gw, a[c].sum(1), out)


_CONV = {nn.Conv1d: F.conv1d, nn.Conv2d: F.conv2d, nn.Conv3d: F.conv3d}


def _conv_weight_grads(m: nn.Module, x: Tensor, a: Tensor) -> Tensor:
    """Each example's weight gradient (c, C_out, C_in/G, *k) of a convolution.

    The gradient is the correlation of the padded input with the output gradient, so
    one convolution with the examples (and the layer's groups) as groups computes all of
    them: input (C_in/G, c·G, *X), kernels a (c·C_out, 1, *Y), the layer's stride
    as dilation and its dilation as stride (Rochette, Manoel & Tramel 2019, "Efficient
    per-example gradient computations in convolutional neural networks",
    arXiv:1912.06015). It is faster on a CPU than unfolding the input's patches.
    """
    mode = "constant" if m.padding_mode == "zeros" else m.padding_mode
    x = F.pad(x, m._reversed_padding_repeated_twice, mode=mode)  # (c, C_in, *X)
    c, groups, spatial = x.shape[0], m.groups, x.shape[2:]
    x = x.unflatten(1, (groups, -1)).movedim(2, 0).reshape(-1, c * groups, *spatial)
    kernels = a.reshape(c * m.out_channels, 1, *a.shape[2:])  # (c·C_out, 1, *Y)
    g = _CONV[type(m)](x, kernels, stride=m.dilation, dilation=m.stride, groups=c * groups)
    g = g[(...,) + tuple(slice(0, k) for k in m.kernel_size)]  # (C_in/G, c·C_out, *k)
    return g.unflatten(1, (c, m.out_channels)).movedim(0, 2)


def _conv(site: Site, x: Tensor, a: Tensor, out: Moments) -> None:
    m = site.module
    per_example = x[0].numel() + a[0].numel() + m.weight.numel() * 2
    for c in _chunks(x.shape[0], per_example):
        gw = _conv_weight_grads(m, x[c], a[c]) if "weight" in site.names else None
        gb = a[c].flatten(2).sum(2) if "bias" in site.names else None  # (c, C_out)
        _from_per_example(site, gw, gb, out)
