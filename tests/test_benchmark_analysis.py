"""The benchmarks claim only what every run supports: a target passes only if its worst run does,
growth is linear only if the line fits every run, and ratios pair runs of the same round. Synthetic
timings, no clock."""

from __future__ import annotations

import pytest

from benchmarks import analysis
from benchmarks.analysis import Target
from benchmarks.cases import Case
from benchmarks.fitting import Spread, best_of


def program(routes: int, groups: int, seconds: list[float], gc: list[float] | None = None) -> Case:
    return Case(f"r{routes}-g{groups}", f"{routes} routes", "program",
                shape={"routes": routes, "groups": groups, "functions": 2, "users": 4,
                       "memberships": 6},
                generated=True, seconds=seconds, gc_seconds=gc or [0.0] * len(seconds))


def line(intercept: float, slope: float, routes: int) -> float:
    return intercept + slope * routes


def test_a_spread_is_the_lowest_the_median_and_the_highest_run():
    assert Spread.of([3.0, 1.0, 2.0, 10.0]) == Spread(1.0, 2.5, 10.0, 4)
    with pytest.raises(ValueError):
        Spread.of([])


def test_a_run_is_the_fastest_of_its_rounds_with_that_rounds_gc_figures():
    assert best_of([3.0, 1.0, 2.0, 5.0, 4.0, 6.0], 3) == [1.0, 4.0]
    case = program(10, 2, [3.0, 1.0, 2.0, 5.0, 4.0, 6.0], gc=[0.3, 0.1, 0.2, 0.5, 0.4, 0.6])
    case.gc_full, case.wall = [3, 1, 2, 5, 4, 6], [3.5, 1.5, 2.5, 5.5, 4.5, 6.5]
    case.keep_best_of(3)
    assert (case.seconds, case.gc_seconds, case.gc_full, case.wall) == (
        [1.0, 4.0], [0.1, 0.4], [1, 4], [1.5, 4.5])


@pytest.mark.parametrize(("values", "strict", "passed"), [
    ((1.0, 1.5, 1.9), False, True),
    ((1.0, 1.5, 2.0), False, True),   # at the limit
    ((1.0, 1.5, 2.0), True, False),   # "<" limit
    ((0.5, 0.5, 2.1), False, False),  # the median passes, the worst run does not
])
def test_a_target_passes_only_if_its_worst_run_does(values, strict, passed):
    target = Target("t", 2.0, "x", values, strict=strict)
    assert target.passed is passed
    assert target.worst == max(values)


def test_an_unmeasured_target_does_not_pass():
    assert not Target("sandbox", 3.0, "s", ()).passed


def test_ratios_pair_the_runs_of_one_round():
    assert analysis.per_run_ratio([2.0, 6.0], [1.0, 3.0]) == [2.0, 2.0]


def test_growth_is_linear_only_if_every_runs_line_fits():
    sizes = (10, 50, 100, 300)
    good = [[line(0.5, 0.002, r)] * 2 for r in sizes]
    cases = [program(r, 5, list(runs)) for r, runs in zip(sizes, good, strict=True)]
    assert analysis.growth_of("total", 5, cases).linear
    # Run 2 of the 50-route size is 40% slow: that run's line misses it by more than 10%.
    cases[1].seconds[1] *= 1.4
    growth = analysis.growth_of("total", 5, cases)
    assert not growth.linear
    assert growth.fits[0].worst_relative_residual < 1e-9
    assert growth.worst_residual > analysis.MAX_LINE_RESIDUAL


def test_growth_without_gc_pauses_subtracts_them_run_by_run():
    sizes = (10, 100, 300)
    cases = [program(r, 2, [line(0.5, 0.002, r) + 0.1], gc=[0.1]) for r in sizes]
    growth = analysis.growth_of("without GC pauses", 2, cases)
    assert growth.fits[0].intercept == pytest.approx(0.5)
    assert growth.fits[0].slope == pytest.approx(0.002)


def test_the_300_route_target_takes_the_slowest_group_count_of_each_run():
    blog = Case("blog", "blog", "program", seconds=[1.0, 1.0])
    generated = [program(300, 2, [2.0, 5.0]), program(300, 20, [3.0, 4.0]), program(100, 2, [9.0, 9.0])]
    target = analysis.routes_target(blog, generated)
    assert target.values == (3.0, 5.0)
    assert target.passed and target.worst == 5.0


def test_trigger_targets_count_every_repeat_of_both_event_versions():
    trigger = {"cold": [0.003, 0.0051], "invoke": [
        {"version": "V1", "groups": 10, "per_call": [10e-6, 12e-6]},
        {"version": "V2", "groups": 10, "per_call": [11e-6, 51e-6]},
        {"version": "V2", "groups": 100, "per_call": [90e-6]}]}
    calls, imports = analysis.trigger_targets(trigger)
    assert sorted(calls.values) == pytest.approx([10, 11, 12, 51])
    assert not calls.passed
    assert not imports.passed  # one compiling import of 5.1 ms


def test_sandbox_targets_read_the_sandbox_figures_and_are_unmeasured_without_them():
    measured = analysis.sandbox_targets({"startup_seconds": [1.2, 2.9], "request_p50_ms": [2.0, 6.0],
                                         "failed_requests": [0, 1]})
    assert [t.passed for t in measured] == [True, False, False]
    assert not any(t.measured for t in analysis.sandbox_targets(None))


def test_the_sandbox_hook_collects_one_value_per_run(monkeypatch):
    import sys
    import types

    import benchmarks
    from benchmarks import run

    calls = iter([{"startup_seconds": 1.5, "request_p50_ms": 2.0},
                  {"startup_seconds": 1.7, "request_p50_ms": 2.5}])
    fake = types.ModuleType("benchmarks.sandbox")
    fake.figures = lambda: next(calls)
    monkeypatch.setitem(sys.modules, "benchmarks.sandbox", fake)
    monkeypatch.setattr(benchmarks, "sandbox", fake, raising=False)
    assert run.measure_sandbox(2) == {"startup_seconds": [1.5, 1.7], "request_p50_ms": [2.0, 2.5]}
