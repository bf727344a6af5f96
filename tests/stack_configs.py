"""Stack configs the tests deploy under mocks: the blog's (read from Pulumi.dev.yaml, so the
file users run is the file tested) and a larger one that differs in every dimension."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NS = "jwt-scoped-api"


def stack_file_config(stack: str = "dev") -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def blog_config() -> dict:
    return copy.deepcopy(stack_file_config("dev"))


def scaled_config() -> dict:
    """Another region, three groups, four routes (one admitting two groups, one with a path
    parameter, one with ANY), access-token scopes, the default stage, a protected pool."""
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
        ],
        f"{NS}:corsOrigins": ["https://app.example.com"],
        f"{NS}:logRetentionDays": 90,
        f"{NS}:throttlingBurstLimit": 20,
        f"{NS}:throttlingRateLimit": 10,
    }
