"""Benchmarks: how program evaluation grows with routes, what it registers, what the trigger
costs per sign-in, and the local sandbox (``benchmarks/sandbox.py``). Run from the
repository root:

    python benchmarks/run.py                    # full run, a few minutes
    python benchmarks/run.py --quick            # smoke run: fewer runs and sizes
    python benchmarks/run.py --markdown out.md  # also write the report to a file

Every program measurement runs in a fresh interpreter (``benchmarks/measure.py``) under the
mocked provider of ``jwt_scoped.recording``, after one discarded warm-up. Rounds are interleaved
round-robin; a run is the fastest of ``--best-of`` consecutive rounds, the same rounds for every
case, and every figure is reported as min / median / max over the runs. The report (markdown)
goes to stdout, progress to stderr; docs/performance.md explains it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, as for `pulumi up`
# The benchmarks measure the configs the tests deploy: tests/fixtures/stacks.py (and the trigger's
# events, tests/fixtures/trigger_events.py), imported as fixtures.stacks and fixtures.trigger_events.
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests"))

from benchmarks import analysis, report
from benchmarks.cases import (
    CLIENT_COUNTS,
    GROUPS,
    ROUTES,
    Case,
    client_cases,
    floor_case,
    program_cases,
    second_function_case,
    services_case,
)
from benchmarks.fitting import best_of

ROOT = Path(__file__).resolve().parents[1]
MEASURE = ROOT / "benchmarks" / "measure.py"
TRIGGER_GROUPS = (1, 10, 100)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
        case.record(result, wall)


# --- machine ----------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def machine_info() -> dict[str, str]:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    info = {"CPU": cpu_model(), "Cores": f"{cores} ({usable} usable by this process)",
            "OS": platform.platform(),
            "Python": f"{platform.python_implementation()} {platform.python_version()}"}
    for package in ("pulumi", "pulumi-aws", "pulumi-random"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    info["Load average at start (1 / 5 / 15 min)"] = load_average()
    info["Date (UTC)"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    return info


# --- measurements -----------------------------------------------------------------------------


def measure_programs(runner: Runner, timed: Sequence[Case], runs: int, best_of: int) -> None:
    rounds = runs * best_of
    for i in range(rounds):
        for case in timed:
            runner.measure(case)
            log(f"round {i + 1}/{rounds}  {case.label:45} {case.seconds[-1]:.3f} s")
    for case in timed:
        case.keep_best_of(best_of)


def measure_profiles(runner: Runner, cases: Sequence[Case], runs: int) -> dict[str, list[dict]]:
    profiles: dict[str, list[dict]] = {case.label: [] for case in cases}
    for i in range(runs):
        for case in cases:
            log(f"profile {i + 1}/{runs} {case.label}")
            profiles[case.label].append(runner.run("profile", case.spec)[0])
    return profiles


def trigger_package(workdir: Path) -> Path:
    """The trigger's deployment package, file for file as ``ScopedIdentityPool`` ships it."""
    from jwt_scoped.python_function import PACKAGE_DIR, package_files, packaged_function

    package = workdir / "trigger-package"
    package.mkdir()
    extra = {"scope_format.py": str(PACKAGE_DIR / "scope_format.py")}
    for name, source in package_files(packaged_function("trigger"), extra).items():
        shutil.copy(source, package / name)
    return package


def time_imports(runner: Runner, package: Path, flags: Sequence[str], count: int, label: str
                 ) -> list[dict]:
    results = []
    for i in range(count):
        log(f"  trigger import ({label}) {i + 1}/{count}")
        results.append(runner.run("trigger-import", python_flags=flags, argument=str(package))[0])
    return results


def measure_trigger(runner: Runner, workdir: Path, imports: int, calls: int, repeats: int,
                    best: int) -> dict:
    """Each import figure is the best of ``best`` imports, each per-call figure the best of
    ``best`` repeats of ``calls`` calls."""
    package = trigger_package(workdir)
    # Lambda ships .py files only and /var/task is read-only, so a cold start compiles the
    # handler: -B (write no bytecode) keeps every import a compiling one. -I: no user site or
    # PYTHON* variables.
    cold = time_imports(runner, package, ("-I", "-B"), imports * best, "compiling")
    cached_package = workdir / "trigger-package-cached"
    shutil.copytree(package, cached_package)
    runner.run("trigger-import", python_flags=("-I",), argument=str(cached_package))  # writes .pyc
    cached = time_imports(runner, cached_package, ("-I",), imports * best, "cached bytecode")
    log("  trigger invocations")
    invoke, _ = runner.run("trigger-invoke", {"package": str(package), "groups": list(TRIGGER_GROUPS),
                                              "calls": calls, "repeats": repeats * best})
    for result in invoke["results"]:
        result["per_call"] = best_of(result["per_call"], best)
    return {"cold": best_of([r["seconds"] for r in cold], best),
            "cached": best_of([r["seconds"] for r in cached], best),
            "modules": cold[-1]["modules"], "printed": "".join(r["printed"] for r in cold),
            "invoke": invoke["results"], "calls": calls}


