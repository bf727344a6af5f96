"""Stack configs for the access tests, turned into ``Settings`` by the project's own parser."""

from __future__ import annotations

from access.stackfile import FUNCTIONS_DIR
from components.settings import Settings, available_functions, parse_settings
from offline.stacks import NS


def settings_of(config: dict) -> Settings:
    """A stack config dict (keys as in a stack file) -> Settings, exactly as the program would."""
    raw = {k.removeprefix(f"{NS}:"): v for k, v in config.items() if not k.startswith("aws:")}
    return parse_settings(raw, functions=available_functions(FUNCTIONS_DIR))


def small_config(**extra) -> dict:
    """The blog's groups, users and routes, with ``extra`` project keys."""
    config = {f"{NS}:groups": [{"name": "admin"}, {"name": "regular"}],
              f"{NS}:users": [{"username": "adminuser", "groups": ["admin", "regular"]},
                              {"username": "regularuser", "groups": ["regular"]}],
              f"{NS}:routes": [
                  {"route": "GET /AdminUser", "function": "admin_user", "groups": ["admin"]},
                  {"route": "GET /RegularUser", "function": "regular_user",
                   "groups": ["regular"]}]}
    config.update({f"{NS}:{k}": v for k, v in extra.items()})
    return config
