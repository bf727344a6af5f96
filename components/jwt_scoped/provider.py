"""The components as a Pulumi package for every language: what ``plugin/`` hosts.

``pulumi package add`` runs ``plugin/__main__.py``, which calls ``host()``; Pulumi's component
analyzer (``pulumi.provider.experimental``) infers the package schema from the components' args
and outputs. ``schema()`` returns that schema exactly as the plugin serves it, for the committed
``plugin/schema.json`` and its test. ``PythonFunction`` is not hosted: it builds a function from
a folder on the machine that runs the program, which another language's program cannot name.
"""

import json

from pulumi.provider.experimental import component_provider_host
from pulumi.provider.experimental.component import ComponentProvider

from .http_api import ScopedHttpApi
from .identity_pool import ScopedIdentityPool
from .package import PACKAGE, version

COMPONENTS = [ScopedIdentityPool, ScopedHttpApi]


def provider() -> ComponentProvider:
    return ComponentProvider(COMPONENTS, PACKAGE, version=version())


def schema() -> dict:
    """The package schema, as ``pulumi package get-schema`` would print it."""
    return json.loads(provider().schema)


def host() -> None:
    """Serve the components to the Pulumi engine (the plugin's entry point)."""
    component_provider_host(COMPONENTS, PACKAGE, version=version())
