"""PythonFunction: one Lambda function with its own role, log group and least-privilege policy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from . import rules

RUNTIME = "python3.13"  # a current Lambda Python runtime (Lambda "Supported runtimes")


def package_files(source_dir: str, extra_files: Mapping[str, str]) -> dict[str, str]:
    """Archive path -> file on disk: the folder's ``*.py`` files (no caches, no tests), plus
    ``extra_files``. Sorted, so the archive and its hash only change when a file does."""
    folder = Path(source_dir)
    if not (folder / "handler.py").is_file():
        raise ValueError(f"source_dir {source_dir!r} has no handler.py")
    files = {p.name: str(p) for p in sorted(folder.glob("*.py"))}
    for archive_name, path in extra_files.items():
        if archive_name in files:
            raise ValueError(f"extra file {archive_name!r} would overwrite {files[archive_name]}")
        if not Path(path).is_file():
            raise ValueError(f"extra file {archive_name!r}: {path!r} does not exist")
        files[archive_name] = str(path)
    return dict(sorted(files.items()))


def assume_role_policy(service: str = "lambda.amazonaws.com") -> str:
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


@dataclass
class PythonFunctionArgs:
    source_dir: str
    """Folder holding ``handler.py`` with ``handler(event, context)``; its ``*.py`` files ship."""
    extra_files: Mapping[str, str] = field(default_factory=dict)
    """Archive name -> path of further files to ship beside the handler."""
    description: str | None = None
    """Shown in the Lambda console."""
    timeout: int = 10
    """Seconds before Lambda stops an invocation."""
    memory_size: int = 128
    """Megabytes of memory (and proportional CPU)."""
    log_retention_days: int = 30
    """Days CloudWatch Logs keeps this function's logs; one of the allowed retention values."""
    runtime: str = RUNTIME
    """Lambda runtime identifier."""


class PythonFunction(pulumi.ComponentResource):
    """A stdlib-only Python Lambda function: function, execution role, log group, and an inline
    policy that allows writing to that log group only."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: PythonFunctionArgs,
                 opts: pulumi.ResourceOptions | None = None):
        problem = rules.log_retention_problem(args.log_retention_days)
        if problem:
            raise ValueError(f"PythonFunction {name!r}: log_retention_days: {problem}")
        files = package_files(args.source_dir, args.extra_files)
        super().__init__("jwt-scoped-api:index:PythonFunction", name, None, opts)
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
        self.register_outputs({"arn": self.arn, "function_name": self.function_name,
                               "invoke_arn": self.invoke_arn, "role_arn": self.role.arn,
                               "log_group_name": self.log_group.name})
