"""Machines as callers: app clients that take the client credentials grant, their secrets, and the
resource-server scopes routes demand of them. Decisions over plain values, and the stack findings.

- A machine client signs no person in: ``client_credentials`` is its only OAuth grant, and
  ``ALLOW_REFRESH_TOKEN_AUTH`` its only explicit auth flow (a client credentials grant issues no
  refresh token, so that flow signs nobody in). Cognito's default when ``explicitAuthFlows`` is
  empty or absent allows ``ALLOW_USER_SRP_AUTH``, ``ALLOW_CUSTOM_AUTH`` and
  ``ALLOW_REFRESH_TOKEN_AUTH`` (Cognito API reference, CreateUserPoolClient, "ExplicitAuthFlows").
  Cognito refuses ``client_credentials`` with ``code`` or ``implicit`` in one client (developer
  guide, "OAuth 2.0 grants"); the pack says so before the update fails.
- An app client's secret leaves the stack only as a secret. The pack sees the stack's outputs
  but not which are secret (pulumi-policy hands policies plain values: see ``docs/policy-pack.md``),
  so a stack output that holds a client secret must be one the config lists as secret, and no
  other AWS resource may hold a copy but the types the config lists as secret stores.
- Every machine scope (``<identifier>/<scope>``) a route demands is one a resource server of the
  pool defines, and one an app client the API admits may request (``allowedOauthScopes``):
  otherwise no token that carries it is ever issued.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from jwt_scoped import aws_types as t
from jwt_scoped.modes import (
    CLIENT_CREDENTIALS,
    DEFAULT_AUTH_FLOWS,
    REFRESH_TOKEN_AUTH,
    USER_GRANTS,
    RouteAccess,
)
from jwt_scoped.rules import SCOPE_SEPARATOR

from .route_checks import (
    access_of,
    audience_clients,
    http_apis,
    is_machine_scope,
    issuing_pool,
    key_of,
)
from .values import UNKNOWN, Finding, Node, is_set, of_type, referenced

# UserPoolClient AllowedOAuthFlows and ExplicitAuthFlows: the package's words for them
# (CLIENT_CREDENTIALS, USER_GRANTS, REFRESH_TOKEN_AUTH, DEFAULT_AUTH_FLOWS: jwt_scoped.modes).
AWS_PACKAGE = t.USER_POOL.split(":", 1)[0]
"""The provider whose resources are searched for copies of a client secret (``aws``)."""


# --- a machine client that signs people in ---------------------------------------------------

def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def machine_client_problems(oauth_flows: Any, auth_flows: Any) -> list[str]:
    """Why an app client that allows the client credentials grant also lets people sign in:
    a user grant beside it, or an explicit auth flow that signs a user in (also Cognito's
    default, when ``auth_flows`` is empty or absent). Unknown values pass until known."""
    if CLIENT_CREDENTIALS not in _strings(oauth_flows):
        return []
    problems = []
    if grants := [g for g in _strings(oauth_flows) if g in USER_GRANTS]:
        problems.append(
            f"the machine client allows the {CLIENT_CREDENTIALS} grant and also "
            f"{' and '.join(grants)}, which signs people in: Cognito refuses {CLIENT_CREDENTIALS} "
            f"with code or implicit in one app client (\"OAuth 2.0 grants\"), so the update would "
            f"fail. Give machines and people separate app clients")
    if auth_flows is UNKNOWN:
        return problems
    if not isinstance(auth_flows, list) or not auth_flows:
        problems.append(
            f"the machine client sets no explicitAuthFlows, and Cognito's default allows "
            f"{', '.join(DEFAULT_AUTH_FLOWS)} (CreateUserPoolClient, \"ExplicitAuthFlows\"): any "
            f"user of the pool can sign in through it, and their tokens name this client, an "
            f"audience the API's authorizer accepts. Set explicitAuthFlows to "
            f"[{REFRESH_TOKEN_AUTH}]")
    elif sign_in := [f for f in _strings(auth_flows) if f != REFRESH_TOKEN_AUTH]:
        problems.append(
            f"the machine client allows user sign-in flow(s) {', '.join(sign_in)}: anyone with a "
            f"user's password and this client's secret signs in through it, and their tokens "
            f"name this client, an audience the API's authorizer accepts. Allow only "
            f"{REFRESH_TOKEN_AUTH}")
    return problems


# --- a client secret outside a secret ----------------------------------------------------------

def _texts(value: Any) -> Iterator[str]:
    """Every string in ``value``, however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def secrets_held(value: Any, secrets: Mapping[str, str]) -> list[str]:
    """The names of the clients (``secrets``: name -> secret) whose secret ``value`` holds:
    anywhere in its strings, also inside a JSON document or a longer text."""
    texts = list(_texts(value))
    return sorted(name for name, secret in secrets.items() if any(secret in s for s in texts))


