"""Write plugin/schema.json: the package schema Pulumi's analyzer infers from the components.

    python plugin/schema.py

Commit the result: a test checks the analyzer still produces exactly it, so any change to the
components' public interface (an input, an output, a type, a description) shows in review.
"""

import json
from pathlib import Path

from jwt_scoped.provider import schema

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.json"


def text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(text())
    print(f"wrote {SCHEMA_FILE}")
