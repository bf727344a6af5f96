"""Stack configs for the access tests, and their plans: the program run under Pulumi's mocks with
the config, its resources read back as the tools read them (``jwt_scoped.access``)."""

from __future__ import annotations

import functools
import json

from jwt_scoped.access.matrix import AccessMatrix, build_matrix
from jwt_scoped.access.model import StackModel, resources_of_run, stack_model
from jwt_scoped.recording import Run, run_program
from jwt_scoped.sandbox.app import state_document

from fixtures.stacks import NS, PROJECT


@functools.lru_cache(maxsize=64)
def _run(key: str) -> Run:
    return run_program(PROJECT, json.loads(key))


def run_of(config: dict) -> Run:
    """The program's run with ``config`` (one run per distinct config in a test session)."""
    return _run(json.dumps(config, sort_keys=True))


def model_of(config: dict) -> StackModel:
    return stack_model(resources_of_run(run_of(config).registered))


def matrix_of(config: dict, *, placeholders: bool = True) -> AccessMatrix:
    """The plan of ``config``, as ``jwt-scoped plan`` computes it."""
    return build_matrix(model_of(config), placeholders=placeholders)


def state_of(config: dict, sandbox: dict | None = None) -> dict:
    """The state document of ``config`` deployed (a mocked run), as the sandbox writes it to
    ``state.json``: JSON through and through."""
    return json.loads(json.dumps(state_document(run_of(config), sandbox or {}), default=str))


def small_config(**extra) -> dict:
    """The blog's groups, users and routes, with ``extra`` project keys."""
    config = {"aws:region": "us-east-1",
              f"{NS}:groups": [{"name": "admin"}, {"name": "regular"}],
              f"{NS}:users": [{"username": "adminuser", "groups": ["admin", "regular"]},
                              {"username": "regularuser", "groups": ["regular"]}],
              f"{NS}:routes": [
                  {"route": "GET /AdminUser", "function": "hello", "groups": ["admin"]},
                  {"route": "GET /RegularUser", "function": "hello", "groups": ["regular"]}]}
    config.update({f"{NS}:{k}": v for k, v in extra.items()})
    return config
