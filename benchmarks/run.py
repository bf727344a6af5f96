"""Benchmarks: how program evaluation grows with routes, what it registers, and what the trigger
costs per sign-in. Run from the repository root:

    python benchmarks/run.py                    # full run, a couple of minutes
    python benchmarks/run.py --quick            # smoke run: fewer runs and sizes
    python benchmarks/run.py --markdown out.md  # also write the report to a file

Every program measurement runs in a fresh interpreter (``benchmarks/measure.py``), so imports are
paid as ``pulumi up`` pays them, under the same mocked provider the tests use
(``offline/recording.py``). Caches are warm: one discarded warm-up run first. Measurements are
interleaved round-robin and reported as medians, so load from other processes spreads evenly;
compare ratios, not absolute times, across machines. The report (markdown) goes to stdout,
progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import metadata
from pathlib import Path

# The repository (for `components`, `benchmarks`) and tests/ (the mocks and stack configs).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fitting import LineFit, exact_least_squares, line_fit, median
from offline.stacks import blog_config, config_shape, generated_config

ROOT = Path(__file__).resolve().parents[1]
MEASURE = ROOT / "benchmarks" / "measure.py"
ROUTES = (10, 50, 100, 300)
GROUPS = (2, 5, 20)
TRIGGER_GROUPS = (1, 10, 100)
FEATURES = ("routes", "functions", "groups", "users", "memberships")
# Pulumi type token package -> Python package; module names that are Python keywords get "_".
PROVIDER_PACKAGES = {"aws": "pulumi_aws", "random": "pulumi_random"}
PYTHON_MODULE_NAMES = {"lambda": "lambda_"}

# Targets (issue 4). Never loosen one here: a miss is reported, and explained in the README.
MAX_300_ROUTES_VS_BLOG = 10.0
MAX_BLOG_VS_FLOOR = 2.0
MAX_TRIGGER_10_GROUPS_US = 50.0
MAX_TRIGGER_IMPORT_MS = 5.0
# "Linear": a least-squares line fits every size within 10% and explains at least 95% of the
# variance. "Flat" (reported, not a target): the marginal cost of a route at the high sizes is
# within 2/3-3/2 of that at the low sizes.
MAX_LINE_RESIDUAL = 0.10
MIN_LINE_R2 = 0.95
FLAT_MARGINAL = (2 / 3, 3 / 2)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Case:
    key: str
    label: str
    mode: str
    spec: dict = field(default_factory=dict)
    shape: dict | None = None
    generated: bool = False
    seconds: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    gc_seconds: list[float] = field(default_factory=list)
    """Of ``seconds``, the time spent in garbage-collector pauses."""
    gc_full: list[int] = field(default_factory=list)
    registered: int | None = None
    counts: dict | None = None

    @property
    def median(self) -> float:
        return median(self.seconds)

    @property
    def median_without_gc(self) -> float:
        return median([s - g for s, g in zip(self.seconds, self.gc_seconds, strict=True)])


class Runner:
    """Starts ``measure.py`` in a fresh interpreter per measurement."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.started = 0

    def run(self, mode: str, spec: dict | None = None, *, python_flags: Sequence[str] = (),
            argument: str | None = None) -> tuple[dict, float]:
        args = [sys.executable, *python_flags, str(MEASURE), mode]
        if spec is not None:
            path = self.workdir / f"spec-{self.started}.json"
            path.write_text(json.dumps(spec))
            args.append(str(path))
        if argument is not None:
            args.append(argument)
        self.started += 1
        start = time.perf_counter()
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600,
                              check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-4000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1]), wall

    def measure(self, case: Case) -> None:
        result, wall = self.run(case.mode, case.spec if case.mode != "floor" else None)
        case.seconds.append(result["seconds"])
        case.wall.append(wall)
        if "gc_seconds" in result:
            case.gc_seconds.append(result["gc_seconds"])
            case.gc_full.append(result["gc_full"])
        if "counts" in result:
            if case.counts is not None and result["counts"] != case.counts:
                raise RuntimeError(f"{case.label}: resource counts differ between runs")
            case.counts, case.registered = result["counts"], result["registered"]


