"""One measurement, in a fresh interpreter: ``python benchmarks/measure.py MODE [SPEC.json]``.

``benchmarks/run.py`` starts this once per measurement so every import is paid the way
``pulumi up`` pays it. It prints one JSON object as its last line of output.

Modes:
  floor           import pulumi, pulumi_aws and pulumi_random, nothing else
  services SPEC   the floor, then the provider classes the program uses (SPEC: "classes")
  program SPEC    the floor, then the program (``__main__.py``) under jwt_scoped.recording's mocks
                  with SPEC's "config"; the program of this repository, or of SPEC's "project"
                  folder; reports what it registered, by type, and the time spent in
                  garbage-collector pauses
  profile SPEC    ``program`` under cProfile: where the time goes, by package
  trigger-import DIR   import ``handler`` from the deployment package copied to DIR
  trigger-invoke SPEC  time ``handler.handler`` per call for SPEC's group counts, V1 and V2 events:
                       the mean per call of each repeat

Only the stdlib is imported before the clock starts; everything after it counts.
"""

import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests")
"""Where ``fixtures.trigger_events`` is: the trigger's tests and this share the events."""
FLOOR = ("pulumi", "pulumi_aws", "pulumi_random")
OURS = "ours (__main__.py, program/, jwt_scoped)"
HARNESS = "harness (jwt_scoped.recording, benchmarks/)"


def _floor() -> None:
    import importlib

    for name in FLOOR:
        importlib.import_module(name)


class _GcPauses:
    """Time spent in the cyclic garbage collector, and its full (generation 2) collections."""

    def __init__(self) -> None:
        import gc

        self.seconds = 0.0
        self.full = 0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.full += info["generation"] == 2


def floor(_spec: dict) -> dict:
    pauses = _GcPauses()
    start = time.perf_counter()
    _floor()
    return {"seconds": time.perf_counter() - start, "gc_seconds": pauses.seconds,
            "gc_full": pauses.full}


def services(spec: dict) -> dict:
    import importlib

    pauses = _GcPauses()
    start = time.perf_counter()
    _floor()
    for module, cls in spec["classes"]:
        getattr(importlib.import_module(module), cls)
    return {"seconds": time.perf_counter() - start, "gc_seconds": pauses.seconds,
            "gc_full": pauses.full}


def _run_program(spec: dict):
    """As ``pulumi up`` runs it: from its folder, first on ``sys.path`` (``run_program`` does)."""
    from jwt_scoped.project import Project
    from jwt_scoped.recording import run_program

    return run_program(Project.load(spec.get("project", ROOT)), spec["config"])


def program(spec: dict) -> dict:
    pauses = _GcPauses()
    start = time.perf_counter()
    _floor()
    run = _run_program(spec)
    seconds = time.perf_counter() - start
    counts: dict[str, int] = {}
    for resource in run.registered:
        counts[resource.type] = counts.get(resource.type, 0) + 1
    return {"seconds": seconds, "registered": len(run.registered), "counts": counts,
            "gc_seconds": pauses.seconds, "gc_full": pauses.full}


def _bucket(filename: str) -> str | None:
    """Who owns code in ``filename``; ``None`` for the stdlib and builtins. The components are
    ours wherever ``jwt_scoped`` is installed (editable: components/jwt_scoped); its mocks are
    the harness. Called after the profile, so ``jwt_scoped`` is imported."""
    package = os.path.dirname(sys.modules["jwt_scoped"].__file__)
    if filename == os.path.join(package, "recording.py") or filename.startswith(
            os.path.join(ROOT, "benchmarks") + os.sep):
        return HARNESS
    if filename.startswith(package + os.sep):
        return OURS
    if "/site-packages/" in filename:  # before ROOT: the virtualenv may be inside it
        top = filename.split("/site-packages/", 1)[1].split("/", 1)[0]
        return {"pulumi": "pulumi SDK", "pulumi_aws": "pulumi_aws", "pulumi_random": "pulumi_random",
                "grpc": "grpc + protobuf", "google": "grpc + protobuf"}.get(top, "other packages")
    if filename.startswith(ROOT + os.sep):
        return OURS
    return None


