"""The one definition of a group's scope name: ``<group>-<appClientId>``.

Stdlib only and free of imports from this package: the Pre Token Generation trigger's deployment
package ships this very file beside its handler (see ``components/identity_pool.py``), so the claim
the trigger writes and the scopes the routes demand can never drift apart.
"""

SEPARATOR = "-"


def scope_name(group: str, client_id: str) -> str:
    """The scope that membership of ``group`` grants for tokens issued to app client ``client_id``."""
    return f"{group}{SEPARATOR}{client_id}"
