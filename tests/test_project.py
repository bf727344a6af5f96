"""A Pulumi project and its stack files, read as the Pulumi CLI reads them (``jwt_scoped.project``),
and a stack file as the untrusted input it is: bounded in size, depth and aliases, with no key
given twice, every refusal naming the file, line and column."""

from __future__ import annotations

import re
import time

import pytest
import yaml

from jwt_scoped.access.plan import Stack
from jwt_scoped.cli import main
from jwt_scoped.project import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    Project,
    ProjectError,
    full_key,
    offered_regions,
    read_yaml,
    region_problem,
    shown,
    stack_name,
)

from fixtures.stacks import NS, PROJECT, ROOT, blog_config

FAST = 1.0
"""Seconds a hostile file may take to be refused."""


def write(path, config):
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def project_at(folder, text: str = "name: demo\nruntime: python\n") -> Project:
    (folder / "Pulumi.yaml").write_text(text)
    return Project.load(folder)


def refusal(path) -> str:
    with pytest.raises(ProjectError) as raised:
        read_yaml(path)
    return str(raised.value)


def position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of ``text[index]``."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


# ---- the project --------------------------------------------------------------------------

def test_this_repository_is_a_project_found_from_any_folder_inside_it():
    found = Project.find(ROOT / "program")
    assert found.root == ROOT and found.name == NS == PROJECT.name
    assert found.main == ROOT and found.program == ROOT / "__main__.py"
    assert Project.find(ROOT) == found


def test_outside_a_project_the_error_says_to_pass_cwd(tmp_path):
    where = re.escape(str(tmp_path))
    with pytest.raises(ProjectError, match=f"no Pulumi.yaml in {where} or any folder above it: "
                                           ".* pass --cwd PROJECT_FOLDER"):
        Project.find(tmp_path)


@pytest.mark.parametrize(("text", "message"), [
    ("runtime: python\n", "a project file needs a 'name'"),
    ("- a list\n", "a project file needs a 'name'"),
    ("name: x\nruntime: nodejs\n", "runtime 'nodejs' is not python"),
    ("name: x\nruntime:\n  name: go\n", "runtime 'go' is not python"),
])
def test_a_project_file_that_is_no_python_project_is_refused(tmp_path, text, message):
    (tmp_path / "Pulumi.yaml").write_text(text)
    with pytest.raises(ProjectError, match=f"^{re.escape(str(tmp_path / 'Pulumi.yaml'))}: {message}"):
        Project.load(tmp_path)


@pytest.mark.parametrize(("main_entry", "folder"), [("src", "src"), ("src/app.py", "src"),
                                                    (None, ".")])
def test_the_programs_folder_is_main_of_the_project_file(tmp_path, main_entry, folder):
    text = "name: demo\nruntime:\n  name: python\n" + (f"main: {main_entry}\n" if main_entry else "")
    assert project_at(tmp_path, text).main == (tmp_path / folder).resolve()


def test_the_project_files_config_is_every_stacks_default_under_its_namespace(tmp_path):
    project = project_at(tmp_path, "name: demo\nruntime: python\nconfig:\n"
                                   "  greeting: hi\n"
                                   "  size:\n    type: integer\n    default: 3\n"
                                   "  aws:region:\n    value: eu-west-1\n"
                                   "  required:\n    type: string\n")
    assert project.defaults == {"demo:greeting": "hi", "demo:size": 3, "aws:region": "eu-west-1"}
    path = write(tmp_path / "Pulumi.dev.yaml", {"greeting": "hello", "demo:other": True})
    assert project.stack_config(path) == {"demo:greeting": "hello", "demo:size": 3,
                                          "aws:region": "eu-west-1", "demo:other": True}


def test_stack_names_map_to_stack_files_in_the_project(tmp_path):
    assert PROJECT.stack_file("dev") == ROOT / "Pulumi.dev.yaml"
    project = project_at(tmp_path)
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n")
    assert project.stack_file("acme/demo/prod") == tmp_path.resolve() / "Pulumi.prod.yaml"


