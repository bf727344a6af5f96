"""The local sandbox: the stack running on this machine, built from the program's own resources.

``jwt-scoped sandbox --stack dev`` runs the program under Pulumi's mocks with a local provider
(``provider.py``): Cognito in moto (``cognito.py``, with the Pre Token Generation trigger run on
every token, the app clients' auth flows enforced and SRP checked through ``moto_hook.py`` and
``srp.py``), each user pool domain's hosted UI and OAuth endpoints (``hosted_ui.py`` on
``oauth.py``), each function from its deployment archive in warm worker processes
(``lambdas.py``, ``worker.py``), and the HTTP API served by a local API Gateway (``gateway.py``:
``jwt_authorizer.py``, ``payload.py``, ``cors.py``, ``throttle.py``, ``access_log.py``), all on
one HTTP edge (``edge.py``), with an optional browser app beside it (``web.py``). ``app.py`` puts
it together; ``cli.py`` is the command.
"""
