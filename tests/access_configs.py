"""Stack configs for the access tests, turned into ``StackSettings`` by the project's own parser."""

from __future__ import annotations

from jwt_scoped.access.stackfile import FUNCTIONS_DIR
from fixtures.stacks import NS
from program.config import available_functions, parse_settings
from program.stack import StackSettings


def settings_of(config: dict) -> StackSettings:
    """A stack config dict (keys as in a stack file) -> StackSettings, exactly as the program would."""
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
