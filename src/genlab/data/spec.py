"""A typed description of the data a model was trained on: :class:`DataSpec`.

Experiments load their data through a spec and store it beside the weights, so the
same data (the same stratified subset, the same corrupted labels, the same shuffled
pixels) can be rebuilt later, e.g. by ``genlab measure RUN_DIR``.
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from ..seeding import derive_seed
from .corruptions import corrupt_labels, gaussian_inputs, random_pixels, shuffle_pixels
from .dataset import Dataset
from .registry import load_dataset

__all__ = ["INPUT_CORRUPTIONS", "DataSpec"]

INPUT_CORRUPTIONS = ("real", "shuffled_pixels", "random_pixels", "gaussian")


class DataSpec(BaseModel):
    """Data set, subset, size and corruption, each with its seed.

    :meth:`load` applies, in order: the stratified subsets (``subset_seed``), zero
    padding to ``image_size``, the label corruption of the training set (test labels
    stay true, so test accuracy measures generalization; Zhang et al. 2017) and the
    input corruption of both splits (one pixel permutation for both; the random inputs
    of the test split from a seed derived from ``corruption_seed`` and ``"test"``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field("mnist", description="a name accepted by genlab.data.load_dataset")
    source: str | None = Field(None, description="directory of the full data set (None: "
                               "embedded or procedural)")
    n_train: int | None = Field(None, ge=1, description="training examples (None: all)")
    n_test: int | None = Field(None, ge=1, description="test examples (None: all)")
    subset_seed: int = Field(0, ge=0, description="seed of the stratified subsets")
    image_size: int | None = Field(None, ge=1, description="zero-pad images to this side "
                                   "(None: as loaded)")
    label_noise: float = Field(0.0, ge=0, le=1, description="probability that a training "
                               "label is redrawn uniformly (1: random labels)")
    inputs: Literal["real", "shuffled_pixels", "random_pixels", "gaussian"] = Field(
        "real", description="input corruption of both splits")
    corruption_seed: int = Field(0, ge=0, description="seed of the label and input corruptions")

    def replace(self, **changes) -> DataSpec:
        """A validated copy with ``changes`` applied."""
        return DataSpec(**{**self.model_dump(), **changes})

    def load(self) -> Dataset:
        """The data set this spec describes (CPU tensors)."""
        ds = load_dataset(self.dataset, source=self.source, n_train=self.n_train,
                          n_test=self.n_test, seed=self.subset_seed % 2**31)
        x, y, xt, yt = ds.x_train, ds.y_train, ds.x_test, ds.y_test
        if self.image_size is not None:
            x, xt = self._pad(x), self._pad(xt)
        if self.label_noise > 0:
            y = corrupt_labels(y, self.label_noise, ds.num_classes, self.corruption_seed).labels
        seed, test_seed = self.corruption_seed, derive_seed(self.corruption_seed, "test")
        if self.inputs == "shuffled_pixels":
            x, perm = shuffle_pixels(x, seed)
            xt, _ = shuffle_pixels(xt, permutation=perm)
        elif self.inputs == "random_pixels":
            x, xt = random_pixels(x, seed), random_pixels(xt, test_seed)
        elif self.inputs == "gaussian":
            x, xt = gaussian_inputs(x, seed), gaussian_inputs(xt, test_seed)
        return Dataset(x, y, xt, yt, name=ds.name, num_classes=ds.num_classes, source=ds.source)

    def _pad(self, x):
        h, w = x.shape[-2:]
        size = self.image_size
        if size < max(h, w):
            raise ValueError(f"image_size {size} is smaller than the images ({h}×{w})")
        top, left = (size - h) // 2, (size - w) // 2
        return F.pad(x, (left, size - w - left, top, size - h - top))  # (N, C, size, size)
