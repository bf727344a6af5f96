"""``python -m sandbox``: see ``sandbox/cli.py``."""

import sys
import time

STARTED = time.perf_counter()  # before the imports: the startup time counts them

from .cli import main  # noqa: E402

sys.exit(main(started=STARTED))
