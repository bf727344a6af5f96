"""The pack's config: per-policy options, their JSON schema (what the Pulumi CLI validates a
``--policy-pack-config`` file against, filling in defaults) and how a policy reads them.

A config file maps policy names to an enforcement level or to an object of options, e.g.::

    {"all": "mandatory",
     "api-route-authorization": {"publicRoutes": ["GET /health"], "signedInRoutes": ["GET /me"]},
     "cognito-deletion-protection": {"throwawayStacks": ["dev"]},
     "cognito-client-secret-exposure": {"secretOutputs": ["machine_client_secrets"]}}
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .lambda_checks import SUPPORTED_PYTHON_RUNTIMES

ENFORCEMENT_LEVEL = "enforcementLevel"  # every policy takes it; pulumi-policy handles it


@dataclass(frozen=True)
class Option:
    """One config option of a policy: a list of strings."""

    name: str
    description: str
    default: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string"}, "default": list(self.default),
                "description": self.description}


PUBLIC_ROUTES = Option("publicRoutes", "Route keys ('GET /health') meant to be public: "
                       "authorizationType NONE, no token needed. Each must be a public route of "
                       "the stack.")
SIGNED_IN_ROUTES = Option("signedInRoutes", "Route keys ('GET /me') open to any signed-in user: "
                          "JWT, no scopes. Each must be such a route of the stack.")
THROWAWAY_STACKS = Option("throwawayStacks", "Stacks (names as in `pulumi stack ls`) whose user "
                          "pools may go without deletion protection.")
SUPPORTED_RUNTIMES = Option("supportedRuntimes", "Lambda runtime identifiers functions may use.",
                            SUPPORTED_PYTHON_RUNTIMES)
ALLOWED_ON_ANY_RESOURCE = Option("allowedOnAnyResource", "Write actions a policy may allow on "
                                 "Resource '*' (actions that support no resource-level "
                                 "permissions, e.g. 'xray:PutTraceSegments').")


SECRET_OUTPUTS = Option("secretOutputs", "Stack outputs ('machine_client_secrets') that hold app "
                        "client secrets and are secret outputs: the pack cannot see which outputs "
                        "are secret. Each must be an output of the stack.")
SECRET_STORES = Option("secretStores", "Resource types ('aws:secretsmanager/secretVersion:"
                       "SecretVersion') that keep what they hold as a secret, and so may hold a "
                       "copy of an app client's secret.")


class PolicyConfigError(ValueError):
    """A policy's config the pack cannot use; the message names the policy and the key."""


def read(policy: str, options: Sequence[Option], given: Mapping[str, Any]) -> dict[str, list[str]]:
    """``policy``'s options from its config (``args.get_config()``), defaults filled in. Raises
    ``PolicyConfigError`` for an unknown key (the CLI's schema check lets those through) or a
    value that is not a list of strings."""
    known = {o.name for o in options}
    unknown = sorted(set(given) - known - {ENFORCEMENT_LEVEL})
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise PolicyConfigError(f"policy pack config of {policy!r}: unknown key(s) "
                                f"{', '.join(map(repr, unknown))}; its options: {allowed}")
    values = {}
    for option in options:
        value = given.get(option.name, list(option.default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PolicyConfigError(f"policy pack config of {policy!r}: {option.name} must be a "
                                    f"list of strings, got {value!r}")
        values[option.name] = copy.copy(value)
    return values
