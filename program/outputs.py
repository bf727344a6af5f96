"""The stack outputs the program exports, by name: the one list of them. ``jwt-scoped verify`` reads
them back, and the local sandbox writes them as ``pulumi stack output --json`` would."""

API_URL = "api_url"
"""The stage URL (ends in ``/`` for ``$default``)."""
ROUTE_URLS = "route_urls"
"""Route key -> the URL it answers at."""
USER_POOL_ID = "user_pool_id"
APP_CLIENT_ID = "app_client_id"
APP_CLIENT_IDS = "app_client_ids"
"""App client name -> id, of every client people sign in through."""
MACHINE_CLIENT_IDS = "machine_client_ids"
"""Machine client name -> id."""
MACHINE_CLIENT_SECRETS = "machine_client_secrets"
"""Machine client name -> secret (a secret)."""
ISSUER_URL = "issuer_url"
HOSTED_UI_URL = "hosted_ui_url"
TOKEN_USE = "token_use"
"""``id`` or ``access``: which token carries the group scopes."""
SCOPES = "scopes"
"""Group -> the scope its membership grants."""
TEST_USER_PASSWORDS = "test_user_passwords"
"""Username -> generated password (a secret)."""

ALL = (API_URL, ROUTE_URLS, USER_POOL_ID, APP_CLIENT_ID, APP_CLIENT_IDS, ISSUER_URL, HOSTED_UI_URL,
       TOKEN_USE, SCOPES, TEST_USER_PASSWORDS, MACHINE_CLIENT_IDS, MACHINE_CLIENT_SECRETS)
SECRET = (TEST_USER_PASSWORDS, MACHINE_CLIENT_SECRETS)
