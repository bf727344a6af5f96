"""Who can call what: the expected access matrix of a stack's config, offline and live.

    python -m access plan --stack dev [--format table|markdown|json] [--against FILE]
    python -m access verify --stack dev [--outputs FILE]

Modules, each small and named for what it holds:

- ``stackfile``: a ``Pulumi.<stack>.yaml`` -> the values ``program.config.parse_settings``
  takes, exactly as the Pulumi program sees them.
- ``matrix``: ``StackSettings`` -> the expected status of every (caller, route) and the reviewer's
  warnings. Pure.
- ``token_size``: an honest estimate of a user's token and ``Authorization`` header size. Pure.
- ``diff``: what changes between two matrices. Pure.
- ``render``: a matrix or a diff as a terminal table, Markdown or versioned JSON. Pure.
- ``outputs``, ``signin``, ``probe``: reading the stack outputs, signing users in to Cognito and
  calling the routes (the only modules that touch the outside world).
- ``verify``: the live check, with its decisions in pure functions.
"""
