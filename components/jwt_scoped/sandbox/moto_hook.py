"""THE one place the sandbox changes moto: where Cognito does more than moto does.

1. The Pre Token Generation trigger (below).
2. The app client's auth flows: ``InitiateAuth`` with a flow the client's
   ``ExplicitAuthFlows`` does not allow is refused with Cognito's error (moto allows every flow).
3. ``USER_SRP_AUTH``: moto's challenge is random and it never checks the password claim, so a
   wrong password got tokens; here the server side of SRP (``srp.py``) makes the challenge and
   checks the claim.
4. How tokens are asked for: the sandbox's OAuth endpoints issue tokens through moto too, inside
   ``issuing(Context(...))``, so the trigger sees ``TokenGeneration_HostedAuth`` and the access
   token carries the OAuth scopes granted (and the ID token the ``nonce``).

moto has no Lambda triggers. In the moto versions pinned in ``pyproject.toml``'s ``sandbox``
extra (``MOTO_VERSIONS``), every user-pool token, from every flow (``InitiateAuth`` and
``AdminInitiateAuth`` with passwords or a refresh token, the auth challenge responses), is
created by one method, ``CognitoIdpUserPool.create_jwt(client_id, username, token_use,
expires_in, extra_data)``; the ID and the access token of one issuance are created one after the
other, in one request thread, and share the refresh token's ``origin_jti``. ``install`` wraps
that method, for the pools a sandbox ``adopt``s (others keep moto's own behaviour):

1. The first token of an issuance asks the pool's ``TokenIssuer`` to run the trigger once, with
   what moto knows of the pool, app client, user and groups (a ``TokenRequest``: plain data,
   so nothing outside this module touches moto's internals). An ``origin_jti`` seen before
   means the tokens come from a refresh token (``TokenGeneration_RefreshTokens``).
2. Each token's claims (``extra_data``: everything but the claims Cognito always sets itself)
   and lifetime come from the issuance's answer; the second token of the issuance reuses it.
3. A trigger that cannot run, raises, times out or answers nonsense fails the request with
   Cognito's ``UserLambdaValidationException``.

If moto changes ``create_jwt``, ``install`` refuses to run rather than issue tokens without the
trigger.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

from jwt_scoped.modes import DEFAULT_AUTH_FLOWS

MOTO_VERSIONS = ((5, 2), (5, 3))  # >=5.2,<5.3: what this hook was written for
_SIGNATURE = ["self", "client_id", "username", "token_use", "expires_in", "extra_data"]


class TriggerFailed(Exception):
    """The trigger failed the sign-in; the message is Cognito's."""


@dataclass(frozen=True)
class Group:
    name: str
    precedence: int | None
    role_arn: str | None


@dataclass(frozen=True)
class TokenRequest:
    """What Cognito knows when it issues the tokens of one sign-in or refresh."""

    region: str
    account: str
    user_pool_id: str
    user_pool_arn: str
    lambda_config: Mapping[str, Any]
    """The pool's ``LambdaConfig`` (``PreTokenGenerationConfig``: ``LambdaArn``,
    ``LambdaVersion``)."""
    client_id: str
    client_config: Mapping[str, Any]
    """The app client's settings (``IdTokenValidity``, ``TokenValidityUnits``, ...)."""
    username: str
    user_attributes: Mapping[str, str]
    groups: tuple[Group, ...]
    refresh: bool
    """Tokens from a refresh token rather than a sign-in."""
    context: Context | None = None
    """How the tokens were asked for, when not through the API (``issuing``)."""


@dataclass(frozen=True)
class Context:
    """How the tokens being issued were asked for: the token endpoint's grant."""

    trigger_source: str
    """``TokenGeneration_HostedAuth`` for a code, ``TokenGeneration_RefreshTokens`` ..."""
    scopes: tuple[str, ...]
    """The OAuth scopes granted: the access token's ``scope``."""
    nonce: str | None = None
    """The ``nonce`` the authorization request sent: the ID token carries it back."""
    auth_time: int | None = None
    """When the user signed in, if not now (a hosted-UI session's sign-in)."""


@contextlib.contextmanager
def issuing(context: Context) -> Iterator[None]:
    """Tokens moto creates in this thread, inside the block, were asked for as ``context`` says."""
    previous = getattr(_thread, "context", None)
    _thread.context = context
    try:
        yield
    finally:
        _thread.context = previous


class Issuance(Protocol):
    def claims(self, token_use: str, claims: dict) -> dict:
        """The claims of the ``token_use`` token (``id``/``access``)."""

    def expires_in(self, token_use: str) -> int | None:
        """Its lifetime in seconds, or ``None`` for moto's default."""


