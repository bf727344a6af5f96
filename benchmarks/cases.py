"""What the benchmarks measure: the program cases (configs) and what each run recorded for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.fitting import best_indices
from program.config import NAMESPACE

# The configs the tests deploy (tests/fixtures/stacks.py), so the benchmarks measure the same
# ones; benchmarks/run.py puts tests/ on sys.path for this import.
from fixtures.stacks import blog_config, config_shape, generated_config, program_copy

ROUTES = (10, 50, 100, 300)
GROUPS = (2, 5, 20)
# Pulumi type token package -> Python package; module names that are Python keywords get "_".
PROVIDER_PACKAGES = {"aws": "pulumi_aws", "random": "pulumi_random"}
PYTHON_MODULE_NAMES = {"lambda": "lambda_"}
SECOND_FUNCTION = "hello_again"


@dataclass
class Case:
    """One thing timed in a fresh interpreter, and its value in each run. Rounds are interleaved
    round-robin and a run is the best of the same consecutive rounds for every case, so run ``i``
    of every case was taken at the same time."""

    key: str
    label: str
    mode: str
    """``measure.py``'s mode: floor, services or program."""
    spec: dict = field(default_factory=dict)
    """What ``measure.py`` gets: for a program, its "config" and, unless it is this
    repository's, the "project" folder."""
    shape: dict | None = None
    """Routes, functions, groups, users and memberships of the config (``config_shape``)."""
    generated: bool = False
    seconds: list[float] = field(default_factory=list)
    gc_seconds: list[float] = field(default_factory=list)
    """Of ``seconds``, the time spent in garbage-collector pauses, per run."""
    gc_full: list[int] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    """The process's wall time, interpreter start included, per run."""
    registered: int | None = None
    counts: dict | None = None

    def record(self, result: dict, wall: float) -> None:
        self.seconds.append(result["seconds"])
        self.wall.append(wall)
        self.gc_seconds.append(result["gc_seconds"])
        self.gc_full.append(result["gc_full"])
        if "counts" in result:
            if self.counts is not None and result["counts"] != self.counts:
                raise RuntimeError(f"{self.label}: resource counts differ between runs")
            self.counts, self.registered = result["counts"], result["registered"]

    def keep_best_of(self, k: int) -> None:
        """Make each run the fastest of ``k`` consecutive rounds (with that round's GC figures)."""
        best = best_indices(self.seconds, k)
        self.seconds, self.gc_seconds, self.gc_full, self.wall = (
            [values[i] for i in best] for values in (self.seconds, self.gc_seconds, self.gc_full, self.wall))

    @property
    def without_gc(self) -> list[float]:
        return [s - g for s, g in zip(self.seconds, self.gc_seconds, strict=True)]


def floor_case() -> Case:
    return Case("floor", "floor: import pulumi, pulumi_aws, pulumi_random", "floor")


def services_case(counts: dict[str, int]) -> Case:
    return Case("services", "floor + provider classes used", "services",
                {"classes": provider_classes(counts)})


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


CLIENT_ROUTES = 50
CLIENT_COUNTS = (0, 10, 25, 45)  # up to the authorizer's 50 audiences with the one user client


def client_cases(machine_clients: Sequence[int]) -> list[Case]:
    """``CLIENT_ROUTES`` routes over 5 groups with more and more machine clients: how evaluation
    grows with clients."""
    cases = []
    for m in machine_clients:
        config = generated_config(CLIENT_ROUTES, 5, machine_clients=m)
        cases.append(Case(f"r{CLIENT_ROUTES}-m{m}", f"{CLIENT_ROUTES} routes, {m} machine clients",
                          "program", {"config": config}, config_shape(config)))
    return cases


def second_function_case(workdir: Path) -> Case:
    """The blog config with its second route served by a second function. The program has one
    route function (``functions/hello``) and a config may only name folders that exist, so this
    runs a copy of the program (the tests' ``program_copy``: ``Project.load`` runs any program
    folder) whose ``functions/`` also holds a copy of ``hello``: against the blog, it counts what
    one more distinct route function adds."""
    folder = workdir / "program-two-functions"
    folder.mkdir()
    project = program_copy(folder, ("hello", SECOND_FUNCTION))
    config = blog_config()
    config[f"{NAMESPACE}:routes"][1]["function"] = SECOND_FUNCTION
    return Case("two-functions", f"blog, 2nd route on `{SECOND_FUNCTION}` (program copy)", "program",
                {"config": config, "project": str(project.root)}, config_shape(config))


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
