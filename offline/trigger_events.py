"""Pre Token Generation events as Cognito sends them, shared by the trigger's tests and
``benchmarks/run.py``. Treat them as read-only: copy before changing one.

Shapes follow the Amazon Cognito Developer Guide, "Pre token generation Lambda trigger"
(https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html)
and "User pool Lambda trigger common parameters".
"""

import copy

CLIENT_ID = "71ghuul37mresr7h373b704tua"

# V1_0 event: the common parameters, then the V1_0 request; Cognito sends the response
# with "claimsOverrideDetails": null (or an empty response) for the function to fill in.
V1_EVENT = {
    "version": "1",
    "triggerSource": "TokenGeneration_Authentication",
    "region": "us-west-2",
    "userPoolId": "us-west-2_example",
    "userName": "adminuser",
    "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": CLIENT_ID},
    "request": {
        "userAttributes": {
            "sub": "0b0a57c5-f013-426a-81a1-f8ffbfba21f0",
            "email_verified": "true",
            "cognito:user_status": "CONFIRMED",
            "email": "adminuser@example.com",
        },
        "groupConfiguration": {
            "groupsToOverride": ["admin", "regular"],
            "iamRolesToOverride": [],
            "preferredRole": None,
        },
    },
    "response": {"claimsOverrideDetails": None},
}

# V2_0 event: the same, plus the request's "scopes"; the response slot is
# "claimsAndScopeOverrideDetails". V3_0 events have the same shape with "version": "3".
V2_EVENT = {
    **copy.deepcopy(V1_EVENT),
    "version": "2",
    "request": {**copy.deepcopy(V1_EVENT["request"]), "scopes": ["aws.cognito.signin.user.admin"]},
    "response": {"claimsAndScopeOverrideDetails": None},
}
