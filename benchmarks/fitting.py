"""Small, stdlib-only statistics for the benchmarks: the spread of repeated runs, a straight-line
fit, and an exact least-squares solve (fractions) for resource counts."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def best_of(values: Sequence[float], k: int) -> list[float]:
    """The lowest of each ``k`` consecutive values: noise from other processes only adds time, so
    the lowest of a few measurements is the most informative (Python's ``timeit`` docs)."""
    return [min(values[i:i + k]) for i in range(0, len(values) - k + 1, k)]


def best_indices(values: Sequence[float], k: int) -> list[int]:
    """Where ``best_of`` found each lowest value."""
    return [min(range(i, i + k), key=values.__getitem__) for i in range(0, len(values) - k + 1, k)]


@dataclass(frozen=True)
class Spread:
    """What repeated runs measured: the lowest, the median and the highest value, and how many."""

    min: float
    median: float
    max: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("a spread needs at least one value")
        return cls(min(values), statistics.median(values), max(values), len(values))

    def scaled(self, factor: float) -> Spread:
        return Spread(self.min * factor, self.median * factor, self.max * factor, self.runs)


@dataclass(frozen=True)
class LineFit:
    """``y = intercept + slope * x`` by least squares, and how well it fits."""

    slope: float
    intercept: float
    r2: float
    worst_relative_residual: float
    """max |y - fit| / y over the points."""

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


def line_fit(xs: Sequence[float], ys: Sequence[float]) -> LineFit:
    if len(xs) != len(ys) or len(set(xs)) < 2:
        raise ValueError("a line fit needs at least two distinct x values")
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residuals = [y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)]
    total = sum((y - mean_y) ** 2 for y in ys)
    r2 = 1 - sum(r * r for r in residuals) / total if total else 1.0
    worst = max(abs(r) / y for r, y in zip(residuals, ys, strict=True))
    return LineFit(slope, intercept, r2, worst)


def exact_least_squares(rows: Sequence[Sequence[int]], ys: Sequence[int]
                        ) -> tuple[list[Fraction | None], list[Fraction]]:
    """Solve ``rows @ b ~= ys`` exactly (normal equations over fractions, Gauss-Jordan).

    Returns the coefficients, ``None`` for a column the rows cannot tell apart from the others
    (no variation), and the residual of every row (all zero when the model is exact)."""
    n = len(rows[0])
    # Normal equations: (X^T X) b = X^T y, augmented.
    matrix = [[Fraction(sum(r[i] * r[j] for r in rows)) for j in range(n)]
              + [Fraction(sum(r[i] * y for r, y in zip(rows, ys, strict=True)))]
              for i in range(n)]
    pivots: dict[int, int] = {}  # column -> row
    row = 0
    for col in range(n):
        pivot = next((r for r in range(row, n) if matrix[r][col] != 0), None)
        if pivot is None:
            continue
        matrix[row], matrix[pivot] = matrix[pivot], matrix[row]
        lead = matrix[row][col]
        matrix[row] = [v / lead for v in matrix[row]]
        for r in range(n):
            if r != row and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[row], strict=True)]
        pivots[col] = row
        row += 1
    coefficients: list[Fraction | None] = [None] * n
    for col, r in pivots.items():
        # A column is identified only if no free column enters its row.
        if all(matrix[r][c] == 0 for c in range(n) if c not in pivots):
            coefficients[col] = matrix[r][n]
    solved = [c if c is not None else Fraction(0) for c in coefficients]
    residuals = [Fraction(y) - sum(c * x for c, x in zip(solved, r, strict=True))
                 for r, y in zip(rows, ys, strict=True)]
    return coefficients, residuals
