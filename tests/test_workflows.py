"""The GitHub workflows and the "Pull requests and deploys" section of docs/deploying.md agree:
every secret a workflow reads is in the secrets table, every job that runs Pulumi can reach every
backend, the preview works before the first deploy, every job that assumes an AWS role names an
environment whose trust policy the docs spell out, and the workflows run the commands the docs
name: the access plan of the base branch's own program, and `jwt-scoped verify` after deploying."""

from __future__ import annotations

import re

import pytest
import yaml

from fixtures.stacks import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# Read by pulumi/actions and the Pulumi CLI (`verify` calls `pulumi stack export`) from the job's
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


DOCS_PAGE = ROOT / "docs" / "deploying.md"
SECTION = "## Pull requests and deploys"


def docs_section() -> str:
    text = DOCS_PAGE.read_text()
    start = text.index(f"\n{SECTION}\n") + 1
    end = text.find("\n## ", start + len(SECTION))
    return text[start:] if end == -1 else text[start:end]


def steps(workflow: str, job: str) -> list[dict]:
    return load(ROOT / ".github" / "workflows" / workflow)["jobs"][job]["steps"]


def run_text(workflow: str, job: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow, job))


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


def test_every_secret_a_workflow_reads_is_in_the_docs_table():
    used = set()
    for path in WORKFLOWS:
        used |= set(re.findall(r"secrets\.([A-Z_][A-Z0-9_]*)", path.read_text()))
    used.discard("GITHUB_TOKEN")  # provided by GitHub
    table = set(re.findall(r"^\| `([A-Z_][A-Z0-9_]*)` \|", docs_section(), flags=re.M))
    assert used == table


def test_every_job_that_assumes_an_aws_role_names_an_environment_the_docs_trust():
    section = docs_section()
    aws_jobs = [(f, n, job) for f, n, job in jobs() if job.get("permissions", {}).get("id-token") == "write"]
    assert aws_jobs
    for workflow, name, job in aws_jobs:
        environment = job.get("environment")
        assert environment, f"{workflow}: {name} assumes an AWS role without an environment"
        trusted = rf"repo:[\w.-]+/[\w.-]+:environment:{re.escape(environment)}(?![\w-])"
        assert re.search(trusted, section), f"{workflow}: {name}: no trust policy for {environment}"


def test_the_base_plan_comes_from_a_full_checkout_of_the_base_commit():
    """The plan runs the base branch's own program: its stack file alone is not enough."""
    (base,) = [s for s in steps("pull-request.yml", "access-plan")
               if s.get("with", {}).get("path") == "base"]
    assert base["uses"].startswith("actions/checkout@")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert not {"sparse-checkout", "sparse-checkout-cone-mode"} & set(base["with"])
    assert base["with"]["persist-credentials"] is False


def test_the_pull_request_comments_the_plan_against_the_base_branchs_plan():
    run = " ".join(run_text("pull-request.yml", "access-plan").replace("\\\n", " ").split())
    base_plan = "python -m jwt_scoped plan --stack dev --format json -C base > base-plan.json"
    assert base_plan in run
    assert "against=(--against base-plan.json)" in run
    assert 'python -m jwt_scoped plan --stack dev "${against[@]}" --format markdown' in run
    # The docs name the same commands.
    section = docs_section()
    assert base_plan in section
    assert "python -m jwt_scoped plan --stack dev --against base-plan.json --format markdown" in section


def test_the_deploy_verifies_the_stack_it_deployed():
    deploy = steps("deploy.yml", "deploy")
    (up,) = [i for i, s in enumerate(deploy) if s.get("uses", "").startswith("pulumi/actions@")]
    (verify,) = [i for i, s in enumerate(deploy) if "jwt-scoped verify" in s.get("run", "")]
    assert deploy[verify]["run"].strip() == ".venv/bin/jwt-scoped verify --stack dev"
    assert verify > up
    assert ".venv/bin/jwt-scoped verify --stack dev" in docs_section()


def test_the_workflows_run_no_tool_that_is_gone():
    for path in WORKFLOWS:
        text = path.read_text()
        for gone in ("python -m access", "python -m sandbox", "-m access.", "-m sandbox."):
            assert gone not in text, f"{path.name} still runs {gone!r}"


def test_the_docs_the_workflows_point_to_exist():
    """Each workflow's comments name the page and section that document it."""
    for path in WORKFLOWS:
        comments = " ".join(path.read_text().replace("\n#", " ").split())
        pointers = re.findall(r"(docs/[\w.-]+\.md), \"([^\"]+)\"", comments)
        assert pointers, f"{path.name} names no docs page"
        for page, heading in pointers:
            assert (ROOT / page).is_file(), f"{path.name} points to {page}"
            assert f"\n## {heading}\n" in (ROOT / page).read_text(), (path.name, page, heading)
