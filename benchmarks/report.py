"""The benchmark report as markdown tables: every figure is min / median / max over the runs. What
the figures mean is explained in docs/performance.md, not here."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks import analysis
from benchmarks.analysis import Growth, PerRoute, Target
from benchmarks.cases import Case
from benchmarks.fitting import Spread

SPREAD = "min / median / max"
# The local sandbox's figures (benchmarks/sandbox.py), one value per run:
# key -> (label, unit, digits).
SANDBOX_FIGURES = {
    "startup_seconds": ("startup, command to serving (blog config)", "s", 2),
    "startup_vs_floor": ("startup ÷ the import floor", "x", 2),
    "request_p50_ms": ("authorized request through the local gateway, warm, p50", "ms", 2),
    "request_p50_vs_bare": ("p50 ÷ a bare server of the same HTTP stack", "x", 2),
    "requests_per_second": ("requests per second, 20 concurrent clients", "req/s", 0),
    "requests_per_second_vs_bare": ("requests per second ÷ the bare server's", "x", 2),
    "failed_requests": ("failed requests", "", 0),
    "soak_requests": ("soak: authorized requests sent", "", 0),
    "rss_growth_mb": ("soak: the sandbox's resident set grew by", "MB", 1),
    "rss_after_vs_before": ("soak: resident set after ÷ before", "x", 3),
}


SIGNIN_FIGURES = {
    "password_ms": ("password sign-in (InitiateAuth), p50", "ms", 2),
    "browser_ms": ("browser sign-in (authorize, login, code exchange), p50", "ms", 2),
    "browser_vs_password": ("browser ÷ password sign-in", "x", 2),
    "client_credentials_ms": ("client-credentials token, p50", "ms", 2),
    "client_credentials_vs_password": ("client credentials ÷ password sign-in", "x", 2),
    "first_call_ms": ("first API call with a fresh token, p50", "ms", 2),
    "later_call_ms": ("the calls after it, p50", "ms", 2),
    "first_call_vs_later": ("first call ÷ the calls after it", "x", 2),
}


def spread(values: Sequence[float] | Spread, digits: int = 3, scale: float = 1.0) -> str:
    s = (values if isinstance(values, Spread) else Spread.of(values)).scaled(scale)
    return f"{s.min:.{digits}f} / {s.median:.{digits}f} / {s.max:.{digits}f}"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return lines + [""]


def header(command: str, runs: int, best_of: int, elapsed: float, machine: dict[str, str]
           ) -> list[str]:
    each = f", each the fastest of {best_of} rounds" if best_of > 1 else ""
    return ["# Benchmarks", "",
            f"`{command}`: {runs} runs{each}; every figure is {SPREAD} over the runs. "
            f"Took {elapsed:.0f} s.", "",
            *table(["Machine", ""], list(machine.items()))]


def program_table(floor: Case, services: Case, blog: Case, generated: Sequence[Case]) -> list[str]:
    rows = []
    for case in (floor, services, blog, *generated):
        shape = case.shape or {}
        rows.append([case.label, shape.get("routes", ""), shape.get("groups", ""),
                     case.registered if case.registered is not None else "",
                     spread(case.seconds),
                     spread(analysis.per_run_ratio(case.seconds, floor.seconds), 2),
                     spread(analysis.per_run_ratio(case.seconds, blog.seconds), 2),
                     spread(case.gc_seconds), spread(case.gc_full, 0),
                     spread([s / shape["routes"] for s in case.seconds], 2, 1e3) if shape else ""])
    return ["## Program evaluation under the mocked provider", "",
            *table(["Config", "Routes", "Groups", "Resources", "Seconds", "× floor", "× blog",
                    "GC pauses s", "Full GCs", "ms per route"], rows)]


def provider_classes_line(services: Case) -> list[str]:
    classes = services.spec["classes"]
    return [f"Provider classes ({len(classes)}): "
            + ", ".join(f"`{m.removeprefix('pulumi_')}.{c}`" for m, c in classes) + ".", ""]


def growth_table(growth_list: Sequence[Growth]) -> list[str]:
    rows = [[g.series, g.groups, spread(g.slope, 2, 1e3), spread(g.intercept),
             f"{g.worst_residual * 100:.1f}%", f"{g.min_r2:.3f}", "yes" if g.linear else "NO",
             spread(g.marginal_ratios, 2), "yes" if g.flat else "no"]
            for g in growth_list]
    return ["### Growth with routes (a line per run)", "",
            *table(["Series", "Groups", "Slope ms/route", "Intercept s", "Worst deviation, all runs",
                    "Lowest R²", "Linear in every run", "Marginal ms/route high ÷ low sizes",
                    "Flat in every run"], rows)]


def growth_summary(growth_list: Sequence[Growth]) -> list[str]:
    total = [g for g in growth_list if g.series == "total"]
    if not total:
        return []
    runs = min(len(g.fits) for g in total)
    worst = max(g.worst_residual for g in total)
    verdict = "yes" if all(g.linear for g in total) else "NO"
    return [f"Total time linear in every run: **{verdict}**. Worst deviation from the run's line "
            f"over {runs} runs × {len(total)} group counts: {worst * 100:.1f}% (limit "
            f"{analysis.MAX_LINE_RESIDUAL:.0%}); lowest R² {min(g.min_r2 for g in total):.3f} "
            f"(limit {analysis.MIN_LINE_R2}).", ""]


def breakdown_table(parts: dict[str, list[float]], floor: Case, blog: Case) -> list[str]:
    labels = {"floor": "import floor (pulumi, pulumi_aws, pulumi_random)",
              "provider classes": "+ the provider classes the program uses",
              "program": f"+ evaluating the program ({blog.registered} resources)",
              "lower bound": "lower bound: provider classes + resources × the SDK's marginal "
                             "cost per resource (no GC)"}
    rows = [[labels[key], spread(values), spread(analysis.per_run_ratio(values, floor.seconds), 2)]
            for key, values in parts.items()]
    lines = ["### Where the blog config's time goes", "", *table(["Part", "Seconds", "× floor"], rows)]
    if "lower bound" in parts:
        above = sum(b > t for b, t in zip(parts["lower bound"], blog.seconds, strict=True))
        lines += [f"The lower bound exceeds the blog config's own time in {above} of "
                  f"{len(blog.seconds)} runs" + (": too noisy to use." if above else "."), ""]
    return lines


def profile_table(profiles: dict[str, list[dict]]) -> list[str]:
    if not profiles:
        return []
    shares = {label: analysis.profile_shares(runs) for label, runs in profiles.items()}
    owners = sorted({o for s in shares.values() for o in s},
                    key=lambda o: -max(max(s.get(o, [0])) for s in shares.values()))
    rows = [[owner] + [spread(s[owner], 1, 100) + " %" if owner in s else "" for s in shares.values()]
            for owner in owners]
    ours = [[label, spread([r["ours_self"] for r in runs], 1, 1e3),
             ", ".join(f"`{where}`" for where, _ in runs[0]["top_ours"][:3])]
            for label, runs in profiles.items()]
    return ["### Share of the profiled time by owner (cProfile)", "",
            *table(["Owner", *profiles], rows),
            *table(["Config", "Our functions' own time, ms", "Hottest (first run)"], ours)]


def _added_text(delta: dict[str, int]) -> str:
    return f"{sum(delta.values())}: " + ", ".join(f"{n} `{typ}`" for typ, n in delta.items())


def economy_table(shown: Sequence[Case], route: PerRoute, blog: Case, two_functions: Case
                  ) -> list[str]:
    """Counts by type of a few configs, what one more route adds, and what one more distinct
    route function adds (``two_functions`` against ``blog``)."""
    types = sorted({t for c in shown for t in c.counts})
    rows = [[f"`{typ}`", *(c.counts.get(typ, 0) for c in shown)] for typ in types]
    rows.append(["**total**", *(f"**{c.registered}**" for c in shown)])
    rows.append(["of them AWS resources (`aws:`)",
                 *(sum(n for t, n in c.counts.items() if t.startswith("aws:")) for c in shown)])
    if not route.pairs:
        per_route = "not measured (one route count)."
    elif route.per_type is None:
        per_route = (f"**not the same** in the {route.pairs} pairs of route counts compared (see the "
                     "counts above).")
    else:
        per_route = f"{_added_text(route.per_type)} (the same in all {route.pairs} pairs of route counts)."
    per_function = _added_text(analysis.added(blog, two_functions))
    return ["## Resource economy", "", "Resources registered, by type (they do not vary between runs):", "",
            *table(["Type", *(c.label for c in shown)], rows),
            f"**One more route adds** {per_route}", "",
            f"**One more distinct route function adds** {per_function} (the blog config, and the "
            "same with its second route on a second function in a copy of the program that has "
            "one more function folder).", ""]


def trigger_tables(trigger: dict) -> list[str]:
    imports = [["compiling (.py only, as on Lambda)", spread(trigger["cold"], 2, 1e3), len(trigger["cold"])],
               ["cached bytecode", spread(trigger["cached"], 2, 1e3), len(trigger["cached"])]]
    calls = [[r["version"], r["groups"], r["granted"], spread(r["per_call"], 2, 1e6), len(r["per_call"])]
             for r in trigger["invoke"]]
    printed = "none" if not trigger["printed"] else repr(trigger["printed"])
    return ["## Pre Token Generation trigger", "",
            *table(["Import of `handler`, fresh interpreter", "ms", "Runs"], imports),
            f"Modules the import loads: {', '.join(f'`{m}`' for m in trigger['modules'])}. "
            f"Output at import: {printed}.", "",
            *table(["Event", "Groups", "Scopes granted", "µs per call", "Runs"], calls),
            f"Each run: the fastest repeat of {trigger['calls']} fresh events, GC off while timing.", ""]


def figures_table(title: str, figures: dict[str, list[float]],
                  names: dict[str, tuple[str, str, int]]) -> list[str]:
    """One row per figure measured: its label, its spread over the runs, and the run count."""
    rows = [[label, spread(figures[key], digits) + (f" {unit}" if unit else ""), len(figures[key])]
            for key, (label, unit, digits) in names.items() if figures.get(key)]
    return [f"## {title}", "", *table(["Figure", SPREAD, "Runs"], rows)] if rows else []


def sandbox_table(sandbox: dict[str, list[float]]) -> list[str]:
    return figures_table("Local sandbox", sandbox, SANDBOX_FIGURES)


def clients_table(cases: Sequence[Case], growth) -> list[str]:
    if not cases:
        return []
    rows = [[c.label, spread(c.seconds, 3, 1000), len(c.seconds)]
            for c in sorted(cases, key=lambda c: c.shape["machine_clients"])]
    lines = ["## Program evaluation and machine clients", "",
             *table(["Config", f"ms, {SPREAD}", "Runs"], rows)]
    if growth is not None:
        slopes = [fit.slope * 1000 for fit in growth.fits]
        lines += [f"Per machine client: {spread(slopes, 3)} ms (slope of a line fitted run by "
                  f"run; worst relative residual {max(f.worst_relative_residual for f in growth.fits):.3f}).",
                  ""]
    return lines


def signin_table(signin: dict[str, list[float]]) -> list[str]:
    return figures_table("Signing in (sandbox, `Pulumi.machines.yaml`)", signin, SIGNIN_FIGURES)


def targets_table(target_list: Sequence[Target]) -> list[str]:
    rows = []
    for t in target_list:
        if not t.measured:
            rows.append([t.name, "not measured", "", ""])
            continue
        ratio = f"{t.worst / t.limit:.2f}" if t.limit else ""
        rows.append([t.name, f"{spread(t.values, 2)} {t.unit} ({t.what})", ratio,
                     "PASS" if t.passed else "**MISS**"])
    return ["## Targets (pass only if the worst run passes)", "",
            *table(["Target", f"Measured, {SPREAD}", "Worst ÷ limit", "Result"], rows)]
