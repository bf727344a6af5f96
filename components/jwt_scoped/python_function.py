"""PythonFunction: one Lambda function with its own role, log group and least-privilege policy."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from . import rules as r
from .model import from_inputs, require_valid, rules
from .package import component_options, type_token

RUNTIME = "python3.13"  # a current Lambda Python runtime (Lambda "Supported runtimes")
PACKAGE_DIR = Path(__file__).resolve().parent
"""This package's folder: the components' own functions live in it, beside the components."""


def packaged_function(folder: str) -> str:
    """The folder of a function this package ships (``trigger``, ``preflight``), wherever the
    package is installed: a wheel's site-packages, or components/jwt_scoped for an editable
    install."""
    path = PACKAGE_DIR / folder
    if not (path / "handler.py").is_file():
        raise ValueError(f"jwt_scoped ships no function {folder!r}")
    return str(path)


def package_files(source_dir: str, extra_files: Mapping[str, str]) -> dict[str, str]:
    """Archive path -> file on disk: the folder's ``*.py`` files (no caches, no tests, no
    ``__init__.py``: Lambda loads ``handler.py`` as a top-level module), plus ``extra_files``.
    Sorted, so the archive and its hash only change when a file does."""
    folder = Path(source_dir).resolve()  # the program's folder is the working directory now
    if not (folder / "handler.py").is_file():
        raise ValueError(f"source_dir {source_dir!r} has no handler.py")
    files = {p.name: str(p) for p in sorted(folder.glob("*.py")) if p.name != "__init__.py"}
    for archive_name, path in extra_files.items():
        if archive_name in files:
            raise ValueError(f"extra file {archive_name!r} would overwrite {files[archive_name]}")
        if not Path(path).is_file():
            raise ValueError(f"extra file {archive_name!r}: {path!r} does not exist")
        files[archive_name] = str(Path(path).resolve())
    return dict(sorted(files.items()))


def assume_role_policy(service: str = r.LAMBDA_PRINCIPAL) -> str:
    """Trust policy: only the Lambda service may assume the role."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"Service": service}}],
    })


def log_writer_policy(log_group_arn: str) -> str:
    """Allow writing to one log group's streams, nothing else. The log group already exists
    (we create it), so no ``logs:CreateLogGroup``."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow",
                       "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": f"{log_group_arn}:log-stream:*"}],
    })


@dataclass(frozen=True, kw_only=True)
class PythonFunctionArgs:
    """A stdlib-only Python Lambda function built from a folder."""

    source_dir: str
    """Folder holding ``handler.py`` with ``handler(event, context)``; its ``*.py`` files ship."""
    extra_files: Mapping[str, str] | None = field(default_factory=dict)
    """Archive name -> path of further files to ship beside the handler."""
    description: str | None = field(default=None, metadata=rules(
        check=r.Text("description", r.LAMBDA_DESCRIPTION_MAX)))
    """Shown in the Lambda console."""
    timeout: int | None = field(default=10, metadata=rules(
        check=r.WholeRange("timeout", *r.LAMBDA_TIMEOUT_RANGE)))
    """Seconds before Lambda stops an invocation."""
    memory_size: int | None = field(default=128, metadata=rules(
        check=r.WholeRange("memory size", *r.LAMBDA_MEMORY_RANGE)))
    """Megabytes of memory (and proportional CPU)."""
    log_retention_days: int | None = field(default=r.DEFAULT_LOG_RETENTION_DAYS, metadata=rules(
        check=r.LogRetention()))
    """Days CloudWatch Logs keeps this function's logs; one of the allowed retention values."""
    runtime: str | None = RUNTIME
    """Lambda runtime identifier."""


class PythonFunction(pulumi.ComponentResource):
    """A stdlib-only Python Lambda function: function, execution role, log group, and an inline
    policy that allows writing to that log group only."""

    arn: pulumi.Output[str]
    """The function's ARN: what an HTTP API integration and a Cognito trigger name."""
    function_name: pulumi.Output[str]
    """The function's name (the resource name and a random suffix)."""
    invoke_arn: pulumi.Output[str]
    """The URI API Gateway invokes it by."""
    role_arn: pulumi.Output[str]
    """Its execution role's ARN."""
    log_group_name: pulumi.Output[str]
    """The log group it writes to."""

    def __init__(self, name: str, args: PythonFunctionArgs,
                 opts: pulumi.ResourceOptions | None = None):
        args = from_inputs(PythonFunctionArgs, args)  # a dict of inputs works too
        require_valid("PythonFunction", name, args)
        files = package_files(args.source_dir, args.extra_files or {})
        super().__init__(type_token("PythonFunction"), name, None,
                         component_options("PythonFunction", opts))
        child = pulumi.ResourceOptions(parent=self)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name_prefix=f"/aws/lambda/{name}-",
            retention_in_days=args.log_retention_days, opts=child)
        self.role = aws.iam.Role(
            f"{name}-role", assume_role_policy=assume_role_policy(),
            description=f"Execution role of {name}", opts=child)
        policy = aws.iam.RolePolicy(
            f"{name}-logs-policy", role=self.role.id,
            policy=self.log_group.arn.apply(log_writer_policy), opts=child)
        self.function = aws.lambda_.Function(
            name,
            runtime=args.runtime,
            handler="handler.handler",
            architectures=["arm64"],
            code=pulumi.AssetArchive({k: pulumi.FileAsset(v) for k, v in files.items()}),
            role=self.role.arn,
            timeout=args.timeout,
            memory_size=args.memory_size,
            description=args.description,
            # Send logs to the group we own instead of an implicit /aws/lambda/<name> group
            # (Lambda "advanced logging controls").
            logging_config={"log_format": "JSON", "log_group": self.log_group.name},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))

        self.arn = self.function.arn
        self.function_name = self.function.name
        self.invoke_arn = self.function.invoke_arn
        self.role_arn = self.role.arn
        self.log_group_name = self.log_group.name
        self.register_outputs({"arn": self.arn, "function_name": self.function_name,
                               "invoke_arn": self.invoke_arn, "role_arn": self.role_arn,
                               "log_group_name": self.log_group_name})
