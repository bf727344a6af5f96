"""GET /AdminUser and GET /RegularUser: 200, the blog's greeting, and who called.

The event is the HTTP API payload format 2.0 from the API Gateway Developer Guide
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html),
with a JWT authorizer's context: API Gateway passes the token's claims as strings under
``requestContext.authorizer.jwt.claims``. Claim sets follow the Cognito ID and access token samples
(https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html,
https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html).
"""

import copy
import json

import pytest

from functions_loader import load_handler

CLIENT_ID = "71ghuul37mresr7h373b704tua"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example"

ID_TOKEN_CLAIMS = {
    "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "aud": CLIENT_ID,
    "email_verified": "true",
    "token_use": "id",
    "auth_time": "1500009400",
    "iss": ISSUER,
    "cognito:username": "adminuser",
    "exp": "1500013000",
    "iat": "1500009400",
    "email": "adminuser@example.com",
    "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "scope": f"admin-{CLIENT_ID} regular-{CLIENT_ID}",
}

ACCESS_TOKEN_CLAIMS = {
    "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "token_use": "access",
    "scope": f"aws.cognito.signin.user.admin regular-{CLIENT_ID}",
    "auth_time": "1562190524",
    "iss": ISSUER,
    "exp": "1562194124",
    "iat": "1562190524",
    "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "client_id": CLIENT_ID,
    "username": "regularuser",
}

PAYLOAD_2_0 = {
    "version": "2.0",
    "routeKey": "GET /AdminUser",
    "rawPath": "/AdminUser",
    "rawQueryString": "",
    "headers": {
        "accept": "*/*",
        "authorization": "Bearer eyJra[...]A",
        "host": "id.execute-api.us-east-1.amazonaws.com",
        "user-agent": "curl/8.5.0",
    },
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api-id",
        "authorizer": {"jwt": {"claims": ID_TOKEN_CLAIMS, "scopes": None}},
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "http": {
            "method": "GET",
            "path": "/AdminUser",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "id",
        "routeKey": "GET /AdminUser",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    },
    "isBase64Encoded": False,
}

# One handler greets each route by name, with the blog's words for the blog's routes.
ROUTES = [
    pytest.param("GET /AdminUser", "Hello from Admin User", id="AdminUser"),
    pytest.param("GET /RegularUser", "Hello from Regular User", id="RegularUser"),
    pytest.param("POST /documents/{id}", "Hello from documents", id="path-parameter"),
    pytest.param("ANY /admin/{proxy+}", "Hello from admin", id="greedy"),
    pytest.param("GET /", "Hello from the API", id="root"),
    pytest.param("$default", "Hello from the API", id="default-route"),
]


def request_with(claims=None, authorizer=True, route_key="GET /AdminUser"):
    evt = copy.deepcopy(PAYLOAD_2_0)
    evt["routeKey"] = evt["requestContext"]["routeKey"] = route_key
    if not authorizer:
        del evt["requestContext"]["authorizer"]
    elif claims is not None:
        evt["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    return evt


def answer(evt):
    response = load_handler("hello").handler(evt, None)
    assert response["statusCode"] == 200
    assert response["headers"] == {"content-type": "application/json"}
    assert set(response) == {"statusCode", "headers", "body"}
    return json.loads(response["body"])


@pytest.mark.parametrize("route_key, message", ROUTES)
def test_id_token_caller_is_its_cognito_username(route_key, message):
    assert answer(request_with(ID_TOKEN_CLAIMS, route_key=route_key)) == {
        "message": message,
        "caller": "adminuser",
    }


@pytest.mark.parametrize("route_key, message", ROUTES)
def test_access_token_caller_is_its_username(route_key, message):
    assert answer(request_with(ACCESS_TOKEN_CLAIMS, route_key=route_key)) == {
        "message": message,
        "caller": "regularuser",
    }


@pytest.mark.parametrize("route_key, message", ROUTES)
def test_no_authorizer_still_answers_with_no_caller(route_key, message):
    assert answer(request_with(authorizer=False, route_key=route_key)) == {
        "message": message,
        "caller": None,
    }


@pytest.mark.parametrize(
    "evt",
    [
        None,
        [],
        "GET /AdminUser",
        {},
        {"requestContext": None},
        {"requestContext": {"authorizer": {"jwt": None}}},
        {"requestContext": {"authorizer": {"jwt": {"claims": "adminuser"}}}},
        {"requestContext": {"authorizer": {"jwt": {"claims": {"username": 42}}}}},
        {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "only-a-sub"}}}}},
    ],
    ids=repr,
)
def test_odd_events_answer_with_no_caller_and_never_raise(evt):
    assert answer(evt) == {"message": "Hello from the API", "caller": None}
