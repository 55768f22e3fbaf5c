"""Helpers of the image experiments (``image_prior``, ``inversion``); not public API."""
