"""The README's examples are what the tools print: rerun each one that needs no AWS."""

from __future__ import annotations

import re

import pytest

from jwt_scoped.access.__main__ import main
from fixtures.stacks import ROOT
from program import reference
from program.config import KNOWN_KEYS

README = (ROOT / "README.md").read_text()


def console_block(command: str) -> str:
    """The output the README shows under ``$ <command>`` in a console block."""
    match = re.search(rf"```console\n\$ {re.escape(command)}\n(.*?)```", README, re.S)
    assert match, f"the README shows no console block for `{command}`"
    return match.group(1)


def test_the_plan_of_the_dev_stack_is_the_one_the_readme_shows(capsys):
    assert main(["plan", "--stack", "dev"]) == 0
    assert capsys.readouterr().out == console_block("python -m access plan --stack dev")


def test_the_config_reference_is_the_one_the_model_generates():
    match = re.search(r"<!-- config-reference:[^\n]*-->\n(.*?)<!-- /config-reference -->",
                      README, re.S)
    assert match, "the README has no generated config reference"
    assert match.group(1) == reference.table(), "run `python -m program.reference` into the README"


def test_the_project_file_lists_every_config_key_once_and_no_other():
    """Pulumi.yaml points to the reference and names the keys; the defaults live in the model."""
    text = (ROOT / "Pulumi.yaml").read_text()
    listed = re.findall(r"^#\s{3,}(\w+)", text, re.M)
    assert listed == list(KNOWN_KEYS)


def code_block(language: str, first_line: str) -> str:
    """The README's ``language`` code block whose first line is ``first_line``."""
    for match in re.finditer(rf"```{language}\n(.*?)```", README, re.S):
        if match.group(1).startswith(first_line):
            return match.group(1)
    raise AssertionError(f"no {language} block starting with {first_line!r}")


@pytest.mark.parametrize("example, language", [("examples/python/__main__.py", "python"),
                                               ("examples/yaml/Pulumi.yaml", "yaml")])
def test_the_examples_are_shown_as_they_are(example, language):
    text = (ROOT / example).read_text()
    assert code_block(language, text.splitlines()[0]) == text
