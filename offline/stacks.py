"""Stack configs the tests deploy under mocks: the blog's (read from Pulumi.dev.yaml, so the
file users run is the file tested), a larger one that differs in every dimension, and generated
ones of any size (also what ``benchmarks/run.py`` measures)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import yaml

from program.config import NAMESPACE

ROOT = Path(__file__).resolve().parent.parent
NS = NAMESPACE


def stack_file_config(stack: str = "dev") -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def blog_config() -> dict:
    return copy.deepcopy(stack_file_config("dev"))


def scaled_config() -> dict:
    """Another region, three groups, six routes (one admitting two groups, one with a path
    parameter, one with ANY that needs a CORS preflight route, a public one and one for any
    signed-in user), access-token scopes, CORS, the default stage, a protected pool."""
    return {
        "aws:region": "eu-west-2",
        f"{NS}:tokenUse": "access",
        f"{NS}:callbackUrls": ["https://app.example.com/callback"],
        f"{NS}:groups": [{"name": "admin"}, {"name": "editor", "description": "Writes"},
                         {"name": "viewer", "precedence": 10}],
        f"{NS}:users": [
            {"username": "alice", "groups": ["admin"]},
            {"username": "erin", "groups": ["editor", "viewer"]},
            {"username": "victor", "groups": ["viewer"]},
            {"username": "nobody"},
        ],
        f"{NS}:routes": [
            {"route": "GET /AdminUser", "function": "admin_user", "groups": ["admin"]},
            {"route": "GET /RegularUser", "function": "regular_user", "groups": ["viewer"]},
            {"route": "POST /documents/{id}", "function": "regular_user",
             "groups": ["editor", "admin"]},
            {"route": "ANY /admin/{proxy+}", "function": "admin_user", "groups": ["admin"]},
            {"route": "GET /health", "function": "regular_user", "access": "public"},
            {"route": "GET /me", "function": "regular_user", "access": "signed-in"},
        ],
        f"{NS}:corsOrigins": ["https://app.example.com"],
        f"{NS}:logRetentionDays": 90,
        f"{NS}:throttlingBurstLimit": 20,
        f"{NS}:throttlingRateLimit": 10,
    }


# The route handlers under functions/ (the trigger is not one).
ROUTE_FUNCTIONS = ("admin_user", "regular_user")
_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def generated_config(routes: int, groups: int, *, users: int = 4,
                     functions: Sequence[str] = ROUTE_FUNCTIONS) -> dict:
    """A deterministic stack config: ``routes`` routes over ``groups`` groups and ``users`` users.

    Route ``i`` is ``<METHOD> /res<NNN>`` (five methods per path; every other path ends in
    ``/{id}``), is served by ``functions[i % len(functions)]`` and admits 1 to 3 groups
    (``i % 3 + 1``, at most ``groups``), rotating through all of them. User ``j`` belongs to
    ``min(j, groups)`` groups, so the first user belongs to none.
    """
    names = [f"group{g:02d}" for g in range(groups)]

    def some_groups(start: int, count: int) -> list[str]:
        return [names[(start + k) % groups] for k in range(min(count, groups))]

    route_list = []
    for i in range(routes):
        path = f"/res{i // len(_METHODS):03d}" + ("/{id}" if (i // len(_METHODS)) % 2 else "")
        route_list.append({"route": f"{_METHODS[i % len(_METHODS)]} {path}",
                           "function": functions[i % len(functions)],
                           "groups": some_groups(i, i % 3 + 1)})
    return {
        "aws:region": "us-east-1",
        f"{NS}:protectUserPool": False,
        f"{NS}:groups": [{"name": n} for n in names],
        f"{NS}:users": [{"username": f"user{j:02d}", "groups": some_groups(j, j)}
                        for j in range(users)],
        f"{NS}:routes": route_list,
    }


def config_shape(config: dict) -> dict[str, int]:
    """The sizes that resource counts depend on: routes, distinct route functions, groups,
    users and group memberships."""
    routes = config[f"{NS}:routes"]
    users = config.get(f"{NS}:users", [])
    return {"routes": len(routes),
            "functions": len({r["function"] for r in routes}),
            "groups": len(config[f"{NS}:groups"]),
            "users": len(users),
            "memberships": sum(len(u.get("groups", [])) for u in users)}
