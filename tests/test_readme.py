"""The README's library example runs as written (on a small model)."""

import re
from pathlib import Path

import torch

from genlab.models import MLP


def test_readme_measures_example_runs():
    text = (Path(__file__).parents[1] / "README.md").read_text()
    code = re.search(r"## The diagnostics on your own model\n\n```python\n(.*?)```", text,
                     re.S).group(1)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(32, 6, generator=g), torch.randint(0, 3, (32,), generator=g)
    scope = {"model": MLP(6, [8], 3), "x": x, "y": y}
    exec(code, scope)
    assert scope["top"].values.shape == (3,)
    assert scope["trace"].stderr > 0 and torch.isfinite(torch.as_tensor(scope["trace"].value))
    assert scope["sharp"].value >= 0
