"""The docs are what the code does: every example that needs no AWS is rerun, every generated
part regenerated, and every link followed. The README stays a short front page that names the
two commands a fresh machine needs; the rest lives in docs/, by topic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jwt_scoped.cli import main
from program import reference
from program.config import KNOWN_KEYS

from fixtures.stacks import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MAX_README_LINES = 210
FRONT_PAGE_COMMANDS = ("bash scripts/test.sh", "bash scripts/sandbox.sh dev")


def text(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


def console_block(page: str, command: str) -> str:
    """The output ``page`` shows under ``$ <command>`` in a console block."""
    match = re.search(rf"```console\n\$ {re.escape(command)}\n(.*?)```", text(page), re.S)
    assert match, f"{page} shows no console block for `{command}`"
    return match.group(1)


def test_the_plan_of_the_dev_stack_is_the_one_the_docs_show(capsys):
    assert main(["plan", "--stack", "dev", "-C", str(ROOT)]) == 0
    assert capsys.readouterr().out == console_block("docs/access.md", "jwt-scoped plan --stack dev")


def test_the_config_reference_is_the_one_the_model_generates():
    match = re.search(r"<!-- config-reference:[^\n]*-->\n(.*?)<!-- /config-reference -->",
                      text("docs/config-reference.md"), re.S)
    assert match, "docs/config-reference.md has no generated config reference"
    assert match.group(1) == reference.table(), (
        "run `python -m program.reference --write`")


def test_the_project_file_lists_every_config_key_once_and_no_other():
    """Pulumi.yaml points to the reference and names the keys; the defaults live in the model."""
    listed = re.findall(r"^#\s{3,}(\w+)", text("Pulumi.yaml"), re.M)
    assert listed == list(KNOWN_KEYS)


def code_block(page: str, language: str, first_line: str) -> str:
    """``page``'s ``language`` code block whose first line is ``first_line``."""
    for match in re.finditer(rf"```{language}\n(.*?)```", text(page), re.S):
        if match.group(1).startswith(first_line):
            return match.group(1)
    raise AssertionError(f"{page} has no {language} block starting with {first_line!r}")


@pytest.mark.parametrize("example, page, language", [
    ("examples/python/__main__.py", "docs/_index.md", "python"),
    ("examples/yaml/Pulumi.yaml", "docs/installation-configuration.md", "yaml")])
def test_the_examples_are_shown_as_they_are(example, page, language):
    example_text = text(example)
    assert code_block(page, language, example_text.splitlines()[0]) == example_text


@pytest.mark.parametrize("page", ["docs/_index.md", "docs/installation-configuration.md"])
def test_the_package_pages_have_the_registrys_front_matter(page):
    """The Pulumi Registry renders a package's docs/_index.md and
    docs/installation-configuration.md; each starts with its title, meta_desc and layout."""
    match = re.match(r"---\n(.*?)\n---\n", text(page), re.S)
    assert match, f"{page} has no front matter"
    fields = dict(line.split(": ", 1) for line in match.group(1).splitlines())
    assert set(fields) == {"title", "meta_desc", "layout"} and fields["layout"] == "package"
    assert all(fields.values())


# --- the README: a short front page --------------------------------------------------------------

def test_the_readme_stays_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines: move text into docs/"


def test_the_readme_leads_with_the_two_commands_of_a_fresh_machine():
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert first_block, "the README shows no commands"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == list(FRONT_PAGE_COMMANDS)
    for command in FRONT_PAGE_COMMANDS:
        assert (ROOT / command.split()[1]).is_file()


def test_every_docs_page_is_linked_from_the_readme():
    linked = {target for _, target in links(README)}
    assert {f"docs/{page.name}" for page in DOCS.glob("*.md")} <= linked


def test_the_docs_name_no_tool_that_is_gone():
    for page in PAGES:
        body = page.read_text(encoding="utf-8")
        for gone in ("python -m access", "python -m sandbox", "offline/", "program/stack.py"):
            assert gone not in body, f"{page.relative_to(ROOT)} still names {gone!r}"


# --- links ---------------------------------------------------------------------------------------

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"``.+?``|`[^`\n]+`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.M)


def prose(page: Path) -> str:
    """The page without code: fenced blocks and inline code can hold anything."""
    return INLINE_CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))


def links(page: Path) -> list[tuple[Path, str]]:
    """``(page, target)`` for every relative link of ``page``."""
    return [(page, target) for target in LINK.findall(prose(page))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: its text lower-cased, without punctuation but hyphens and
    underscores, spaces as hyphens."""
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = anchor(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def test_the_anchor_rule_is_githubs():
    assert anchor("After deploying: `jwt-scoped verify`") == "after-deploying-jwt-scoped-verify"
    assert anchor("Upgrading from the `jwt-scoped-api` type tokens") == (
        "upgrading-from-the-jwt-scoped-api-type-tokens")
    assert anchor("`--verify`: the blog's test, automated") == "--verify-the-blogs-test-automated"


ALL_LINKS = [pytest.param(page, target, id=f"{page.relative_to(ROOT)}->{target}")
             for page in PAGES for _, target in links(page)]


def test_the_docs_link_to_each_other():
    assert len(ALL_LINKS) > 20


@pytest.mark.parametrize("page, target", ALL_LINKS)
def test_every_relative_link_points_to_a_file_and_heading_that_exist(page, target):
    path, _, fragment = target.partition("#")
    destination = (page.parent / path).resolve() if path else page
    assert destination.exists(), f"{page.relative_to(ROOT)}: {target} points to nothing"
    assert ROOT in destination.parents or destination == ROOT, f"{target} leaves the repository"
    if fragment:
        assert destination.suffix == ".md", f"{target}: an anchor in a file that is not Markdown"
        assert fragment in anchors(destination), (
            f"{page.relative_to(ROOT)}: {target}: no such heading in "
            f"{destination.relative_to(ROOT)}")
