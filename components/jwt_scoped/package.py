"""Who this package is to Pulumi: its name (the first part of every type token) and the name its
components carried before, kept as aliases so that deployed stacks keep their resources."""

from importlib import metadata

import pulumi

PACKAGE = "jwt-scoped"
"""The Pulumi package name: type tokens are ``jwt-scoped:index:<Component>``."""
DISTRIBUTION = "jwt-scoped"
"""The pip distribution (import name ``jwt_scoped``)."""
PREVIOUS_PACKAGE = "jwt-scoped-api"
"""Before it was a package, the components took the program's name. Stacks deployed then hold
``jwt-scoped-api:index:<Component>`` URNs; an alias makes the engine match them (and, through
them, every child), so no resource is replaced: replacing the user pool deletes its users."""


def type_token(component: str) -> str:
    return f"{PACKAGE}:index:{component}"


def component_options(component: str, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """``opts`` plus the alias from the component's previous type token."""
    alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=f"{PREVIOUS_PACKAGE}:index:{component}")])
    return pulumi.ResourceOptions.merge(opts, alias)


def version() -> str:
    """The installed distribution's version (``0.0.0`` when run from a bare source tree)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0.0.0"
