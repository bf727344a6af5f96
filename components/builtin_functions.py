"""The Lambda functions the components ship themselves (stdlib handlers in ``functions/``,
installed as package data): the one place that knows where they are."""

from importlib import resources
from pathlib import Path

TRIGGER = "pre_token_generation"
"""Cognito Pre Token Generation: the user's groups become scopes (``ScopedIdentityPool``)."""
CORS_PREFLIGHT = "cors_preflight"
"""204 for CORS preflights on routes that would otherwise demand a token (``ScopedHttpApi``)."""

ROLES = {TRIGGER: "the Pre Token Generation trigger", CORS_PREFLIGHT: "the CORS preflight answer"}
# The import name of each folder in the distribution (pyproject.toml, [tool.setuptools]).
_PACKAGES = {TRIGGER: "jwt_scoped.trigger", CORS_PREFLIGHT: "jwt_scoped.preflight"}


def source_dir(name: str) -> str:
    """The folder holding ``handler.py`` of the built-in function ``name``, wherever the package
    is installed (a wheel's site-packages, or this repository for an editable install)."""
    if name not in ROLES:
        raise ValueError(f"no built-in function {name!r}; there are: {', '.join(ROLES)}")
    return str(Path(str(resources.files(_PACKAGES[name]).joinpath("handler.py"))).parent)


def scope_format_file() -> str:
    """``scope_format.py``, which the trigger ships beside its handler."""
    return str(resources.files("jwt_scoped").joinpath("scope_format.py"))
