"""OPTIONS routes without authorization, so CORS preflights never meet the JWT authorizer.

API Gateway adds the API's configured CORS headers (``Access-Control-Allow-Origin`` and the rest)
to this response, and ignores any the function would set ("Configure CORS for HTTP APIs"), so it
answers 204 with no body and no headers of its own. Stdlib only; any event gets the same answer.
"""


def handler(event, context):
    return {"statusCode": 204}
