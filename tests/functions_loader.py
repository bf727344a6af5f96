"""Load a Lambda handler the way Lambda runs it: the files of its deployment archive
(``PythonFunction``'s ``package_files``) copied into a folder of their own, and ``handler.py``
imported from there as a top-level module. The trigger's ``import scope_format`` therefore
resolves to the copy of ``jwt_scoped/scope_format.py`` its archive ships, as on Lambda."""

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

from jwt_scoped.python_function import PACKAGE_DIR, package_files, packaged_function

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
# The components' own functions, as their components ship them.
PACKAGED = {"trigger": {"scope_format.py": str(PACKAGE_DIR / "scope_format.py")},
            "preflight": {}}
_unpacked: dict[str, Path] = {}


def archive(function_name: str) -> dict[str, str]:
    """Archive name -> file of ``function_name``: ``trigger``, ``preflight`` or a folder under
    ``functions/``."""
    if function_name in PACKAGED:
        return package_files(packaged_function(function_name), PACKAGED[function_name])
    return package_files(str(FUNCTIONS / function_name), {})


def load_handler(function_name: str):
    """A fresh module object for the function's ``handler.py``, imported from its archive."""
    if function_name not in _unpacked:
        folder = Path(tempfile.mkdtemp(prefix=f"lambda-{function_name}-"))
        for name, path in archive(function_name).items():
            shutil.copyfile(path, folder / name)
        _unpacked[function_name] = folder
    folder = _unpacked[function_name]
    for name in [p.stem for p in folder.glob("*.py") if p.stem != "handler"]:
        sys.modules.pop(name, None)  # the archive's own copy, not another function's
    sys.path.insert(0, str(folder))
    try:
        module_name = f"lambda_handler__{function_name}"
        spec = importlib.util.spec_from_file_location(module_name, folder / "handler.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module
