"""The Pulumi program's own code, beside ``__main__.py``: its stack config mapped onto the
components' args (``config``, ``stack``) and the stack outputs it exports (``outputs``). The
components themselves are the ``jwt_scoped`` package, installed like any other."""