def _clients(names: Sequence[str]) -> str:
    return (f"app client {names[0]!r}" if len(names) == 1
            else f"app clients {', '.join(repr(n) for n in names)}")


def output_problems(outputs: Any, secrets: Mapping[str, str],
                    secret_outputs: Collection[str]) -> list[str]:
    """Stack outputs (name -> value) that hold a client secret without being listed as secret
    outputs, and listed names the stack has no output of. ``outputs`` UNKNOWN: nothing to say."""
    if not isinstance(outputs, Mapping):
        return []
    problems = []
    for name, value in outputs.items():
        if name not in secret_outputs and (held := secrets_held(value, secrets)):
            problems.append(
                f"stack output {name!r} holds the secret of {_clients(held)}: unless the output "
                f"is a secret, `pulumi stack output` prints it and every stack reference reads it "
                f"in clear. The pack cannot see which outputs are secret: if it is one, list "
                f"{name!r} in secretOutputs; if not, export it with pulumi.Output.secret (and "
                f"list it), or do not export it")
    for name in sorted(set(secret_outputs) - set(outputs)):
        problems.append(f"secretOutputs lists {name!r}, but the stack has no output of that "
                        f"name: remove it from the list")
    return problems


def copy_problem(resource_type: str, props: Any, secrets: Mapping[str, str],
                 secret_stores: Collection[str]) -> str | None:
    """Why an AWS resource that is not a secret store holds a copy of a client secret."""
    if resource_type in secret_stores or not (held := secrets_held(props, secrets)):
        return None
    return (f"this {resource_type} holds the secret of {_clients(held)} in its configuration, "
            f"which AWS shows to anyone who may read the resource (a Pulumi secret is a secret in "
            f"Pulumi's state only). Keep the secret in a secret store and give the resource its "
            f"name or ARN, or list {resource_type!r} in secretStores if it keeps what it holds "
            f"as a secret")


def client_secrets(nodes: Sequence[Node]) -> dict[str, tuple[Node, str]]:
    """The known secrets of the stack's app clients: client name -> (client, secret)."""
    found = {}
    for client in of_type(nodes, t.USER_POOL_CLIENT):
        secret = client.get("clientSecret")
        if isinstance(secret, str) and is_set(secret):
            name = client.get("name")
            found[name if isinstance(name, str) else client.name] = (client, secret)
    return found


def secret_exposure_findings(nodes: Sequence[Node], secret_outputs: Collection[str],
                             secret_stores: Collection[str]) -> list[Finding]:
    """No stack output holds a client secret unless listed as secret, and no AWS resource but
    the client itself and the listed secret stores holds a copy. Judged once the secrets are
    known: at ``pulumi up`` and in every preview of an existing stack."""
    clients = client_secrets(nodes)
    secrets = {name: secret for name, (_, secret) in clients.items()}
    findings = []
    stack = next((n for n in nodes if n.type == t.STACK), None)
    if stack is not None:
        findings += [Finding(stack.urn, p)
                     for p in output_problems(stack.props, secrets, secret_outputs)]
    if not secrets:
        return findings
    for node in nodes:
        if node.type.split(":", 1)[0] != AWS_PACKAGE:
            continue  # components, providers and other packages' resources: not AWS's keeping
        own = {name: s for name, s in secrets.items() if clients[name][0].urn != node.urn}
        if problem := copy_problem(node.type, node.props, own, secret_stores):
            findings.append(Finding(node.urn, problem))
    return findings


# --- machine scopes no token carries -----------------------------------------------------------

