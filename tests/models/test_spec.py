"""Models record their constructor arguments; a spec rebuilds the same architecture."""

import pytest
import torch
from torch import nn

from genlab.models import MLP, VGG16, MnistCNN, SkipNet, build_model, model_spec, recorded


@pytest.mark.parametrize("make, shape", [
    (lambda: MLP(20, [6, 5], 3, seed=2, batch_norm=True, activation=nn.Tanh), (20,)),
    (lambda: MnistCNN(3, channels=2, hidden=7, dropout=0.2), (1, 28, 28)),
    (lambda: VGG16(10, in_channels=1, input_size=32, width=0.125, hidden=16), (1, 32, 32)),
    (lambda: SkipNet(4, 1, channels=4, levels=2), (4, 16, 16))])
def test_spec_round_trip_gives_the_same_function(make, shape):
    model = make().eval()
    clone = build_model(model_spec(model))
    clone.load_state_dict(model.state_dict())
    x = torch.rand(2, *shape, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(clone.eval()(x), model(x))


def test_spec_is_json_and_names_classes():
    import json

    spec = model_spec(MLP(4, [3], 2, activation=nn.Tanh))
    assert json.loads(json.dumps(spec)) == spec
    assert spec["kwargs"]["activation"] == {"__class__": "torch.nn.modules.activation.Tanh"}


def test_subclass_records_its_own_arguments():
    @recorded
    class Wide(MLP):
        def __init__(self, width: int = 3):
            super().__init__(4, [width], 2)

    assert model_spec(Wide(7))["kwargs"] == {"width": 7}


def test_unrecorded_and_foreign_specs_are_refused():
    with pytest.raises(ValueError, match="does not record"):
        model_spec(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="refusing to import 'os.system'"):
        build_model({"class": "os.system", "kwargs": {}})
    with pytest.raises(ValueError, match="not a model spec"):
        build_model({"kwargs": {}})
