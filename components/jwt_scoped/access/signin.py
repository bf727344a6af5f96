"""Sign a test user in to Cognito with ``InitiateAuth`` / ``USER_PASSWORD_AUTH``.

The request is unsigned (``InitiateAuth`` on a public app client needs no AWS credentials). The
region comes from the user pool id. The endpoint is boto3's own choice unless one is given: its
standard settings (``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``, ``AWS_ENDPOINT_URL``,
``endpoint_url`` in the AWS config file) win over the one a sandbox's state names, which wins
over AWS's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from jwt_scoped.cognito_urls import region_of_pool
from jwt_scoped.modes import TokenUse

TOKEN_KEYS = {TokenUse.ID: "IdToken", TokenUse.ACCESS: "AccessToken"}
AUTH_FLOW = "USER_PASSWORD_AUTH"


class SignInError(Exception):
    """A user who cannot be signed in; the message is one line for the user."""


ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_ENDPOINT_URL")


def cognito_client(user_pool_id: str, attempts: int, timeout: float,
                   endpoint: str | None = None):
    """An unsigned Cognito client. ``endpoint`` (a sandbox's) is used unless the environment
    names one explicitly."""
    explicit = any(os.environ.get(name) for name in ENDPOINT_VARIABLES)
    return boto3.client(
        "cognito-idp", region_name=region_of_pool(user_pool_id),
        endpoint_url=None if explicit else endpoint,
        config=Config(signature_version=botocore.UNSIGNED, connect_timeout=timeout,
                      read_timeout=timeout,
                      retries={"mode": "standard", "total_max_attempts": max(1, attempts)}))


def sign_in(client, app_client_id: str, username: str, password: str) -> dict[TokenUse, str]:
    """The user's ID and access tokens."""
    try:
        result = client.initiate_auth(ClientId=app_client_id, AuthFlow=AUTH_FLOW,
                                      AuthParameters={"USERNAME": username, "PASSWORD": password})
    except ClientError as error:
        details = error.response.get("Error", {})
        raise SignInError(sign_in_error_message(username, app_client_id, details.get("Code", "?"),
                                                details.get("Message", str(error)))) from None
    except BotoCoreError as error:  # no connection, timeouts, ...
        raise SignInError(f"cannot reach Cognito to sign in {username!r}: {error}") from None
    return {use: token_from(result, use, username) for use in TokenUse}


def sign_in_error_message(username: str, app_client_id: str, code: str, message: str) -> str:
    """One line saying why Cognito refused ``username`` and what to do about it."""
    if code == "NotAuthorizedException":
        hint = ("wrong password? the passwords are the stack's test_user_passwords output; "
                "a user whose password was changed in Cognito can no longer be verified")
    elif code == "InvalidParameterException" and AUTH_FLOW in message:
        hint = (f"the app client {app_client_id} does not allow {AUTH_FLOW}: add "
                f"ALLOW_{AUTH_FLOW} to its explicit auth flows (this program's client has it)")
    elif code == "UserNotFoundException":
        hint = "the user is in the stack config but not in the user pool: run `pulumi up`"
    elif code == "ResourceNotFoundException":
        hint = "no such app client or user pool in this region: is the stack deployed?"
    elif code == "PasswordResetRequiredException":
        hint = "an administrator must set a new password first"
    else:
        hint = "see Cognito's message"
    return f"cannot sign in {username!r}: Cognito says {message!r} ({code}); {hint}"


def token_from(result: Mapping[str, Any], token_use: str, username: str) -> str:
    """Pick the ID or access token from an ``InitiateAuth`` answer."""
    if result.get("ChallengeName"):
        raise SignInError(f"cannot sign in {username!r}: Cognito asks for the "
                          f"{result['ChallengeName']} challenge instead of issuing tokens")
    if token_use not in TOKEN_KEYS:
        raise SignInError(f"unknown token use {token_use!r}; expected one of "
                          f"{', '.join(TOKEN_KEYS)}")
    key = TOKEN_KEYS[TokenUse(token_use)]
    token = (result.get("AuthenticationResult") or {}).get(key)
    if not isinstance(token, str) or not token:
        raise SignInError(f"Cognito signed in {username!r} but returned no {key}")
    return token
