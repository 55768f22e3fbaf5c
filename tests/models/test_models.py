import torch

from genlab.models import MLP, MnistCNN


def test_lecture_cnn_has_808666_parameters_and_shapes():
    model = MnistCNN(0)
    assert sum(p.numel() for p in model.parameters()) == 808_666
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    cifar = MnistCNN(0, in_channels=3, image_size=32)
    assert cifar(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_models_depend_on_seed_only_and_leave_global_rng():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = MnistCNN(1), MnistCNN(1), MnistCNN(2)
    assert torch.rand(1) == before  # building models did not consume global randomness
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)


def test_mlp_layers():
    m = MLP(784, [32, 16], 10, batch_norm=True, dropout=0.1)
    kinds = [type(layer).__name__ for layer in m]
    assert kinds == ["Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear",
                     "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    assert m(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert sum(p.numel() for p in MLP(4, [], 2).parameters()) == 10