# --- machine -----------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, str]:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    info = {
        "CPU": cpu_model(),
        "Cores": f"{cores} ({usable} usable by this process)",
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }
    for package in ("pulumi", "pulumi-aws", "pulumi-random"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    if hasattr(os, "getloadavg"):
        info["Load average at start"] = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    info["Date (UTC)"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    return info


# --- program evaluation --------------------------------------------------------------------------


def provider_classes(counts: dict[str, int]) -> list[tuple[str, str]]:
    """The provider SDK classes behind registered resource types, e.g.
    ``aws:lambda/function:Function`` -> ``("pulumi_aws.lambda_", "Function")``."""
    classes = []
    for typ in sorted(counts):
        package, module, cls = typ.split(":")
        if package not in PROVIDER_PACKAGES:
            continue  # our own components
        module = module.split("/")[0]
        python_module = PROVIDER_PACKAGES[package]
        if module != "index":
            python_module += "." + PYTHON_MODULE_NAMES.get(module, module)
        classes.append((python_module, cls))
    return classes


def program_cases(routes: Sequence[int], groups: Sequence[int]) -> tuple[Case, list[Case]]:
    blog = blog_config()
    blog_case = Case("blog", "blog (Pulumi.dev.yaml)", "program", {"config": blog}, config_shape(blog))
    generated = []
    for g in groups:
        for r in routes:
            config = generated_config(r, g)
            generated.append(Case(f"r{r}-g{g}", f"{r} routes, {g} groups", "program",
                                  {"config": config}, config_shape(config), generated=True))
    return blog_case, generated


def probe_cases() -> list[Case]:
    """Configs that vary what the timed ones hold fixed (functions, users), so every term of the
    resource formula is measured rather than assumed."""
    probes = {"probe-one-function": generated_config(10, 2, functions=("admin_user",)),
              "probe-one-user": generated_config(10, 2, users=1),
              "probe-seven-users": generated_config(10, 5, users=7)}
    return [Case(key, key, "program", {"config": c}, config_shape(c)) for key, c in probes.items()]


# --- trigger ---------------------------------------------------------------------------------------


def trigger_package(workdir: Path) -> Path:
    """The trigger's deployment package, file for file as ``ScopedIdentityPool`` ships it."""
    from jwt_scoped.identity_pool import DEFAULT_TRIGGER_DIR, SCOPE_FORMAT_FILE
    from jwt_scoped.python_function import package_files

    package = workdir / "trigger-package"
    package.mkdir()
    for name, source in package_files(DEFAULT_TRIGGER_DIR, {"scope_format.py": SCOPE_FORMAT_FILE}).items():
        shutil.copy(source, package / name)
    return package


def measure_trigger(runner: Runner, workdir: Path, imports: int, calls: int, repeats: int) -> dict:
    package = trigger_package(workdir)
    # Lambda ships .py files only and /var/task is read-only, so a cold start compiles the
    # handler: -B (write no bytecode) keeps every run a compiling one. -I: no user site or
    # PYTHON* variables.
    cold, modules, printed = [], [], ""
    for i in range(imports):
        log(f"  trigger import (compiling) {i + 1}/{imports}")
        result, _ = runner.run("trigger-import", python_flags=("-I", "-B"), argument=str(package))
        cold.append(result["seconds"])
        modules, printed = result["modules"], printed + result["printed"]
    cached_package = workdir / "trigger-package-cached"
    shutil.copytree(package, cached_package)
    runner.run("trigger-import", python_flags=("-I",), argument=str(cached_package))  # writes .pyc
    cached = []
    for i in range(imports):
        log(f"  trigger import (cached bytecode) {i + 1}/{imports}")
        result, _ = runner.run("trigger-import", python_flags=("-I",), argument=str(cached_package))
        cached.append(result["seconds"])
    log("  trigger invocations")
    invoke, _ = runner.run("trigger-invoke", {"package": str(package), "groups": list(TRIGGER_GROUPS),
                                              "calls": calls, "repeats": repeats})
    return {"cold": cold, "cached": cached, "modules": modules, "printed": printed,
            "invoke": invoke["results"], "calls": calls, "repeats": repeats}


# --- analysis ----------------------------------------------------------------------------------------


def fmt_fraction(value: Fraction | None) -> str:
    if value is None:
        return "?"
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def economy(cases: Sequence[Case]) -> dict:
    """Resource counts by type as an exact linear function of the config's shape."""
    measured = [c for c in cases if c.counts is not None]
    rows = [[c.shape[f] for f in FEATURES] + [1] for c in measured]
    types = sorted({t for c in measured for t in c.counts})
    per_type = {}
    exact = True
    for typ in types:
        coefficients, residuals = exact_least_squares(rows, [c.counts.get(typ, 0) for c in measured])
        per_type[typ] = coefficients
        exact = exact and not any(residuals)
    total, residuals = exact_least_squares(rows, [c.registered for c in measured])
    exact = exact and not any(residuals)
    return {"per_type": per_type, "total": total, "exact": exact, "configs": len(measured)}


def formula_text(coefficients: Sequence[Fraction | None]) -> str:
    terms = []
    for name, value in zip((*FEATURES, ""), coefficients, strict=True):
        if value == 0:
            continue
        terms.append(fmt_fraction(value) if not name else f"{fmt_fraction(value)}×{name}")
    return " + ".join(terms)


SERIES = {"total": lambda c: c.median, "without GC pauses": lambda c: c.median_without_gc}


def growth(cases: Sequence[Case]) -> list[dict]:
    """Per series (total time, or time without garbage-collector pauses) and group count: a
    least-squares line over route counts (linear: it fits every size within 10%), and whether
    the marginal cost of a route stays flat as routes grow."""
    out = []
    for series, value in SERIES.items():
        for g in sorted({c.shape["groups"] for c in cases}):
            points = sorted((c.shape["routes"], value(c)) for c in cases if c.shape["groups"] == g)
            if len(points) >= 3:
                out.append(growth_row(series, g, [p[0] for p in points], [p[1] for p in points]))
    return out


def growth_row(series: str, groups: int, xs: list[int], ys: list[float]) -> dict:
    fit: LineFit = line_fit(xs, ys)
    # Marginal cost per route low (smallest -> second largest size) and high (-> largest).
    lower = (ys[-2] - ys[0]) / (xs[-2] - xs[0])
    upper = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    ratio = upper / lower if lower > 0 else float("inf")
    row = {"series": series, "groups": groups, "fit": fit, "lower": lower, "upper": upper,
           "ratio": ratio,
           "linear": fit.worst_relative_residual <= MAX_LINE_RESIDUAL and fit.r2 >= MIN_LINE_R2,
           "flat": FLAT_MARGINAL[0] <= ratio <= FLAT_MARGINAL[1]}
    if 100 in xs and 300 in xs:
        row["t300_t100"] = ys[xs.index(300)] / ys[xs.index(100)]
        row["t300_t100_fit"] = fit.at(300) / fit.at(100)
    return row


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# --- report ---------------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return lines


def report(args, machine, floor, services, blog, generated, probes, profiles, trigger,
           elapsed) -> str:
    out: list[str] = ["# Benchmarks", ""]
    out += [f"`python benchmarks/run.py{' --quick' if args.quick else ''}` "
            f"({args.runs} runs per program measurement, medians; took {elapsed:.0f} s)", ""]
    out += table(["Machine", ""], list(machine.items())) + [""]

    # Program evaluation
    out += ["## Program evaluation under the mocked provider", "",
            "Seconds from the first import to the last resource registered, in a fresh interpreter "
            "(interpreter start excluded; the process wall time includes it). *floor*: `import "
            "pulumi, pulumi_aws, pulumi_random`. *provider classes*: the floor plus the provider "
            f"classes the program uses ({len(services.spec['classes'])}: "
            + ", ".join(f"`{m.removeprefix('pulumi_')}.{c}`" for m, c in services.spec["classes"])
            + ").", ""]
    rows = []
    previous: dict[int, Case] = {}
    for case in (floor, services, blog, *generated):
        shape = case.shape or {}
        per_route = marginal = pauses = ""
        if shape:
            per_route = f"{case.median / shape['routes'] * 1e3:.1f}"
        if case.gc_seconds:
            pauses = f"{median(case.gc_seconds):.3f} ({median(case.gc_full):.0f})"
        if case.generated:
            prev = previous.get(shape["groups"])
            if prev is not None:
                extra = (case.median - prev.median) / (shape["routes"] - prev.shape["routes"])
                marginal = f"{extra * 1e3:.2f}"
            previous[shape["groups"]] = case
        rows.append([case.label, shape.get("routes", ""), shape.get("groups", ""),
                     case.registered if case.registered is not None else "",
                     f"{case.median:.3f}", f"{min(case.seconds):.3f}–{max(case.seconds):.3f}",
                     pauses, f"{median(case.wall):.3f}", per_route, marginal,
                     f"{case.median / floor.median:.2f}x", f"{case.median / blog.median:.2f}x"])
    out += table(["Config", "Routes", "Groups", "Resources", "Median s", "Min–max s",
                  "GC pauses s (full collections)", "Process wall s", "ms per route",
                  "Marginal ms/route", "× floor", "× blog"], rows)
    out += ["", "*GC pauses*: of the median, time in the cyclic garbage collector (imports "
            "included), and how many full collections ran. *ms per route*: median ÷ routes. "
            "*Marginal*: the extra time per added route since the previous size with the same "
            "groups.", ""]

    out += ["### Growth with routes", ""]
    rows = []
    fits = growth(generated)
    for g in fits:
        fit = g["fit"]
        t3 = (f"{g['t300_t100']:.2f} (line: {g['t300_t100_fit']:.2f})" if "t300_t100" in g else "")
        rows.append([g["series"], g["groups"], f"{fit.slope * 1e3:.2f}", f"{fit.intercept:.3f}",
                     f"{fit.r2:.4f}", f"{fit.worst_relative_residual * 100:.1f}%",
                     "yes" if g["linear"] else "NO",
                     f"{g['lower'] * 1e3:.2f} → {g['upper'] * 1e3:.2f} ({g['ratio']:.2f}x)",
                     "yes" if g["flat"] else "no", t3])
    out += table(["Series", "Groups", "Slope ms/route", "Intercept s", "R²", "Worst residual",
                  "Linear", "Marginal ms/route, low → high sizes", "Flat", "t(300)/t(100)"], rows)
    total = [g for g in fits if g["series"] == "total"]
    own = [g for g in fits if g["series"] != "total"]
    if total:
        linear = all(g["linear"] for g in total)
        worst = max(g["fit"].worst_relative_residual for g in total)
        text = (f"**Growth is {'linear' if linear else 'NOT shown to be linear'}**: the least-squares "
                f"line fits every size of every group count within {worst * 100:.1f}% (limit "
                f"{MAX_LINE_RESIDUAL:.0%}) with R² ≥ {min(g['fit'].r2 for g in total):.3f} (limit "
                f"{MIN_LINE_R2}): a fixed cost of about "
                f"{median([g['fit'].intercept for g in total]):.2f} s plus about "
                f"{median([g['fit'].slope for g in total]) * 1e3:.1f} ms per route.")
        if all("t300_t100" in g for g in total):
            text += (" t(300)/t(100) is far below 3 because of the fixed cost; compare it with "
                     "the line's own ratio.")
        out += ["", text, ""]
        smallest, largest = min(args.routes), max(args.routes)
        full = {r: median([f for c in generated if c.shape["routes"] == r for f in c.gc_full])
                for r in (smallest, largest)}
        ratios = ", ".join(f"{g['ratio']:.2f}x" for g in own)
        text = (f"*Flat* asks more: that the marginal cost of a route at the high sizes stays within "
                f"{FLAT_MARGINAL[0]:.2f}–{FLAT_MARGINAL[1]:.1f}x of that at the low sizes. Without "
                f"garbage-collector pauses it is {ratios}: ")
        text += ("the program's own work per route is constant." if all(g["flat"] for g in own)
                 else "not flat at every group count (noise, or too small a span of sizes?).")
        text += (" The pauses come in steps: CPython runs a full collection only once the objects "
                 "that survived since the last one exceed a quarter of the long-lived heap, which "
                 "is mostly the imported provider SDK, and each walks that whole heap. Full "
                 f"collections per run: {full[smallest]:.0f} at {smallest} routes, "
                 f"{full[largest]:.0f} at {largest}.")
        out += [text, ""]

    fixed_imports = services.median - floor.median
    evaluation = blog.median - services.median
    gc_of = {c.key: median(c.gc_seconds) for c in (floor, services, blog)}
    out += ["### Where the blog config's time goes", "",
            f"- import floor (pulumi, pulumi_aws, pulumi_random): {floor.median:.3f} s (1.00x floor; "
            f"GC pauses {gc_of['floor']:.3f} s)",
            f"- plus the provider classes it uses: {fixed_imports:+.3f} s "
            f"({fixed_imports / floor.median:.2f}x floor; GC pauses "
            f"{gc_of['services'] - gc_of['floor']:+.3f} s)",
            f"- plus evaluating the program (settings, components, registering "
            f"{blog.registered} resources, resolving outputs under mocks): {evaluation:+.3f} s "
            f"({evaluation / floor.median:.2f}x floor; GC pauses "
            f"{gc_of['blog'] - gc_of['services']:+.3f} s)"]
    slopes = [g["fit"].slope for g in growth(generated) if g["series"] != "total"]
    if slopes:
        # Each added route adds exactly one resource (see the economy below), so the marginal
        # cost of a route, without GC pauses, is what the SDK charges to register one resource.
        per_resource = median(slopes)
        bound = services.median + blog.registered * per_resource
        out += [f"- lower bound if our code, the test harness and GC pauses cost nothing: provider "
                f"classes + {blog.registered} resources × {per_resource * 1e3:.2f} ms (the SDK's "
                f"marginal cost of one resource, without GC pauses) = {bound:.3f} s = "
                f"**{bound / floor.median:.2f}x floor**"
                + (" (above the blog's own time: too few runs, or too much noise, to trust it)"
                   if bound > blog.median else "")]
    out += [""]
    if profiles:
        buckets = sorted({b for p in profiles.values() for b in p["buckets"]},
                         key=lambda b: -max(p["buckets"].get(b, 0) for p in profiles.values()))
        rows = [[b] + [f"{p['buckets'].get(b, 0) / sum(p['buckets'].values()) * 100:.1f}%"
                       for p in profiles.values()] for b in buckets]
        out += ["Share of the profiled time (imports and evaluation) by owner, under cProfile. "
                "Time in the stdlib and builtins (import machinery, typing, asyncio) is charged "
                "to the nearest caller outside them: an import to whoever imported. cProfile "
                "inflates call-heavy code: read shares, not seconds.", ""]
        out += table(["Owner", *profiles], rows) + [""]
        for label, p in profiles.items():
            top = ", ".join(f"`{w}` {s * 1e3:.2f} ms" for w, s in p["top_ours"][:3])
            out += [f"- {label}: our functions' own time {p['ours_self'] * 1e3:.1f} ms in all; "
                    f"hottest {top}"]
        out += [""]

    # Resource economy
    eco = economy([blog, *generated, *probes])
    out += ["## Resource economy", "",
            f"Counts by type solved exactly (least squares over fractions) from {eco['configs']} "
            "configs: the timed ones plus probes that vary functions and users. "
            + ("Every count is matched exactly." if eco["exact"] else "**Some counts do not fit a "
               "linear formula: see the table.**"), ""]
    rows = [[f"`{typ}`", *(fmt_fraction(v) for v in coefficients)]
            for typ, coefficients in eco["per_type"].items()]
    rows.append(["**total**", *(f"**{fmt_fraction(v)}**" for v in eco["total"])])
    out += table(["Type", "per route", "per function", "per group", "per user",
                  "per membership", "fixed"], rows)
    out += ["", f"**Resources = {formula_text(eco['total'])}** (functions: distinct route "
            "functions; components count, as in `pulumi up`).", ""]

    # Trigger
    out += ["## Pre Token Generation trigger", ""]
    cold_ms, cached_ms = median(trigger["cold"]) * 1e3, median(trigger["cached"]) * 1e3
    out += table(["Import of `handler` (fresh interpreter)", "Median ms", "Min–max ms", "Runs"], [
        ["compiling, as on Lambda (.py only, read-only /var/task)", f"{cold_ms:.2f}",
         f"{min(trigger['cold']) * 1e3:.2f}–{max(trigger['cold']) * 1e3:.2f}", len(trigger["cold"])],
        ["cached bytecode", f"{cached_ms:.2f}",
         f"{min(trigger['cached']) * 1e3:.2f}–{max(trigger['cached']) * 1e3:.2f}",
         len(trigger["cached"])]])
    out += ["", f"Modules the import loads: {', '.join(f'`{m}`' for m in trigger['modules'])}. "
            f"Output at import: {'none' if not trigger['printed'] else repr(trigger['printed'])}.", ""]
    rows = [[r["version"], r["groups"], r["granted"], f"{r['best'] * 1e6:.2f}", f"{r['median'] * 1e6:.2f}"]
            for r in trigger["invoke"]]
    out += table(["Event", "Groups", "Scopes granted", "Best µs/call", "Median µs/call"], rows)
    out += ["", f"{trigger['calls']} fresh events per repeat, {trigger['repeats']} repeats, GC off "
            "while timing; the handler's one log line goes to /dev/null.", ""]

    # Targets
    out += ["## Targets", ""]
    rows = []
    at_300 = [c for c in generated if c.shape["routes"] == 300]
    if at_300:
        worst = max(at_300, key=lambda c: c.median)
        ratio = worst.median / blog.median
        rows.append(["300 routes ≤ 10x the blog config", f"{ratio:.2f}x ({worst.label})",
                     f"{ratio / MAX_300_ROUTES_VS_BLOG:.2f}", verdict(ratio <= MAX_300_ROUTES_VS_BLOG)])
    else:
        rows.append(["300 routes ≤ 10x the blog config", "not measured (no 300-route size)", "", ""])
    ratio = blog.median / floor.median
    rows.append(["blog config ≤ 2x the import floor", f"{ratio:.2f}x", f"{ratio / MAX_BLOG_VS_FLOOR:.2f}",
                 verdict(ratio <= MAX_BLOG_VS_FLOOR)])
    ten = [r for r in trigger["invoke"] if r["groups"] == 10]
    if ten:
        worst_us = max(r["median"] for r in ten) * 1e6
        rows.append(["trigger, 10-group user < 50 µs", f"{worst_us:.2f} µs (slower of V1, V2; median)",
                     f"{worst_us / MAX_TRIGGER_10_GROUPS_US:.2f}",
                     verdict(worst_us < MAX_TRIGGER_10_GROUPS_US)])
    rows.append(["trigger import < 5 ms", f"{cold_ms:.2f} ms (compiling; median)",
                 f"{cold_ms / MAX_TRIGGER_IMPORT_MS:.2f}", verdict(cold_ms < MAX_TRIGGER_IMPORT_MS)])
    out += table(["Target", "Measured", "Measured ÷ limit", "Result"], rows)
    if hasattr(os, "getloadavg"):
        out += ["", "Load average at end: " + " / ".join(f"{v:.2f}" for v in os.getloadavg())]
    return "\n".join(out) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 runs, 10/100/300 routes over 5 groups, shorter trigger runs")
    parser.add_argument("--runs", type=int, help="runs per program measurement (default 5; 3 with --quick)")
    parser.add_argument("--routes", type=lambda s: tuple(int(v) for v in s.split(",")),
                        help=f"route counts (default {','.join(map(str, ROUTES))})")
    parser.add_argument("--groups", type=lambda s: tuple(int(v) for v in s.split(",")),
                        help=f"group counts (default {','.join(map(str, GROUPS))})")
    parser.add_argument("--no-profile", dest="profile", action="store_false", default=None,
                        help="skip the cProfile breakdown (skipped by default with --quick)")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    args.runs = args.runs or (3 if args.quick else 5)
    args.routes = args.routes or ((10, 100, 300) if args.quick else ROUTES)
    args.groups = args.groups or ((5,) if args.quick else GROUPS)
    args.profile = (not args.quick) if args.profile is None else args.profile
    if args.runs < 1 or any(r < 1 or r > 300 for r in args.routes) or any(g < 1 for g in args.groups):
        parser.error("runs >= 1, routes 1..300 (API Gateway's quota), groups >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="jwt-scoped-api-bench-") as tmp:
        workdir = Path(tmp)
        runner = Runner(workdir)
        floor = Case("floor", "floor: import pulumi, pulumi_aws, pulumi_random", "floor")
        blog, generated = program_cases(args.routes, args.groups)

        log("warm-up (discarded)")
        runner.run("floor")
        warm, _ = runner.run("program", blog.spec)
        services = Case("services", "floor + provider classes used", "services",
                        {"classes": provider_classes(warm["counts"])})

        timed = [floor, services, blog, *generated]
        for i in range(args.runs):
            for case in timed:
                runner.measure(case)
                log(f"run {i + 1}/{args.runs}  {case.label:45} {case.seconds[-1]:.3f} s")

        probes = probe_cases()
        for case in probes:
            log(f"economy probe {case.label}")
            runner.measure(case)

        profiles = {}
        if args.profile:
            largest = max(generated, key=lambda c: (c.shape["routes"], c.shape["groups"]))
            for case in (blog, largest):
                log(f"profile {case.label}")
                result, _ = runner.run("profile", case.spec)
                profiles[case.label] = result

        log("trigger")
        trigger = measure_trigger(runner, workdir, imports=8 if args.quick else 20,
                                  calls=500 if args.quick else 2000, repeats=3 if args.quick else 7)

    text = report(args, machine, floor, services, blog, generated, probes, profiles, trigger,
                  time.perf_counter() - started)
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text)
        log(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
