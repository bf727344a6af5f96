"""pyproject.toml silences warnings raised in Pulumi's own modules, and only there: the same
warning raised in our code still reaches the test output."""

from __future__ import annotations

import warnings

import pytest

EVENT_LOOP = "There is no current event loop"  # Python 3.12+, from asyncio.get_event_loop()


def shown(message: str, category: type[Warning], module: str) -> bool:
    """Whether a warning raised in ``module`` passes the filters pytest applies to this test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn_explicit(message, category, f"{module.replace('.', '/')}.py", 1, module=module,
                               registry={})
    return bool(caught)


@pytest.mark.parametrize("module", ["pulumi.runtime.resource", "pulumi.output"])
def test_the_sdks_event_loop_warning_is_silenced(module):
    assert not shown(EVENT_LOOP, DeprecationWarning, module)


@pytest.mark.parametrize("module", ["pulumi_aws", "pulumi_aws.lambda_"])
def test_pulumi_aws_deprecations_are_silenced(module):
    assert not shown("pulumi_aws.x is deprecated", DeprecationWarning, module)


@pytest.mark.parametrize("module", ["jwt_scoped.http_api", "access.verify", "offline.recording",
                                    "test_program", "__main__"])
def test_the_same_warnings_from_our_code_are_shown(module):
    assert shown(EVENT_LOOP, DeprecationWarning, module)
    assert shown("something is deprecated", DeprecationWarning, module)


def test_other_warnings_from_pulumi_are_shown():
    assert shown("something else", DeprecationWarning, "pulumi.runtime.resource")
    assert shown(EVENT_LOOP, RuntimeWarning, "pulumi.runtime.resource")
