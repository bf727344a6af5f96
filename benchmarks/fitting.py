"""Small, stdlib-only statistics for the benchmarks: the spread of repeated runs, the best of
consecutive rounds, and the straight-line fit behind the growth claims."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


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

