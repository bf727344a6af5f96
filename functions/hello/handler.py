"""The blog's route handler: ``Hello from Admin User`` on ``GET /AdminUser``, ``Hello from Regular
User`` on ``GET /RegularUser``; any route is greeted by its last literal path segment, its words
split at capitals. API Gateway lets a request through only with the route's scope, so this never
checks one. Stdlib only; any event gets an answer.
"""

import json
import re

_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": f"Hello from {_route_name(event)}",
                            "caller": _caller(event)}),
    }


def _route_name(event):
    """``GET /AdminUser`` -> ``Admin User``; ``$default`` or no route -> ``the API``."""
    try:
        route_key = event["routeKey"]
    except (KeyError, TypeError):
        route_key = None
    if not isinstance(route_key, str):
        return "the API"
    literals = [s for s in route_key.partition(" ")[2].split("/") if s and not s.startswith("{")]
    return _WORD_BREAK.sub(" ", literals[-1]) if literals else "the API"


def _caller(event):
    """The username the JWT authorizer verified (payload format 2.0), or None."""
    try:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        # ID tokens carry "cognito:username", access tokens "username".
        name = claims.get("cognito:username") or claims.get("username")
    except (KeyError, TypeError, AttributeError):
        return None
    return name if isinstance(name, str) else None
