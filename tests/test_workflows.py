"""The GitHub workflows and the README's "Pull requests and deploys" section agree: every secret a
workflow reads is in the secrets table, every job that runs Pulumi can reach every backend, the
preview works before the first deploy, and every job that assumes an AWS role names an
environment whose trust policy the README spells out."""

from __future__ import annotations

import re

import pytest
import yaml

from fixtures.stacks import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# Read by pulumi/actions and the Pulumi CLI (`verify` calls `pulumi stack output`) from the job's
# environment: the backend, the passphrase provider, and Pulumi Cloud's login.
PULUMI_ENV = ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN")


def load(path):
    return yaml.safe_load(path.read_text())


def jobs():
    return [(path.name, name, job) for path in WORKFLOWS for name, job in load(path)["jobs"].items()]


def pulumi_jobs():
    return [(f, n, job) for f, n, job in jobs()
            if any(step.get("uses", "").startswith("pulumi/actions@") for step in job.get("steps", []))]


PULUMI_JOBS = [pytest.param(f, n, job, id=f"{f}:{n}") for f, n, job in pulumi_jobs()]


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("### Pull requests and deploys")
    return text[start:text.index("\n## ", start)]


def test_there_are_workflows_that_run_pulumi():
    assert {(f, n) for f, n, _ in pulumi_jobs()} == {("deploy.yml", "deploy"),
                                                    ("pull-request.yml", "preview")}


@pytest.mark.parametrize(("workflow", "name", "job"), PULUMI_JOBS)
def test_every_pulumi_job_gets_the_backend_settings_of_every_backend(workflow, name, job):
    env = job.get("env", {})
    for variable in PULUMI_ENV:
        assert env.get(variable) == f"${{{{ secrets.{variable} }}}}", (workflow, name, variable)


@pytest.mark.parametrize(("workflow", "name", "job"), PULUMI_JOBS)
def test_every_pulumi_step_creates_a_missing_stack(workflow, name, job):
    for step in job["steps"]:
        if step.get("uses", "").startswith("pulumi/actions@"):
            assert step["with"].get("upsert") is True, (workflow, name, step["with"]["command"])


def test_every_secret_a_workflow_reads_is_in_the_readme_table():
    used = set()
    for path in WORKFLOWS:
        used |= set(re.findall(r"secrets\.([A-Z_][A-Z0-9_]*)", path.read_text()))
    used.discard("GITHUB_TOKEN")  # provided by GitHub
    table = set(re.findall(r"^\| `([A-Z_][A-Z0-9_]*)` \|", readme_section(), flags=re.M))
    assert used == table


def test_every_job_that_assumes_an_aws_role_names_an_environment_the_readme_trusts():
    section = readme_section()
    aws_jobs = [(f, n, job) for f, n, job in jobs() if job.get("permissions", {}).get("id-token") == "write"]
    assert aws_jobs
    for workflow, name, job in aws_jobs:
        environment = job.get("environment")
        assert environment, f"{workflow}: {name} assumes an AWS role without an environment"
        trusted = rf"repo:[\w.-]+/[\w.-]+:environment:{re.escape(environment)}(?![\w-])"
        assert re.search(trusted, section), f"{workflow}: {name}: no trust policy for {environment}"
