"""The local sandbox: the stack running on this machine, built from the program's own resources.

``python -m sandbox --stack dev`` runs ``__main__.py`` under Pulumi's mocks with a local provider
(``provider.py``): Cognito in moto (``cognito.py``, with the Pre Token Generation trigger run on
every token through ``moto_hook.py``), each function from its deployment archive in warm worker
processes (``lambdas.py``, ``worker.py``), and the HTTP API served by a local API Gateway
(``gateway.py``: ``jwt_authorizer.py``, ``payload.py``, ``cors.py``, ``throttle.py``,
``access_log.py``). ``app.py`` puts it together; ``cli.py`` is the command.
"""
