"""Load ``functions/<name>/handler.py`` the way Lambda does: as a top-level module, not a package.

``components/`` goes on ``sys.path`` so the trigger's ``import scope_format`` resolves to
``components/scope_format.py``, the file its deployment package ships beside ``handler.py``.
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
COMPONENTS = ROOT / "components"


def load_handler(function_name: str):
    """A fresh module object for ``functions/<function_name>/handler.py``."""
    path = FUNCTIONS / function_name / "handler.py"
    if not path.is_file():
        raise FileNotFoundError(f"no handler for function {function_name!r} at {path}")
    if str(COMPONENTS) not in sys.path:
        # Appended, not prepended: components/ must not shadow any other module.
        sys.path.append(str(COMPONENTS))
    module_name = f"lambda_handler__{function_name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
