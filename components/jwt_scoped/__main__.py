"""``python -m jwt_scoped``: the ``jwt-scoped`` command (``jwt_scoped/cli.py``)."""

import sys

from .cli import main

sys.exit(main())
