"""Says hello to whoever the JWT authorizer let through. Stdlib only."""

import json


def handler(event, context):
    try:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        caller = claims.get("cognito:username") or claims.get("username")
    except (KeyError, TypeError, AttributeError):
        caller = None
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"message": "hello", "caller": caller})}