def measure_figures(module: str, label: str, runs: int, **options) -> dict[str, list[float]]:
    """``benchmarks/<module>.py``'s figures, one value per run: its ``figures(**options)`` is
    one run (the sandbox's, keyed as ``report.SANDBOX_FIGURES``; the sign-ins', as
    ``report.SIGNIN_FIGURES``)."""
    measure = importlib.import_module(f"benchmarks.{module}")
    figures: dict[str, list[float]] = {}
    for i in range(runs):
        log(f"{label} {i + 1}/{runs}")
        for key, value in measure.figures(**options).items():
            figures.setdefault(key, []).append(value)
    return figures


# --- command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 runs, 10/100/300 routes over 5 groups, shorter trigger and "
                             "sandbox runs, no profile")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 5; 3 with --quick)")
    parser.add_argument("--best-of", type=int,
                        help="rounds per run: each run is the fastest of them (default 3; 1 with --quick)")
    parser.add_argument("--routes", type=lambda s: tuple(int(v) for v in s.split(",")),
                        help=f"route counts (default {','.join(map(str, ROUTES))})")
    parser.add_argument("--groups", type=lambda s: tuple(int(v) for v in s.split(",")),
                        help=f"group counts (default {','.join(map(str, GROUPS))})")
    parser.add_argument("--no-profile", dest="profile", action="store_false", default=None,
                        help="skip the cProfile breakdown (skipped by default with --quick)")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.runs = args.runs or (3 if args.quick else 5)
    args.best_of = args.best_of or (1 if args.quick else 3)
    args.routes = args.routes or ((10, 100, 300) if args.quick else ROUTES)
    args.groups = args.groups or ((5,) if args.quick else GROUPS)
    args.profile = (not args.quick) if args.profile is None else args.profile
    if (args.runs < 1 or args.best_of < 1 or any(r < 1 or r > 300 for r in args.routes)
            or any(g < 1 for g in args.groups)):
        parser.error("runs and best-of >= 1, routes 1..300 (API Gateway's quota), groups >= 1")
    return args


def render(args, machine, elapsed, floor, services, blog, generated, two_functions, profiles,
           trigger, sandbox, signin=None, clients=()) -> str:
    client_growth = analysis.client_growth(clients)
    growth_list = analysis.growths(generated)
    route = analysis.per_route(generated)
    per_route_total = sum(route.per_type.values()) if route.per_type else None
    by_size = sorted(generated, key=lambda c: (c.shape["routes"], c.shape["groups"]))
    command = " ".join(["python benchmarks/run.py", *args.argv])
    lines = [*report.header(command, args.runs, args.best_of, elapsed, machine),
             *report.program_table(floor, services, blog, generated),
             *report.provider_classes_line(services),
             *report.growth_table(growth_list), *report.growth_summary(growth_list),
             *report.breakdown_table(analysis.breakdown(floor, services, blog, growth_list,
                                                        per_route_total), floor, blog),
             *report.profile_table(profiles),
             *report.economy_table([blog, two_functions, by_size[0], by_size[-1]], route, blog,
                                   two_functions),
             *report.trigger_tables(trigger),
             *report.clients_table(clients, client_growth),
             *report.sandbox_table(sandbox),
             *report.signin_table(signin or {}),
             *report.targets_table(analysis.targets(floor, blog, generated, trigger, sandbox,
                                                    signin, client_growth)),
             f"Load average at end (1 / 5 / 15 min): {load_average()}"]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="jwt-scoped-api-bench-") as tmp:
        workdir = Path(tmp)
        runner = Runner(workdir)
        floor = floor_case()
        blog, generated = program_cases(args.routes, args.groups)
        log("warm-up (discarded)")
        runner.run("floor")
        services = services_case(runner.run("program", blog.spec)[0]["counts"])
        clients = client_cases(CLIENT_COUNTS)
        measure_programs(runner, [floor, services, blog, *generated, *clients], args.runs,
                         args.best_of)
        two_functions = second_function_case(workdir)
        measure_programs(runner, [two_functions], 1, 1)  # counts only: they do not vary
        profiles = {}
        if args.profile:
            largest = max(generated, key=lambda c: (c.shape["routes"], c.shape["groups"]))
            profiles = measure_profiles(runner, [blog, largest], min(args.runs, 3))
        log("trigger")
        trigger = measure_trigger(runner, workdir, imports=8 if args.quick else 20,
                                  calls=500 if args.quick else 2000, repeats=3 if args.quick else 7,
                                  best=args.best_of)
        sandbox = measure_figures("sandbox", "sandbox", args.runs,
                                  **({"requests": 200, "seconds": 1.0} if args.quick else {}))
        signin = measure_figures("signin", "sign-in", args.runs,
                                 **({"rounds": 15} if args.quick else {}))
    text = render(args, machine, time.perf_counter() - started, floor, services, blog, generated,
                  two_functions, profiles, trigger, sandbox, signin, clients)
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text)
        log(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
