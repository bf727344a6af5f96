"""Reusable Pulumi components for HTTP APIs whose routes admit callers by Cognito group scopes.

    from components import ScopedIdentityPool, ScopedHttpApi

Names load on first use (PEP 562), so the pure helpers (``components.settings``,
``components.route_keys``, ...) import without Pulumi or the AWS provider SDK.
"""

from importlib import import_module

_EXPORTS = {
    "ApiRoute": "http_api", "ScopedHttpApi": "http_api", "ScopedHttpApiArgs": "http_api",
    "ScopedIdentityPool": "identity_pool", "ScopedIdentityPoolArgs": "identity_pool",
    "PythonFunction": "python_function", "PythonFunctionArgs": "python_function",
    "GroupSpec": "specs", "UserSpec": "specs", "scope_name": "scope_format",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
