"""The program without the Pulumi engine or AWS, shared by the tests, the benchmarks, the local
sandbox and the policy pack's tests.

- ``recording``: run ``__main__.py`` (or any component) under Pulumi's mocks and record every
  resource it registers, with its inputs, outputs, parent and options.
- ``stacks``: stack configs: the blog's (read from ``Pulumi.dev.yaml``), a wide one, and
  generated ones of any size.
- ``trigger_events``: Pre Token Generation events in the shapes Cognito documents.
- ``policy_args``: the policy pack (``policy/``) run on a recorded stack, as
  ``pulumi preview --policy-pack policy`` runs it, and its violations printed as the CLI does.
"""
