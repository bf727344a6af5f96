"""CrossGuard policy pack: holds any stack built with this project's components to its security
rules at preview time (``pulumi preview --policy-pack policy``).

- ``values``: what the engine hands a policy, as plain values (``UNKNOWN`` where a preview cannot
  know a value yet) and the stack graph (``Node``: URN, properties, dependencies).
- ``route_checks``, ``api_checks``, ``lambda_checks``, ``iam_checks``, ``cognito_checks``,
  ``machine_checks`` (machine clients, client secrets, machine scopes): each rule's decision,
  pure functions over plain values.
- ``settings``: the pack's config (exceptions, throwaway stacks, secret outputs and stores), its
  schema and defaults.
- ``policies``: the named policies, thin wrappers that feed the decisions; ``pack_arguments()``.
- ``__main__``: what ``pulumi preview --policy-pack policy`` runs.
"""
