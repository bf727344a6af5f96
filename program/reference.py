"""The stack config reference, generated from the model: each key's default and meaning come
from the args field it sets (its dataclass default and its docstring), its limits from the
field's rules (``jwt_scoped.model.limits_of``: the quotas' numbers, said once in
``jwt_scoped.rules``), so the docs cannot drift from the code. ``tests/test_docs.py`` holds the
docs' table to this one.

    python -m program.reference    # print the table
"""

from __future__ import annotations

import dataclasses
import enum
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jwt_scoped.model import default_of, docstrings, field_named, limits_of

from .config import KEYS, item_key, list_item_type

HEADER = ["Key", "Default", "Limits", "Meaning"]


def markdown_text(docstring: str) -> str:
    """A field docstring as one Markdown line: ``code`` becomes `code`."""
    return re.sub(r"``(.+?)``", r"`\1`", " ".join(docstring.split()))


def shown_default(value: Any) -> str:
    if value is dataclasses.MISSING:
        return "required"
    if value is None:
        return "none"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (tuple, list)):
        return "`[" + ", ".join(map(str, value)) + "]`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    return f"`{value}`"


def _limits(cls: type, name: str) -> str:
    return limits_of(field_named(cls, name).metadata.get("rules")) or "-"


def rows() -> Iterator[list[str]]:
    """One row per config key, then one per field of the items of a list key."""
    for key in KEYS:
        cls, name = key.fields[0]
        meanings = dict.fromkeys(markdown_text(docstrings(c)[n]) for c, n in key.fields)
        setters = ", ".join(f"`{c.__name__}.{n}`" for c, n in key.fields)
        meaning = " ".join([*meanings, *([key.note] if key.note else [])])
        yield [f"`{key.name}`", shown_default(default_of(cls, name)), _limits(cls, name),
               f"{meaning} ({setters})"]
        item = list_item_type(cls, name)
        if item is not None:
            item_docs = docstrings(item)
            for f in dataclasses.fields(item):
                yield [f"`{key.name}[].{item_key(item, f.name)}`",
                       shown_default(default_of(item, f.name)), _limits(item, f.name),
                       markdown_text(item_docs[f.name])]


def table() -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "| " + " | ".join("---" for _ in HEADER) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows()]
    return "\n".join(lines) + "\n"


DOC = Path(__file__).resolve().parent.parent / "docs" / "config-reference.md"
_GENERATED = re.compile(r"(<!-- config-reference:[^\n]*-->\n)(.*?)(<!-- /config-reference -->)", re.S)


def write_doc(doc: Path = DOC) -> None:
    """Put ``table()`` between the generated markers of ``doc``."""
    text = doc.read_text(encoding="utf-8")
    doc.write_text(_GENERATED.sub(lambda m: m.group(1) + table() + m.group(3), text, count=1),
                   encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_doc()
    else:
        print(table(), end="")
