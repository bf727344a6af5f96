"""The Lambda functions the components ship themselves, one folder each under ``functions/``
(stdlib handlers, like the program's route functions): the one place that knows where they are."""

from __future__ import annotations

from pathlib import Path

TRIGGER = "pre_token_generation"
"""Cognito Pre Token Generation: the user's groups become scopes (``ScopedIdentityPool``)."""
CORS_PREFLIGHT = "cors_preflight"
"""204 for CORS preflights on routes that would otherwise demand a token (``ScopedHttpApi``)."""

ROLES = {TRIGGER: "the Pre Token Generation trigger", CORS_PREFLIGHT: "the CORS preflight answer"}

_FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"


def source_dir(name: str) -> str:
    """The folder holding ``handler.py`` of the built-in function ``name``."""
    if name not in ROLES:
        raise ValueError(f"no built-in function {name!r}; there are: {', '.join(ROLES)}")
    return str(_FUNCTIONS_DIR / name)
