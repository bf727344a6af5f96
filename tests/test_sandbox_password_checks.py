"""Password checks that hold in the sandbox's Cognito: SRP (``USER_SRP_AUTH``, Amplify's default
flow) refuses a wrong password, and an auth flow the app client does not allow is refused with
Cognito's error, through the API a user's SDK calls (pycognito's SRP client over boto3)."""

from __future__ import annotations

import jwt
import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from fixtures.stacks import blog_config
from sandbox_harness import change, cognito, sign_in, started

# pycognito's process_challenge reads datetime.utcnow(), deprecated from Python 3.12.
pytestmark = pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    with started(blog_config(), tmp_path_factory.mktemp("srp")) as sandbox:
        yield sandbox


def srp_sign_in(sandbox, username: str, password: str) -> dict:
    outputs = sandbox.outputs
    client = AWSSRP(username=username, password=password, pool_id=outputs["user_pool_id"],
                    client_id=outputs["app_client_id"], client=cognito(sandbox))
    return client.authenticate_user()["AuthenticationResult"]


def test_srp_with_the_right_password_gets_the_triggers_tokens(blog):
    tokens = srp_sign_in(blog, "adminuser", blog.outputs["test_user_passwords"]["adminuser"])
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert claims["cognito:username"] == "adminuser"
    assert set(claims["scope"].split()) == set(blog.outputs["scopes"].values())


@pytest.mark.parametrize("wrong", [lambda right: "wrong-password", lambda right: right + "x",
                                   lambda right: right.swapcase()])
def test_srp_with_a_wrong_password_is_refused_as_cognito_refuses_it(blog, wrong):
    with pytest.raises(ClientError) as refused:
        srp_sign_in(blog, "adminuser", wrong(blog.outputs["test_user_passwords"]["adminuser"]))
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotAuthorizedException",
                                                 "Incorrect username or password.")


def test_an_srp_answer_cannot_be_replayed(blog):
    """Each challenge takes one answer: the same right answer sent twice is refused the second
    time."""
    outputs = blog.outputs
    client = cognito(blog)
    srp = AWSSRP(username="regularuser", password=outputs["test_user_passwords"]["regularuser"],
                 pool_id=outputs["user_pool_id"], client_id=outputs["app_client_id"],
                 client=client)
    challenge = client.initiate_auth(ClientId=outputs["app_client_id"], AuthFlow="USER_SRP_AUTH",
                                     AuthParameters=srp.get_auth_params())
    answer = srp.process_challenge(challenge["ChallengeParameters"], {"USERNAME": "regularuser"})
    first = client.respond_to_auth_challenge(ClientId=outputs["app_client_id"],
                                             ChallengeName="PASSWORD_VERIFIER",
                                             ChallengeResponses=answer)
    assert "AccessToken" in first["AuthenticationResult"]
    with pytest.raises(ClientError) as replayed:
        client.respond_to_auth_challenge(ClientId=outputs["app_client_id"],
                                         ChallengeName="PASSWORD_VERIFIER",
                                         ChallengeResponses=answer)
    assert replayed.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_an_srp_a_that_is_not_a_number_is_a_parameter_error(blog):
    outputs = blog.outputs
    with pytest.raises(ClientError) as refused:
        cognito(blog).initiate_auth(ClientId=outputs["app_client_id"], AuthFlow="USER_SRP_AUTH",
                                    AuthParameters={"USERNAME": "adminuser", "SRP_A": "0"})
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"


def test_a_flow_the_app_client_does_not_allow_is_refused_with_cognitos_error(blog):
    """The program's client allows password, SRP and refresh sign-ins, not CUSTOM_AUTH."""
    with pytest.raises(ClientError) as refused:
        cognito(blog).initiate_auth(ClientId=blog.outputs["app_client_id"], AuthFlow="CUSTOM_AUTH",
                                    AuthParameters={"USERNAME": "adminuser"})
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidParameterException",
                                                 "CUSTOM_AUTH flow not enabled for this client")


def test_a_client_without_password_sign_in_refuses_it(tmp_path):
    """The same rule read from the client's own settings: drop USER_PASSWORD_AUTH from them."""
    edit = change("aws:cognito/userPoolClient:UserPoolClient", lambda name, inputs: {
        **inputs, "explicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})
    with started(blog_config(), tmp_path, edit=edit) as sandbox:
        with pytest.raises(ClientError) as refused:
            sign_in(sandbox, "adminuser")
        assert refused.value.response["Error"]["Message"] == (
            "USER_PASSWORD_AUTH flow not enabled for this client")
        password = sandbox.outputs["test_user_passwords"]["adminuser"]
        assert "IdToken" in srp_sign_in(sandbox, "adminuser", password)
