"""Symmetric linear operators on flat parameter vectors, and their scipy view.

Every estimator of :mod:`genlab.measures` (Lanczos, Hutchinson, SLQ, subspace
measures) takes any object that satisfies :class:`LinearOperatorLike`: a ``shape``
(n, n), a ``dtype``, a ``device`` and ``matvec(v)`` (n,) -> (n,). The curvature
operators (:class:`~genlab.measures.HessianOperator`,
:class:`~genlab.measures.GaussNewtonOperator`) and :class:`MatrixOperator` also
multiply with ``@`` (a vector (n,) or a matrix (n, k), column by column) and convert
to a :class:`scipy.sparse.linalg.LinearOperator` with :meth:`to_scipy`, so any
matrix-free scipy solver (``eigsh``, ``cg``, ``lobpcg``) runs on them.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

__all__ = ["LinearOperatorLike", "MatrixOperator", "as_operator"]


@runtime_checkable
class LinearOperatorLike(Protocol):
    """What the estimators need of a symmetric operator A (n, n).

    Attributes:
        shape: ``(n, n)``.
        dtype, device: those of the vectors ``matvec`` takes and returns.
    """

    shape: tuple[int, int]
    dtype: torch.dtype
    device: torch.device

    def matvec(self, v: Tensor) -> Tensor:
        """A v for a vector ``v`` (n,) of ``dtype`` on ``device``; returns (n,)."""
        ...


class _LinearOperator:
    """Mixin: ``shape``, ``@`` with a vector or a matrix, and :meth:`to_scipy`.

    A subclass sets ``dim``, ``dtype``, ``device`` and implements ``matvec``.
    """

    dim: int
    dtype: torch.dtype
    device: torch.device

    def matvec(self, v: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, int]:
        return (self.dim, self.dim)

    def matmat(self, V: Tensor) -> Tensor:
        """A V for a matrix ``V`` (n, k), one product per column; returns (n, k)."""
        if V.ndim != 2 or V.shape[0] != self.dim:
            raise ValueError(f"expected a matrix ({self.dim}, k), got shape {tuple(V.shape)}")
        return torch.stack([self.matvec(V[:, j]) for j in range(V.shape[1])], dim=1)

    def __matmul__(self, x: Tensor) -> Tensor:
        if x.ndim == 1:
            return self.matvec(x)
        return self.matmat(x)

    def to_scipy(self) -> Any:
        """This operator as a float64 :class:`scipy.sparse.linalg.LinearOperator`.

        NumPy vectors are converted to ``dtype`` on ``device`` for each product and
        the result back to float64 on the CPU, so
        ``scipy.sparse.linalg.eigsh(op.to_scipy(), k=5)`` works as on a matrix
        (at the accuracy of this operator's ``dtype``).
        """
        from scipy.sparse.linalg import LinearOperator

        def mv(x: np.ndarray) -> np.ndarray:
            v = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64).reshape(-1))
            out = self.matvec(v.to(device=self.device, dtype=self.dtype))
            return out.detach().to("cpu", torch.float64).numpy()

        def mm(X: np.ndarray) -> np.ndarray:
            return np.stack([mv(X[:, j]) for j in range(X.shape[1])], axis=1)

        return LinearOperator(self.shape, matvec=mv, rmatvec=mv, matmat=mm, rmatmat=mm,
                              dtype=np.float64)


class MatrixOperator(_LinearOperator):
    """A dense symmetric matrix (n, n) seen as an operator.

    Args:
        matrix: a square tensor; its symmetry is assumed, not checked.
    """

    def __init__(self, matrix: Tensor):
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"expected a square matrix, got shape {tuple(matrix.shape)}")
        self.matrix, self.dim = matrix, matrix.shape[0]
        self.dtype, self.device = matrix.dtype, matrix.device

    def matvec(self, v: Tensor) -> Tensor:
        return self.matrix @ v  # (n,)

    def matmat(self, V: Tensor) -> Tensor:
        return self.matrix @ V  # (n, k)


def as_operator(op: LinearOperatorLike | Tensor) -> LinearOperatorLike:
    """``op`` itself, or a :class:`MatrixOperator` when ``op`` is a square tensor.

    Raises:
        ValueError: if ``op`` is neither a tensor nor has ``shape``, ``dtype``,
            ``device`` and ``matvec``.
    """
    if isinstance(op, Tensor):
        return MatrixOperator(op)
    if not isinstance(op, LinearOperatorLike):
        raise ValueError(f"expected a square tensor or an operator with shape, dtype, device "
                         f"and matvec; got {type(op).__name__}")
    return op
