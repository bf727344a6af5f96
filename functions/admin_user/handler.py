"""GET /AdminUser: API Gateway lets a request through only with the admin scope. Stdlib only."""

import json

MESSAGE = "Hello from Admin User"


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": MESSAGE, "caller": _caller(event)}),
    }


def _caller(event):
    """The username the JWT authorizer verified (payload format 2.0), or None."""
    try:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        # ID tokens carry "cognito:username", access tokens "username".
        name = claims.get("cognito:username") or claims.get("username")
    except (KeyError, TypeError, AttributeError):
        return None
    return name if isinstance(name, str) else None
