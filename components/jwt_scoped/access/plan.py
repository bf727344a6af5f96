"""A stack's plan: the project's program run with the stack's config under Pulumi's mocks, and
what it registers read as a ``model.StackModel``. No AWS, no Pulumi CLI: what ``jwt-scoped plan``,
``verify`` and the sandbox's banner start from."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jwt_scoped.project import Project, ProjectError, region_problem, stack_name
from jwt_scoped.recording import Run, run_program

from .matrix import AccessMatrix, build_matrix
from .model import StackModel, resources_of_run, stack_model


class ProgramError(Exception):
    """The program refused the stack's config, or failed: its own message."""


@dataclass(frozen=True)
class Stack:
    """A stack to run: the project, its stack file and the stack's name."""

    project: Project
    path: Path
    name: str

    @classmethod
    def of(cls, project: Project, stack: str | None, config: Path | str | None) -> Stack:
        """``--stack NAME`` (its ``Pulumi.<stack>.yaml``) or ``--config FILE``."""
        path = Path(config) if config is not None else project.stack_file(stack or "")
        return cls(project, path, stack_name(stack, path))

    def config(self) -> dict[str, Any]:
        """The stack's config as the program receives it, checked for a region the components
        can deploy to."""
        values = self.project.stack_config(self.path)
        if problem := region_problem(values):
            raise ProjectError(f"{self.path}: {problem}")
        return values

    @property
    def shown(self) -> str:
        """The stack file as a user would type it: relative to the working directory."""
        try:
            return str(self.path.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)


def run_stack(stack: Stack, config: Mapping[str, Any] | None = None, **kwargs) -> Run:
    """The program under the mocks; ``ProgramError`` with the program's own message when it
    refuses the config (or a component refuses its args), or with the error and the program's
    line it came from when the program fails."""
    import pulumi

    config = dict(config if config is not None else stack.config())  # its own errors, not the program's
    try:
        return run_program(stack.project, config, stack=stack.name, **kwargs)
    except pulumi.RunError as error:
        raise ProgramError(str(error)) from None
    except ValueError as error:  # a component refusing its arguments
        raise ProgramError(str(error)) from None
    except Exception as error:  # noqa: BLE001 -- the user's program failed: say where, briefly
        raise ProgramError(f"the program failed: {type(error).__name__}: {error}"
                           f"{_where(error, stack.project.main)}") from None


def _where(error: BaseException, folder: Path) -> str:
    """`` (at __main__.py:34)``: the last line of the program's own files in the traceback."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if Path(f.filename).resolve().is_relative_to(folder)
              and ".venv" not in Path(f.filename).parts]
    if not frames:
        return ""
    last = frames[-1]
    return f" (at {Path(last.filename).resolve().relative_to(folder)}:{last.lineno})"


def planned(stack: Stack) -> tuple[StackModel, AccessMatrix]:
    """The stack's model and its expected matrix, ids shown as placeholders."""
    model = stack_model(resources_of_run(run_stack(stack).registered))
    return model, build_matrix(model)