class TokenIssuer(Protocol):
    def issue(self, request: TokenRequest) -> Issuance:
        """Run the trigger for one issuance; raise ``TriggerFailed`` to fail the request."""


_issuers: dict[str, TokenIssuer] = {}
_seen_origins: dict[str, dict[str, int]] = {}
"""Pool -> the ``origin_jti`` of each sign-in seen -> its ``auth_time``: tokens refreshed from it
keep the sign-in's time (OpenID Connect Core 12.2), where moto would write the refresh's."""
_lock = threading.Lock()
_thread = threading.local()
_original = None
_original_initiate_auth = None
_original_respond = None
# SECRET_BLOCK of an open PASSWORD_VERIFIER challenge -> (moto's session, the challenge): each
# is answered once, then forgotten, whatever the answer.
_srp_challenges: dict[str, tuple[str, Any]] = {}


def moto_version_problem(version: str) -> str | None:
    """Why this hook cannot run with moto ``version``, or ``None``."""
    try:
        have = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        return f"cannot read moto version {version!r}"
    low, high = MOTO_VERSIONS
    if not low <= have < high:
        return (f"the sandbox's Cognito trigger hook (sandbox/moto_hook.py) was written for moto "
                f">={'.'.join(map(str, low))},<{'.'.join(map(str, high))}; found {version}. "
                "Install the version pinned in requirements-dev.txt")
    return None


def install() -> None:
    """Wrap moto's token creation, ``InitiateAuth`` and ``RespondToAuthChallenge`` (once per
    process)."""
    global _original, _original_initiate_auth, _original_respond
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool

    with _lock:
        if _original is not None:
            return
        problem = moto_version_problem(metadata.version("moto"))
        if problem is None and list(inspect.signature(CognitoIdpUserPool.create_jwt).parameters) \
                != _SIGNATURE:
            problem = ("moto's CognitoIdpUserPool.create_jwt changed its signature; the sandbox's "
                       "trigger hook (sandbox/moto_hook.py) must be updated")
        if problem:
            raise RuntimeError(problem)
        _original = CognitoIdpUserPool.create_jwt
        CognitoIdpUserPool.create_jwt = _create_jwt
        _original_initiate_auth = CognitoIdpBackend.initiate_auth
        CognitoIdpBackend.initiate_auth = _initiate_auth
        _original_respond = CognitoIdpBackend.respond_to_auth_challenge
        CognitoIdpBackend.respond_to_auth_challenge = _respond_to_auth_challenge


