"""DataSpec rebuilds exactly the data an experiment trained on."""

import pytest
import torch
from pydantic import ValidationError

from genlab.data import DataSpec, corrupt_labels, load_dataset, shuffle_pixels

BASE = DataSpec(dataset="digits", n_train=100, n_test=40, subset_seed=3)


def test_same_spec_same_tensors_and_subset_matches_the_loader():
    a, b = BASE.load(), BASE.load()
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    direct = load_dataset("digits", n_train=100, n_test=40, seed=3)
    assert torch.equal(a.x_train, direct.x_train) and torch.equal(a.y_train, direct.y_train)


def test_label_noise_redraws_training_labels_only_and_is_nested_in_p():
    clean = BASE.load()
    half, full = (BASE.replace(label_noise=p, corruption_seed=9).load() for p in (0.5, 1.0))
    expected = corrupt_labels(clean.y_train, 0.5, 10, 9).labels
    assert torch.equal(half.y_train, expected) and torch.equal(half.y_test, clean.y_test)
    changed_half = half.y_train != clean.y_train
    assert torch.equal(full.y_train[changed_half], half.y_train[changed_half])  # nested


def test_input_corruptions_and_padding():
    clean = BASE.load()
    shuffled = BASE.replace(inputs="shuffled_pixels", corruption_seed=2).load()
    x, perm = shuffle_pixels(clean.x_train, 2)
    assert torch.equal(shuffled.x_train, x)
    assert torch.equal(shuffled.x_test, shuffle_pixels(clean.x_test, permutation=perm)[0])
    gauss = BASE.replace(inputs="gaussian").load()
    assert not torch.equal(gauss.x_train, clean.x_train)
    padded = BASE.replace(image_size=12).load()
    assert padded.x_train.shape[-2:] == (12, 12)
    assert torch.equal(padded.x_train[..., 2:10, 2:10], clean.x_train)
    with pytest.raises(ValueError, match="smaller than the images"):
        BASE.replace(image_size=4).load()


def test_bad_values_are_refused():
    with pytest.raises(ValidationError):
        DataSpec(label_noise=1.5)
    with pytest.raises(ValidationError):
        DataSpec(inputs="noise")
    with pytest.raises(ValidationError):
        DataSpec(unknown=1)
