"""The Pulumi type tokens of the resources the components register (pulumi-aws v7,
pulumi-random v4), and the ARN formats derived from them: the one list, read by the recording
mocks, the sandbox, the access model and the policy pack. Pure: no Pulumi, no AWS."""

USER_POOL = "aws:cognito/userPool:UserPool"
USER_POOL_CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
USER_POOL_DOMAIN = "aws:cognito/userPoolDomain:UserPoolDomain"
RESOURCE_SERVER = "aws:cognito/resourceServer:ResourceServer"
USER_GROUP = "aws:cognito/userGroup:UserGroup"
USER = "aws:cognito/user:User"
USER_IN_GROUP = "aws:cognito/userInGroup:UserInGroup"

API = "aws:apigatewayv2/api:Api"
AUTHORIZER = "aws:apigatewayv2/authorizer:Authorizer"
ROUTE = "aws:apigatewayv2/route:Route"
INTEGRATION = "aws:apigatewayv2/integration:Integration"
STAGE = "aws:apigatewayv2/stage:Stage"
DEPLOYMENT = "aws:apigatewayv2/deployment:Deployment"

FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_STRING = "random:index/randomString:RandomString"
STACK = "pulumi:pulumi:Stack"

LAMBDA_API_VERSION = "2015-03-31"


def lambda_invoke_arn(region: str, function_arn: str) -> str:
    """The URI API Gateway invokes a Lambda function by (the function's ``invoke_arn`` output):
    ``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations``."""
    return (f"arn:aws:apigateway:{region}:lambda:path/{LAMBDA_API_VERSION}/functions/"
            f"{function_arn}/invocations")

