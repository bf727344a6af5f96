"""The README's examples are what the tools print: rerun each one that needs no AWS."""

from __future__ import annotations

import re

from access.__main__ import main
from offline.stacks import ROOT

README = (ROOT / "README.md").read_text()


def console_block(command: str) -> str:
    """The output the README shows under ``$ <command>`` in a console block."""
    match = re.search(rf"```console\n\$ {re.escape(command)}\n(.*?)```", README, re.S)
    assert match, f"the README shows no console block for `{command}`"
    return match.group(1)


def test_the_plan_of_the_dev_stack_is_the_one_the_readme_shows(capsys):
    assert main(["plan", "--stack", "dev"]) == 0
    assert capsys.readouterr().out == console_block("python -m access plan --stack dev")
