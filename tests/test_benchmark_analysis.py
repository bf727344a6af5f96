"""The benchmarks claim only what every run supports: a target passes only if its worst run does,
growth is linear only if the line fits every run, ratios pair runs of the same round, and what a
route adds is stated only if every pair of sizes agrees. Synthetic timings and counts, no clock:
the benchmarks report timings, nothing here asserts one."""

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


def counted(routes: int, groups: int, counts: dict[str, int]) -> Case:
    case = program(routes, groups, [1.0])
    case.counts, case.registered = counts, sum(counts.values())
    return case


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
    measured = analysis.sandbox_targets({
        "startup_seconds": [1.2, 2.9], "request_p50_ms": [2.0, 6.0], "failed_requests": [0, 1],
        "request_p50_vs_bare": [1.8, 1.9], "requests_per_second_vs_bare": [0.6, 0.45],
        "rss_after_vs_before": [1.01, 1.02]})
    assert {t.name: t.passed for t in measured} == {
        "sandbox startup < 3 s (blog config)": True,
        "sandbox request p50 < 5 ms (warm)": False,
        "sandbox, 20 concurrent clients: no failed request": False,
        "sandbox startup < 1.5 s (blog config)": False,  # the 2.9 s run
        "sandbox p50 ≤ 2x a bare server's": True,
        "sandbox throughput ≥ 0.5x a bare server's": False,  # the 0.45x run
        "sandbox resident set flat over 100,000 requests (≤ 1.05x)": True}
    assert not any(t.measured for t in analysis.sandbox_targets({}))


def test_a_figures_module_is_measured_one_value_per_run(monkeypatch):
    import sys
    import types

    import benchmarks
    from benchmarks import run

    calls = iter([{"startup_seconds": 1.5, "request_p50_ms": 2.0},
                  {"startup_seconds": 1.7, "request_p50_ms": 2.5}])
    fake = types.ModuleType("benchmarks.sandbox")
    fake.figures = lambda **options: next(calls)
    monkeypatch.setitem(sys.modules, "benchmarks.sandbox", fake)
    monkeypatch.setattr(benchmarks, "sandbox", fake, raising=False)
    assert run.measure_figures("sandbox", "sandbox", 2) == {"startup_seconds": [1.5, 1.7],
                                                         "request_p50_ms": [2.0, 2.5]}


ROUTE, STAGE = "aws:apigatewayv2/route:Route", "aws:apigatewayv2/stage:Stage"
FUNCTION = "aws:lambda/function:Function"


def test_what_a_config_adds_is_counted_by_type_leaving_out_what_did_not_change():
    before = counted(10, 2, {ROUTE: 10, STAGE: 1})
    after = counted(10, 2, {ROUTE: 10, STAGE: 1, FUNCTION: 1})
    assert analysis.added(before, after) == {FUNCTION: 1}


def test_one_more_route_is_stated_only_if_every_pair_of_sizes_agrees():
    generated = [counted(r, g, {ROUTE: r, STAGE: 1, "g": g}) for g in (2, 5) for r in (10, 50, 300)]
    route = analysis.per_route(generated)
    assert route == analysis.PerRoute(4, {ROUTE: 1})
    # One size registers a resource more than a route's worth: no per-route figure.
    generated[1].counts = {**generated[1].counts, STAGE: 2}
    assert analysis.per_route(generated).per_type is None
    # Not a whole number of resources per route.
    odd = [counted(10, 2, {ROUTE: 10}), counted(50, 2, {ROUTE: 70})]
    assert analysis.per_route(odd).per_type is None
    # One size per group count: nothing compared, nothing stated.
    assert analysis.per_route([counted(10, 2, {ROUTE: 10})]) == analysis.PerRoute(0, None)


def test_the_lower_bound_charges_each_resource_a_routes_slope_over_the_resources_a_route_adds():
    floor = Case("floor", "floor", "floor", seconds=[0.2])
    services = Case("services", "services", "services", seconds=[0.4])
    blog = Case("blog", "blog", "program", seconds=[0.6], registered=30)
    sizes = (10, 100, 300)
    growth_list = analysis.growths([program(r, 5, [line(0.5, 0.002, r)]) for r in sizes])
    parts = analysis.breakdown(floor, services, blog, growth_list, resources_per_route=2)
    assert parts["program"] == pytest.approx([0.2])
    assert parts["lower bound"] == pytest.approx([0.4 + 30 * 0.002 / 2])
    assert "lower bound" not in analysis.breakdown(floor, services, blog, growth_list)


def clients_case(machine_clients: int, seconds: list[float]) -> Case:
    return Case(f"r50-m{machine_clients}", f"{machine_clients} machine clients", "program",
                shape={"routes": 50, "groups": 5, "machine_clients": machine_clients},
                seconds=seconds)


def test_growth_in_machine_clients_is_fitted_run_by_run_and_linear_only_if_every_run_is():
    straight = [clients_case(m, [1.0 + 0.01 * m, 1.1 + 0.01 * m]) for m in (0, 10, 25, 45)]
    growth = analysis.client_growth(straight)
    assert growth.sizes == (0, 10, 25, 45) and len(growth.fits) == 2
    assert [round(f.slope, 6) for f in growth.fits] == [0.01, 0.01]
    assert analysis.clients_target(growth).passed
    bent = [clients_case(m, [1.0 + 0.01 * m, 1.0 + 0.0005 * m * m]) for m in (0, 10, 25, 45)]
    assert not analysis.clients_target(analysis.client_growth(bent)).passed  # the second run


def test_fewer_than_three_client_counts_measure_nothing():
    assert analysis.client_growth([clients_case(0, [1.0]), clients_case(10, [1.1])]) is None
    assert not analysis.clients_target(None).measured


def test_sign_in_targets_are_ratios_of_the_same_runs_password_sign_in():
    passing = {"browser_vs_password": [1.9, 2.4], "client_credentials_vs_password": [0.3, 0.5],
               "first_call_vs_later": [1.1, 1.3]}
    assert all(t.passed for t in analysis.signin_targets(passing))
    slow = {**passing, "browser_vs_password": [1.9, 3.2]}  # one run over 3x: the target misses
    assert [t.passed for t in analysis.signin_targets(slow)] == [False, True, True]
    assert not any(t.measured for t in analysis.signin_targets({}))
