"""The blog's system, built with the jwt-scoped components installed with pip:

    pip install "git+https://github.com/<org>/jwt-scoped-api"   # or: pip install <path to it>
"""

import pulumi

from jwt_scoped import (
    ApiRoute,
    GroupSpec,
    PythonFunction,
    PythonFunctionArgs,
    ScopedHttpApi,
    ScopedHttpApiArgs,
    ScopedIdentityPool,
    ScopedIdentityPoolArgs,
    UserSpec,
)

pool = ScopedIdentityPool("auth", ScopedIdentityPoolArgs(
    groups=[GroupSpec(name="admin"), GroupSpec(name="regular")],
    users=[UserSpec(username="adminuser", groups=["admin", "regular"]),
           UserSpec(username="regularuser", groups=["regular"])],
    protect=False,  # a demo: `pulumi destroy` may delete the pool and its users
))
hello = PythonFunction("hello", PythonFunctionArgs(source_dir="hello"))
api = ScopedHttpApi("api", ScopedHttpApiArgs(
    issuer=pool.issuer_url,
    audiences=[pool.client_id],
    functions={"hello": hello.arn},
    scopes=pool.scopes,  # group -> scope: routes name the groups they admit
    routes=[ApiRoute(route_key="GET /AdminUser", function="hello", scopes=["admin"]),
            ApiRoute(route_key="GET /RegularUser", function="hello", scopes=["regular"]),
            ApiRoute(route_key="GET /health", function="hello", access="public")],
    stage_name="Test",
))

pulumi.export("api_url", api.invoke_url)
pulumi.export("app_client_id", pool.client_id)
pulumi.export("test_user_passwords", pool.user_passwords)
