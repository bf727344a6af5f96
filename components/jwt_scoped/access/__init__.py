"""Who can call what: the expected access matrix of any program built with the components, and
the live check of a deployed stack against it.

    jwt-scoped plan --stack dev [--format table|markdown|json] [--against FILE]
    jwt-scoped verify --stack dev [--state FILE] [--sign-in password|code]

Modules, each small and named for what it holds:

- ``plan``: a stack (its file and config) -> the program run under Pulumi's mocks.
- ``model``: registered resources, or a state file's -> ``StackModel`` (pools, clients, users,
  APIs, routes), read the same way from a plan and from a deployment. Pure.
- ``matrix``: ``StackModel`` -> the expected status of every (caller, route), people and
  machines, and the reviewer's warnings. Pure.
- ``token_size``: an honest estimate of a token's and its ``Authorization`` header's size. Pure.
- ``diff``: what changes between two matrices. Pure.
- ``render``: a matrix or a diff as a terminal table, Markdown or versioned JSON. Pure.
- ``state``, ``signin``, ``code_flow``, ``probe``: reading a deployed stack's state, signing
  users in (``InitiateAuth``, or the hosted UI's code grant), machines' client credentials, and
  calling the routes (the only modules that touch the outside world).
- ``verify``: the live check, with its decisions in pure functions; ``commands``: the CLI.
"""
