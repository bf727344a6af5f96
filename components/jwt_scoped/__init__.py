"""jwt-scoped: Pulumi components for HTTP APIs whose routes admit callers by Cognito group scopes.

    from jwt_scoped import ScopedIdentityPool, ScopedIdentityPoolArgs, ScopedHttpApi, ...

Installed with pip (import name ``jwt_scoped``; this folder is its source), or used from any
Pulumi language with ``pulumi package add`` (see ``plugin/``). Names load on first use (PEP 562),
so the pure helpers (``jwt_scoped.route_keys``, ``jwt_scoped.rules``, ...) import without
Pulumi or the AWS provider SDK.
"""

from importlib import import_module

_EXPORTS = {
    "ApiRoute": "http_api", "ScopedHttpApi": "http_api", "ScopedHttpApiArgs": "http_api",
    "ScopedIdentityPool": "identity_pool", "ScopedIdentityPoolArgs": "identity_pool",
    "PythonFunction": "python_function", "PythonFunctionArgs": "python_function",
    "GroupSpec": "specs", "UserSpec": "specs", "RouteAccess": "modes", "TokenUse": "modes",
    "scope_name": "scope_format",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