def test_an_unknown_stack_lists_the_stack_files_there_are(tmp_path):
    project = project_at(tmp_path)
    for name in ("prod", "dev"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    assert project.stacks() == ["dev", "prod"]
    with pytest.raises(ProjectError) as raised:
        project.stack_file("staging")
    assert str(raised.value) == (f"no stack 'staging': there is no Pulumi.staging.yaml in "
                                 f"{project.root}; stacks with a file: dev, prod (or pass --config "
                                 "FILE)")


@pytest.mark.parametrize(("stack", "file", "name"), [
    ("prod", "Pulumi.x.yaml", "prod"), ("acme/demo/prod", "Pulumi.x.yaml", "prod"),
    (None, "Pulumi.staging.yaml", "staging"), (None, "base.yaml", "dev"),
    (None, "Pulumi.yaml", "dev"),
])
def test_the_stack_the_program_sees_is_the_one_asked_for_else_the_files(tmp_path, stack, file,
                                                                         name):
    assert stack_name(stack, tmp_path / file) == name


def test_keys_take_the_projects_namespace_unless_they_have_one():
    assert full_key("demo", "routes") == "demo:routes"
    assert full_key("demo", "aws:region") == "aws:region"


def test_a_value_in_a_message_is_cut_to_a_readable_length():
    assert len(shown("x" * 5_000_000)) < 100
    assert shown("us-east-9") == "'us-east-9'"


# ---- stack files ----------------------------------------------------------------------------

def test_every_key_gets_its_namespace_and_every_value_stays_as_written():
    config = PROJECT.stack_config(ROOT / "Pulumi.dev.yaml")
    assert all(":" in key for key in config)
    assert config["aws:region"] == "us-east-1"
    assert config[f"{NS}:stageName"] == "Test"
    assert config[f"{NS}:protectUserPool"] is False
    assert config[f"{NS}:routes"][0] == {"route": "GET /AdminUser", "function": "hello",
                                         "groups": ["admin"]}
    assert config[f"{NS}:groups"][0] == {"name": "admin", "description": "Calls the admin routes"}


def test_a_key_without_namespace_belongs_to_the_project_as_in_pulumi(tmp_path):
    path = write(tmp_path / "Pulumi.x.yaml", {"stageName": "Test", "aws:region": "eu-west-1",
                                              "logRetentionDays": 90})
    assert PROJECT.stack_config(path) == {f"{NS}:stageName": "Test", "aws:region": "eu-west-1",
                                          f"{NS}:logRetentionDays": 90}


def test_the_project_file_is_not_taken_for_a_stack_file():
    with pytest.raises(ProjectError, match="Pulumi.yaml: this is the project file .* not a stack "
                                           "file; pass a stack's Pulumi.<stack>.yaml"):
        PROJECT.stack_config(ROOT / "Pulumi.yaml")


def test_an_encrypted_value_cannot_be_read_offline(tmp_path):
    path = write(tmp_path / "Pulumi.x.yaml",
                 {**blog_config(), f"{NS}:domainPrefix": {"secure": "v1:abc"}})
    with pytest.raises(ProjectError, match=f"{NS}:domainPrefix is an encrypted secret"):
        PROJECT.stack_config(path)


@pytest.mark.parametrize(("text", "message"), [
    (None, "no such file"),
    ("- a list", "expected a mapping with a 'config' key"),
    ("config: [1, 2]", "'config' must be a mapping"),
])
def test_unreadable_stack_files_say_why(tmp_path, text, message):
    path = tmp_path / "Pulumi.x.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ProjectError, match=f"^{re.escape(str(path))}: {message}"):
        PROJECT.stack_config(path)


def test_an_empty_stack_file_is_the_projects_defaults(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("")
    assert PROJECT.stack_config(path) == PROJECT.defaults


def test_a_yaml_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  aws:region: us-east-1\n  jwt-scoped-api:groups: [admin\n")
    assert refusal(path).startswith(f"{path}:4:1: ")


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(b"config:\n  x: \xff\xfe\n")
    assert refusal(path).startswith(f"{path}: cannot read: ")


def test_a_python_tag_is_refused_not_run(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    text = "config:\n  x: !!python/object/apply:os.system ['touch pwned']\n"
    path.write_text(text)
    assert refusal(path).startswith(f"{path}:2:6: ")
    assert not (tmp_path / "pwned").exists()


# ---- hostile stack files --------------------------------------------------------------------

def alias_bomb() -> str:
    """The "billion laughs" of YAML: nine anchors, each nine aliases of the one before, so a
    loader that expands aliases builds 9**9 strings from a few hundred bytes."""
    lines = ["config:", "  aws:region: us-east-1",
             '  jwt-scoped-api:lol0: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, (anchor, previous) in enumerate(zip("bcdefghi", "abcdefgh", strict=True), start=1):
        lines.append(f"  jwt-scoped-api:lol{i}: &{anchor} [" + ",".join([f"*{previous}"] * 9) + "]")
    lines.append("  jwt-scoped-api:routes: *i")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_its_first_alias_at_once(tmp_path):
    text = alias_bomb()
    assert 500 < len(text.encode()) < 700
    path = tmp_path / "Pulumi.bomb.yaml"
    path.write_text(text)
    started = time.perf_counter()
    message = refusal(path)
    assert time.perf_counter() - started < FAST
    line, column = position(text, text.index("*a"))
    assert message == (f"{path}:{line}:{column}: the alias *a is not allowed: a stack file may not "
                       "repeat parts of itself by reference")


# Depth 1 is the document's mapping, 2 config's, so the n-th collection under ``x`` is at depth
# n + 2. The first node past MAX_DEPTH: in lists, the next list; in mappings ``{a: ...}``, the key
# of the mapping at MAX_DEPTH.
DEEPER = {"lists": ("[", "]", MAX_DEPTH - 2), "mappings": ("{a: ", "}", (MAX_DEPTH - 3) * 4 + 1)}


@pytest.mark.parametrize("kind", sorted(DEEPER))
def test_nesting_20000_deep_is_refused_where_it_passes_the_limit(tmp_path, kind):
    opening, closing, offset = DEEPER[kind]
    text = "config:\n  x: " + opening * 20_000 + "1" + closing * 20_000 + "\n"
    path = tmp_path / "Pulumi.deep.yaml"
    path.write_text(text)
    started = time.perf_counter()
    message = refusal(path)  # a ProjectError, not a RecursionError
    assert time.perf_counter() - started < FAST
    line, column = position(text, text.index("x: ") + 3 + offset)
    assert message == f"{path}:{line}:{column}: nested more than {MAX_DEPTH} levels deep"


def test_nesting_down_to_the_limit_is_read_and_one_more_is_not(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    levels = MAX_DEPTH - 2  # the innermost list at depth MAX_DEPTH
    path.write_text("config:\n  x: " + "[" * levels + "]" * levels + "\n")
    value, depth = read_yaml(path)["config"]["x"], 1
    while value:
        value, depth = value[0], depth + 1
    assert depth == levels
    path.write_text("config:\n  x: " + "[" * (levels + 1) + "]" * (levels + 1) + "\n")
    assert refusal(path).endswith(f"nested more than {MAX_DEPTH} levels deep")


def duplicated() -> str:
    return ("config:\n  aws:region: us-east-1\n  jwt-scoped-api:stageName: Test\n"
            "  jwt-scoped-api:routes:\n    - route: GET /a\n      function: hello\n"
            "      groups: [admin]\n  jwt-scoped-api:stageName: Prod\n")


def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path):
    path = tmp_path / "Pulumi.dup.yaml"
    text = duplicated()
    path.write_text(text)
    line, column = position(text, text.rindex("jwt-scoped-api:stageName"))
    first, _ = position(text, text.index("jwt-scoped-api:stageName"))
    assert refusal(path) == (
        f"{path}:{line}:{column}: the key 'jwt-scoped-api:stageName' is given twice in one "
        f"mapping: first on line {first}, again on line {line} (YAML would silently keep the last)")


def test_a_key_given_twice_inside_a_route_is_refused_too(tmp_path):
    path = tmp_path / "Pulumi.dup.yaml"
    text = ("config:\n  jwt-scoped-api:routes:\n    - route: GET /a\n      groups: [admin]\n"
            "      function: hello\n      groups: [regular]\n")
    path.write_text(text)
    assert "the key 'groups' is given twice in one mapping: first on line 4, again on line 6" in (
        refusal(path))


def test_the_same_key_in_two_mappings_is_no_repeat(tmp_path):
    path = write(tmp_path / "Pulumi.x.yaml", blog_config())
    assert read_yaml(path)["config"] == blog_config()  # "groups" in a user and in a route


def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "Pulumi.big.yaml"
    path.write_text("config:\n  x: [" + "1," * (MAX_FILE_BYTES // 2) + "]\n")
    size = path.stat().st_size
    assert size > MAX_FILE_BYTES
    started = time.perf_counter()
    assert refusal(path) == (f"{path}: {size:,} bytes is more than a stack file may hold "
                             f"({MAX_FILE_BYTES:,})")
    assert time.perf_counter() - started < FAST


def test_a_file_of_exactly_the_size_cap_is_read(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    head = "config:\n  x: '"
    path.write_text(head + "a" * (MAX_FILE_BYTES - len(head) - 2) + "'\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert len(read_yaml(path)["config"]["x"]) == MAX_FILE_BYTES - len(head) - 2


@pytest.mark.parametrize(("name", "text"), [("bomb", alias_bomb()), ("dup", duplicated())])
def test_the_command_refuses_a_hostile_stack_file_in_one_short_line(tmp_path, capsys, name, text):
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text)
    expected = refusal(path)  # file:line:column: problem
    started = time.perf_counter()
    assert main(["plan", "--config", str(path)]) == 2
    assert time.perf_counter() - started < FAST
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {expected}\n"
    assert len(captured.err) < 400


# ---- the region ---------------------------------------------------------------------------

def test_the_offered_regions_are_botocores_and_hold_the_usual_ones():
    offered = offered_regions()
    assert {"us-east-1", "eu-west-2", "ap-southeast-2"} <= offered
    assert not {r for r in offered if "fips" in r}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-2"])
def test_a_region_that_offers_both_services_is_accepted(region):
    assert region_problem({"aws:region": region}) is None


def test_no_region_is_the_aws_providers_to_judge():
    assert region_problem({f"{NS}:stageName": "Test"}) is None


def test_a_region_that_does_not_exist_is_refused_with_the_closest_one():
    problem = region_problem({"aws:region": "us-east-9"})
    assert problem.startswith("aws:region: 'us-east-9' is not a region where Cognito user pools "
                              "and HTTP APIs are offered (did you mean '")
    suggested = problem.split("(did you mean '", 1)[1].split("'", 1)[0]
    assert suggested in offered_regions() and suggested.startswith("us-east-")


def test_an_empty_region_is_refused():
    assert region_problem({"aws:region": ""}) == (
        "aws:region: '' is not a region where Cognito user pools and HTTP APIs are offered")


def test_a_stack_in_a_region_without_the_services_is_refused_before_the_program_runs(tmp_path):
    path = write(tmp_path / "Pulumi.x.yaml", {**blog_config(), "aws:region": "us-east-9"})
    with pytest.raises(ProjectError) as raised:
        Stack(PROJECT, path, "x").config()
    assert str(raised.value) == f"{path}: {region_problem({'aws:region': 'us-east-9'})}"
