"""Stack files -> settings, judged as the program judges them (the program itself is run under
Pulumi's mocks to compare error messages)."""

from __future__ import annotations

import pulumi
import pytest
import yaml

from jwt_scoped.access.stackfile import (
    FUNCTIONS_DIR,
    StackFileError,
    functions_named,
    load_settings,
    pulumi_string,
    read_stack_config,
    stack_file,
)
from jwt_scoped.recording import run_program
from fixtures.stacks import NS, ROOT, blog_config, scaled_config
from program.config import ConfigError, available_functions
from program.stack import StackSettings


def write(tmp_path, config, name="Pulumi.test.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def test_stack_names_map_to_stack_files_in_the_project(tmp_path):
    assert stack_file("dev") == ROOT / "Pulumi.dev.yaml"
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n")
    assert stack_file("acme/jwt-scoped-api/prod", tmp_path) == tmp_path / "Pulumi.prod.yaml"


def test_an_unknown_stack_lists_the_stack_files_there_are(tmp_path):
    for name in ("dev", "prod"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    with pytest.raises(StackFileError) as raised:
        stack_file("staging", tmp_path)
    assert str(raised.value) == (f"no stack 'staging': there is no Pulumi.staging.yaml in "
                                 f"{tmp_path}; stacks with a file: dev, prod (or pass --config FILE)")


def test_the_project_file_is_not_taken_for_a_stack_file():
    with pytest.raises(StackFileError, match="Pulumi.yaml: this is the project file .* not a stack file"):
        read_stack_config(ROOT / "Pulumi.yaml")


def test_a_yaml_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  aws:region: us-east-1\n  jwt-scoped-api:groups: [admin\n")
    with pytest.raises(StackFileError) as raised:
        read_stack_config(path)
    assert str(raised.value).startswith(f"{path}:4:1: not valid YAML: ")


def test_the_project_namespace_is_stripped_and_other_namespaces_kept_aside():
    config = read_stack_config(ROOT / "Pulumi.dev.yaml")
    assert config.other == {"aws:region": "us-east-1"}
    assert config.project["stageName"] == "Test"
    assert config.project["protectUserPool"] is False
    assert config.project["routes"][0] == {"route": "GET /AdminUser", "function": "admin_user",
                                           "groups": ["admin"]}
    assert not any(":" in key for key in config.project)


def test_a_key_without_namespace_belongs_to_the_project_as_in_pulumi(tmp_path):
    config = read_stack_config(write(tmp_path, {"stageName": "Test", "aws:region": "eu-west-1"}))
    assert config.project == {"stageName": "Test"} and config.other == {"aws:region": "eu-west-1"}


@pytest.mark.parametrize(("value", "passed"), [
    (False, "false"), (True, "true"), (90, "90"), (2.5, "2.5"), ("Test", "Test"), (None, ""),
    ([1, "a"], '[1, "a"]'), ({"a": 1}, '{"a": 1}'),
])
def test_values_reach_parse_settings_as_pulumi_passes_them(value, passed):
    assert pulumi_string(value) == passed


def test_the_functions_are_the_folders_with_a_handler_as_the_program_lists_them():
    assert available_functions(FUNCTIONS_DIR) == {"admin_user", "regular_user"}


def test_the_blog_file_loads():
    settings = load_settings(ROOT / "Pulumi.dev.yaml")
    assert isinstance(settings, StackSettings)
    assert [u.username for u in settings.users] == ["adminuser", "regularuser"]


def program_error(config: dict) -> str:
    with pytest.raises(pulumi.RunError) as raised:
        run_program(config)
    return str(raised.value)


BAD_CONFIGS = {
    "unknown group": lambda c: c[f"{NS}:routes"][0].update(groups=["admn"]),
    "misspelt key": lambda c: c.update({f"{NS}:stagename": "Test"}),
    "number where a stage name goes": lambda c: c.update({f"{NS}:stageName": 123}),
    "string where a bool goes": lambda c: c.update({f"{NS}:protectUserPool": "maybe"}),
    "missing function folder": lambda c: c[f"{NS}:routes"][1].update(function="reports"),
    "several at once": lambda c: (c.update({f"{NS}:tokenUse": "both"}),
                                  c[f"{NS}:users"][0].update(groups=["nope"])),
    "namespace typo": lambda c: c.update({f"{NS}i:stageName": "Test"}),
    "list written as one string": lambda c: c.update(
        {f"{NS}:callbackUrls": "https://a.example.com/cb, https://b.example.com/cb"}),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_a_bad_config_fails_with_the_programs_own_message(tmp_path, case):
    config = blog_config()
    BAD_CONFIGS[case](config)
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, config))
    assert str(raised.value) == program_error(config)


def test_a_config_from_another_revision_is_checked_against_the_functions_it_names(tmp_path):
    config = scaled_config()
    config[f"{NS}:routes"][0]["function"] = "retired_function"
    path = write(tmp_path, config)
    with pytest.raises(ConfigError, match="no folder functions/retired_function/"):
        load_settings(path)
    assert functions_named(path) == {"retired_function", "regular_user", "admin_user"}
    assert load_settings(path, functions=functions_named(path)).routes[0].function == (
        "retired_function")


def test_an_encrypted_value_cannot_be_read_offline(tmp_path):
    path = write(tmp_path, {**blog_config(), f"{NS}:domainPrefix": {"secure": "v1:abc"}})
    with pytest.raises(StackFileError, match=f"{NS}:domainPrefix is an encrypted secret"):
        read_stack_config(path)


@pytest.mark.parametrize(("text", "message"), [
    (None, "no such stack file"),
    ("config: [unclosed", "not valid YAML"),
    ("- a list", "expected a mapping with a 'config' key"),
    ("config: [1, 2]", "'config' must be a mapping"),
])
def test_unreadable_stack_files_say_why(tmp_path, text, message):
    path = tmp_path / "Pulumi.x.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(StackFileError, match=message):
        read_stack_config(path)