# The legacy names Cognito still takes for three auth flows (CreateUserPoolClient,
# "ExplicitAuthFlows"); with none given, a client allows modes.DEFAULT_AUTH_FLOWS.
LEGACY_AUTH_FLOWS = {"USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
                     "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                     "CUSTOM_AUTH_FLOW_ONLY": "ALLOW_CUSTOM_AUTH"}
# InitiateAuth's AuthFlow -> the ExplicitAuthFlows value that allows it.
FLOW_PERMISSIONS = {"USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
                    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
                    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
                    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
                    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH"}


def allowed_flows(explicit_auth_flows: object) -> frozenset[str]:
    """The ``ALLOW_*`` flows of a client's ``ExplicitAuthFlows``."""
    if not explicit_auth_flows:
        return frozenset(DEFAULT_AUTH_FLOWS)
    return frozenset(LEGACY_AUTH_FLOWS.get(f, f) for f in explicit_auth_flows)


def flow_problem(auth_flow: object, explicit_auth_flows: object) -> str | None:
    """Cognito's message when a client may not use ``auth_flow``, or ``None``."""
    needed = FLOW_PERMISSIONS.get(str(auth_flow))
    if needed is None or needed in allowed_flows(explicit_auth_flows):
        return None
    return f"{auth_flow} flow not enabled for this client"


def _adopted_pool(backend, client_id: str):
    """The adopted pool holding app client ``client_id``, or ``None``."""
    for pool in backend.user_pools.values():
        if client_id in pool.clients and pool.id in _issuers:
            return pool
    return None


def _initiate_auth(self, client_id, auth_flow, auth_parameters):
    pool = _adopted_pool(self, client_id)
    if pool is None:
        return _original_initiate_auth(self, client_id, auth_flow, auth_parameters)
    from moto.cognitoidp.exceptions import InvalidParameterException

    client = pool.clients[client_id]
    problem = flow_problem(auth_flow, client.extended_config.get("ExplicitAuthFlows"))
    if problem:
        raise InvalidParameterException(problem)
    answer = _original_initiate_auth(self, client_id, auth_flow, auth_parameters)
    if str(auth_flow) == "USER_SRP_AUTH" and answer.get("ChallengeName") == "PASSWORD_VERIFIER":
        answer = _srp_challenge(pool, answer, (auth_parameters or {}).get("SRP_A"))
    return answer


def _srp_challenge(pool, answer: dict, srp_a: object) -> dict:
    """moto's ``PASSWORD_VERIFIER`` answer, with a real challenge for ``SRP_A`` (``srp.py``).
    ``USER_ID_FOR_SRP`` is the username, as Cognito sends it (moto sends the ``sub``)."""
    from moto.cognitoidp.exceptions import InvalidParameterException

    from . import srp

    session = answer["Session"]
    username = answer["ChallengeParameters"]["USERNAME"]
    user = pool._get_user(username)
    try:
        challenge = srp.start(pool.id, user.username, user.password or "", str(srp_a or ""),
                              secret_block=session.encode())
    except srp.SrpError as error:
        raise InvalidParameterException(str(error)) from None
    with _lock:
        _srp_challenges[challenge.secret_block] = (session, challenge)
    return {**answer, "ChallengeParameters": challenge.parameters(user.username)}


def _respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
    if challenge_name != "PASSWORD_VERIFIER" or _adopted_pool(self, client_id) is None:
        return _original_respond(self, session, client_id, challenge_name, challenge_responses)
    from moto.cognitoidp.exceptions import NotAuthorizedError

    from . import srp

    responses = dict(challenge_responses or {})
    with _lock:
        found = _srp_challenges.pop(str(responses.get("PASSWORD_CLAIM_SECRET_BLOCK")), None)
    # Checked before moto's own branches (a new password, MFA), which check nothing: Cognito
    # checks the password first.
    if found is None or not srp.password_claim_ok(
            found[1], responses.get("PASSWORD_CLAIM_SECRET_BLOCK"), responses.get("TIMESTAMP"),
            responses.get("PASSWORD_CLAIM_SIGNATURE")):
        raise NotAuthorizedError("Incorrect username or password.")
    responses["PASSWORD_CLAIM_SECRET_BLOCK"] = found[0]  # moto finds its session by it
    return _original_respond(self, session, client_id, challenge_name, responses)


def adopt(user_pool_id: str, issuer: TokenIssuer) -> None:
    """Run ``issuer`` for every token of this pool."""
    with _lock:
        _issuers[user_pool_id] = issuer
        _seen_origins[user_pool_id] = {}


def release(user_pool_id: str) -> None:
    with _lock:
        _issuers.pop(user_pool_id, None)
        _seen_origins.pop(user_pool_id, None)


def _request(pool, client_id: str, username: str, refresh: bool) -> TokenRequest:
    user = pool._get_user(username)
    attributes = {a["Name"]: a["Value"] for a in user.attributes}
    attributes["cognito:user_status"] = getattr(user.status, "value", str(user.status))
    client = pool.clients.get(client_id)
    return TokenRequest(
        region=pool.region, account=pool.account_id, user_pool_id=pool.id,
        user_pool_arn=pool.arn, lambda_config=dict(pool.extended_config.get("LambdaConfig") or {}),
        client_id=client_id, client_config=dict(client.extended_config if client else {}),
        username=user.username, user_attributes=attributes,
        groups=tuple(Group(g.group_name, g.precedence, g.role_arn) for g in user.groups),
        refresh=refresh, context=getattr(_thread, "context", None))


def _create_jwt(self, client_id, username, token_use, expires_in=60 * 60, extra_data=None):
    issuer = _issuers.get(self.id)
    if issuer is None:
        return _original(self, client_id, username, token_use, expires_in, extra_data)
    claims = dict(extra_data or {})
    key = (self.id, client_id, username, claims.get("origin_jti"))
    pending = getattr(_thread, "pending", None)
    if pending is None or pending[0] != key or token_use in pending[1]:
        origin = str(claims.get("origin_jti"))
        context = getattr(_thread, "context", None)
        with _lock:
            seen = _seen_origins.setdefault(self.id, {})
            refresh = origin in seen
            if not refresh:
                seen[origin] = (context.auth_time if context is not None and context.auth_time
                                else int(time.time()))
            auth_time = seen[origin]
        try:
            issuance = issuer.issue(_request(self, client_id, username, refresh))
        except TriggerFailed as failure:
            _thread.pending = None
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError("UserLambdaValidationException", str(failure)) from None
        pending = (key, set(), issuance, auth_time)
        _thread.pending = pending
    pending[1].add(token_use)
    if len(pending[1]) == 2:  # both tokens of the issuance are out
        _thread.pending = None
    issuance = pending[2]
    lifetime = issuance.expires_in(token_use)
    return _original(self, client_id, username, token_use,
                     expires_in if lifetime is None else lifetime,
                     {**issuance.claims(token_use, claims), "auth_time": pending[3]})