def defined_scopes(servers: Sequence[Node]) -> Any:
    """Resource server identifier -> the scope names it defines, of ``servers``; UNKNOWN while
    an identifier or a scope list is not known."""
    defined: dict[str, set[str]] = {}
    for server in servers:
        identifier, scopes = server.get("identifier"), server.get("scopes")
        if not isinstance(identifier, str) or not isinstance(scopes, list):
            return UNKNOWN
        names = {s.get("scopeName") if isinstance(s, Mapping) else UNKNOWN for s in scopes}
        if not all(isinstance(n, str) for n in names):
            return UNKNOWN
        defined.setdefault(identifier, set()).update(names)
    return defined


def requestable_scopes(clients: Any) -> Any:
    """Every scope the app clients may request (``allowedOauthScopes``); UNKNOWN while the
    clients or any of their lists are not known."""
    if clients is UNKNOWN:
        return UNKNOWN
    scopes: set[str] = set()
    for client in clients:
        allowed = client.get("allowedOauthScopes")
        if allowed is UNKNOWN or (isinstance(allowed, list) and UNKNOWN in allowed):
            return UNKNOWN
        scopes.update(_strings(allowed))
    return scopes


def _listed(scopes: Sequence[str]) -> str:
    return ", ".join(repr(s) for s in scopes)


def machine_scope_problems(key: str, scopes: Any, defined: Any, requestable: Any) -> list[str]:
    """Why route ``key``'s machine scopes admit nobody: those that name a resource server or a
    scope the pool does not define (``defined``: identifier -> scope names), and those no app
    client the API admits may request (``requestable``). Each scope is named once, by the first
    that applies; UNKNOWN ``defined`` or ``requestable``: that part waits until known."""
    machine = [s for s in scopes if is_machine_scope(s)] if isinstance(scopes, list) else []
    problems, undefined = [], []
    if machine and defined is not UNKNOWN:
        reasons = []
        for scope in machine:
            identifier, _, name = scope.rpartition(SCOPE_SEPARATOR)
            if identifier not in defined:
                known = ", ".join(sorted(defined)) or "none"
                reasons.append(f"{scope!r} names resource server {identifier!r}, which the pool "
                               f"does not define (its resource servers: {known})")
            elif name not in defined[identifier]:
                reasons.append(f"{scope!r} names scope {name!r}, which resource server "
                               f"{identifier!r} does not define (it defines: "
                               f"{', '.join(sorted(defined[identifier]))})")
            else:
                continue
            undefined.append(scope)
        if reasons:
            problems.append(f"route {key!r} demands machine scope(s) that do not exist: "
                            f"{'; '.join(reasons)}. No token carries them")
    if requestable is not UNKNOWN:
        missing = [s for s in machine if s not in undefined and s not in requestable]
        if missing:
            problems.append(
                f"route {key!r} demands machine scope(s) {_listed(missing)} that no app client "
                f"the API admits may request (allowedOauthScopes): a token with "
                f"{'it' if len(missing) == 1 else 'them'} is never issued. Grant "
                f"{'it' if len(missing) == 1 else 'them'} to a machine client, or drop "
                f"{'it' if len(missing) == 1 else 'them'} from the route")
    return problems


def machine_scope_findings(nodes: Sequence[Node]) -> list[Finding]:
    """Each machine scope a route demands exists on a resource server of the pool that issues the
    route's tokens and may be requested by an app client its authorizer admits, when that pool is
    in the stack."""
    pools = of_type(nodes, t.USER_POOL)
    clients = of_type(nodes, t.USER_POOL_CLIENT)
    servers = of_type(nodes, t.RESOURCE_SERVER)
    findings = []
    for api in http_apis(nodes):
        for route in api.routes:
            scopes, key = route.get("authorizationScopes"), key_of(route)
            if (key is None or access_of(route) is not RouteAccess.GROUPS
                    or not isinstance(scopes, list) or not any(map(is_machine_scope, scopes))):
                continue
            authorizers = referenced(route, "authorizerId", api.authorizers)
            pool = issuing_pool(authorizers[0], pools) if authorizers else None
            if pool is None:
                continue  # tokens of a pool outside the stack: its servers and clients are unseen
            of_pool = [s for s in servers if referenced(s, "userPoolId", [pool])]
            requestable = requestable_scopes(audience_clients(authorizers[0], clients, pool))
            for problem in machine_scope_problems(key, scopes, defined_scopes(of_pool),
                                                  requestable):
                findings.append(Finding(route.urn, problem))
    return findings