def _attribute(stats: dict) -> dict[str, float]:
    """Self time by owner. Time spent in the stdlib or builtins (import machinery, typing,
    asyncio, ...) is charged to the nearest caller that is not, in proportion to what each
    caller spent there: an import is charged to whoever imported."""
    owned: dict[str, float] = {}
    pending: dict[tuple, float] = {}
    for func, (_, _, self_time, _, _) in stats.items():
        owner = _bucket(func[0])
        if owner is None:
            pending[func] = pending.get(func, 0.0) + self_time
        else:
            owned[owner] = owned.get(owner, 0.0) + self_time
    for _ in range(200):  # recursion in the stdlib passes time around; it decays geometrically
        if not pending:
            break
        moving, pending = pending, {}
        for func, amount in moving.items():
            callers = stats[func][4]
            total = sum(edge[3] for edge in callers.values())
            if not callers or total <= 0 or amount < 1e-9:
                owned["stdlib (no caller outside it)"] = (
                    owned.get("stdlib (no caller outside it)", 0.0) + amount)
                continue
            for caller, edge in callers.items():
                share = amount * edge[3] / total
                owner = _bucket(caller[0])
                if owner is None:
                    pending[caller] = pending.get(caller, 0.0) + share
                else:
                    owned[owner] = owned.get(owner, 0.0) + share
    if pending:
        owned["stdlib (no caller outside it)"] = (
            owned.get("stdlib (no caller outside it)", 0.0) + sum(pending.values()))
    return owned


def profile(spec: dict) -> dict:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    _floor()
    _run_program(spec)
    profiler.disable()
    seconds = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    ours: dict[str, float] = {}
    for (filename, line, name), (_, _, self_time, _, _) in stats.items():
        if _bucket(filename) == OURS:
            where = f"{os.path.relpath(filename, ROOT)}:{line}({name})"
            ours[where] = ours.get(where, 0.0) + self_time
    top_ours = sorted(ours.items(), key=lambda kv: -kv[1])[:5]
    return {"seconds": seconds, "buckets": _attribute(stats), "top_ours": top_ours,
            "ours_self": sum(ours.values())}


def trigger_import(package_dir: str) -> dict:
    import importlib
    import io
    from contextlib import redirect_stdout

    sys.path.insert(0, package_dir)  # Lambda puts the package (/var/task) first on the path
    before = set(sys.modules)
    printed = io.StringIO()
    with redirect_stdout(printed):
        start = time.perf_counter()
        importlib.import_module("handler")
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "printed": printed.getvalue(),
            "modules": sorted(set(sys.modules) - before)}


def trigger_invoke(spec: dict) -> dict:
    import copy
    import gc
    import importlib
    from contextlib import redirect_stdout

    sys.path.insert(0, spec["package"])
    sys.path.append(FIXTURES)
    handler = importlib.import_module("handler").handler
    events = importlib.import_module("fixtures.trigger_events")
    results = []
    with open(os.devnull, "w") as devnull:
        for version, template in (("V1", events.V1_EVENT), ("V2", events.V2_EVENT)):
            for count in spec["groups"]:
                base = copy.deepcopy(template)
                base["request"]["groupConfiguration"]["groupsToOverride"] = [
                    f"group{i:03d}" for i in range(count)]
                per_call = []
                for _ in range(spec["repeats"]):
                    # Fresh events each call (the handler writes into the response), built
                    # before the clock starts; GC off while timing, as timeit does.
                    batch = [copy.deepcopy(base) for _ in range(spec["calls"])]
                    gc.collect()
                    gc.disable()
                    try:
                        with redirect_stdout(devnull):
                            start = time.perf_counter()
                            for event in batch:
                                handler(event, None)
                            elapsed = time.perf_counter() - start
                    finally:
                        gc.enable()
                    per_call.append(elapsed / spec["calls"])
                    granted = batch[-1]["response"]
                results.append({"version": version, "groups": count, "per_call": per_call,
                                "granted": _granted(granted, version)})
    return {"results": results}


def _granted(response: dict, version: str) -> int:
    """How many scopes the last call wrote (a sanity check that the timed calls did the work)."""
    if version == "V1":
        return len(response["claimsOverrideDetails"]["claimsToAddOrOverride"]["scope"].split())
    # V2_0: added to the access token only (components/jwt_scoped/trigger/handler.py).
    return len(response["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["scopesToAdd"])


MODES = {"floor": floor, "services": services, "program": program, "profile": profile,
         "trigger-invoke": trigger_invoke}


def main(argv: list[str]) -> None:
    mode = argv[1]
    if mode == "trigger-import":
        result = trigger_import(argv[2])
    else:
        spec = {}
        if len(argv) > 2:
            with open(argv[2]) as file:
                spec = json.load(file)
        result = MODES[mode](spec)
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv)
