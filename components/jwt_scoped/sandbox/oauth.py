"""The OAuth 2.0 and OpenID Connect authorization server of one local user pool domain.

oauthlib does the protocol (RFC 6749 grants and errors, RFC 7636 PKCE, RFC 7009 revocation,
OpenID Connect's code flow): it is the framework-free server library that requests-oauthlib and
django-oauth-toolkit are built on, so the sandbox writes no OAuth parsing of its own. This module
says what Cognito says, from the pages of the Cognito developer guide "The redirect and
authorization endpoint", "The token issuer endpoint" and "The token revocation endpoint":

- ``CognitoValidator`` answers oauthlib's questions from the user pool (moto, through
  ``LocalCognito``): which clients exist and may use the OAuth endpoints (``AllowedOAuthFlows
  UserPoolClient``), their grants, callback URLs, scopes and secrets; where codes live
  (``Grants``: five minutes, one use, bound to the client, the redirect URI and the PKCE
  challenge).
- ``CognitoServer`` is oauthlib's endpoints narrowed to what Cognito serves: the code grant (and
  its refresh), PKCE with ``S256`` only, no new refresh token on refresh, the client credentials
  grant for confidential clients that allow it (only the scopes they may request; none asked:
  all of them), revocation of refresh tokens only and only for clients that enable it.
- Tokens are moto's, created when the user signs in (``LocalCognito.issue``), so the Pre Token
  Generation trigger runs then, once, with ``TokenGeneration_HostedAuth``, the scopes granted and
  the ``nonce``; a refresh runs it with ``TokenGeneration_RefreshTokens``.

oauthlib refuses request URIs that are not HTTPS (RFC 6749 section 3.1); the sandbox serves
plain HTTP on 127.0.0.1, so the URIs it hands to oauthlib say ``https://`` (``oauth_uri``).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.grant_types import (
    AuthorizationCodeGrant as OAuth2CodeGrant,
)
from oauthlib.oauth2.rfc6749.grant_types import (
    ClientCredentialsGrant,
    ImplicitGrant,
)
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.oauth2.rfc6749.tokens import BearerToken
from oauthlib.openid import RequestValidator
from oauthlib.openid.connect.core.grant_types import AuthorizationCodeGrant as OpenIdCodeGrant
from oauthlib.openid.connect.core.grant_types import RefreshTokenGrant
from oauthlib.openid.connect.core.grant_types.dispatchers import (
    AuthorizationCodeGrantDispatcher,
    AuthorizationTokenGrantDispatcher,
)

from jwt_scoped.modes import CLIENT_CREDENTIALS, CODE_GRANT, IMPLICIT_GRANT

from . import cognito_trigger as trigger
from . import moto_hook
from .cognito import AppClient, LocalCognito, Tokens

# "The response returns a one time use code that is valid for five minutes" (authorize endpoint).
CODE_SECONDS = 300
# Scopes that ask for ID-token claims: Cognito grants them only with openid (authorize endpoint,
# "scope": "The phone, email, and profile scopes can only be requested if openid is also
# requested").
OPENID = "openid"
OPENID_ONLY_SCOPES = frozenset({"phone", "email", "profile"})
# The scope of tokens signed in through the API (InitiateAuth): what a refresh at the token
# endpoint of such a session grants (the ID token comes with it, as from InitiateAuth).
API_SESSION_SCOPES = (OPENID, "aws.cognito.signin.user.admin")



def oauth_uri(path_and_query: str) -> str:
    """The request URI oauthlib is given: the sandbox's own path and query, over https."""
    return "https://localhost" + path_and_query


@dataclass
class Grant:
    """An authorization code's grant: who signed in, for which client, what to hand over."""

    client_id: str
    redirect_uri: str
    scopes: list[str]
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    tokens: Tokens
    expires_at: float


@dataclass
class Grants:
    """The codes waiting for their exchange and the scopes of the refresh tokens issued."""

    clock: Callable[[], float] = time.time
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_scopes: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def save(self, code: str, grant: Grant) -> None:
        with self.lock:
            now = self.clock()
            for stale in [c for c, g in self.codes.items() if g.expires_at <= now]:
                del self.codes[stale]
            self.codes[code] = grant

    def peek(self, code: object) -> Grant | None:
        with self.lock:
            return self.codes.get(code) if isinstance(code, str) else None

    def take(self, code: object) -> Grant | None:
        """The code's grant, once: the code is gone after this, whether it was valid or not."""
        with self.lock:
            grant = self.codes.pop(code, None) if isinstance(code, str) else None
        return grant if grant is not None and grant.expires_at > self.clock() else None


def basic_credentials(request) -> tuple[str, str] | None:
    """(client id, secret) of an ``Authorization: Basic`` header, or ``None``."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


class CognitoValidator(RequestValidator):
    """oauthlib's questions, answered as Cognito answers them for one user pool."""

    def __init__(self, cognito: LocalCognito, pool_id: str, grants: Grants):
        self.cognito = cognito
        self.pool_id = pool_id
        self.grants = grants

    def client(self, client_id: object) -> AppClient | None:
        """An app client of this pool that the OAuth endpoints serve."""
        client = self.cognito.app_client(self.pool_id, client_id)
        return client if client is not None and client.oauth else None

    # -- who the client is --

    def client_authentication_required(self, request, *args, **kwargs) -> bool:
        basic = basic_credentials(request)
        client = self.client(basic[0] if basic else request.client_id)
        return client is not None and client.secret is not None

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        basic = basic_credentials(request)
        client_id, secret = basic if basic else (request.client_id, request.client_secret)
        client = self.client(client_id)
        if client is None or client.secret is None or not isinstance(secret, str) or \
                not hmac.compare_digest(client.secret.encode(), secret.encode()):
            return False
        if basic and request.client_id not in (None, client.id):
            return False  # two different client ids in one request
        request.client, request.client_id = client, client.id
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        client = self.client(client_id)
        if client is None or client.secret is not None:
            return False
        request.client = client
        return True

    def validate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        client = self.client(client_id)
        if client is not None:
            request.client = client
        return client is not None

    # -- what it may ask for --

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs) -> bool:
        client = self.client(client_id)
        return client is not None and redirect_uri in client.callback_urls

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs) -> None:
        return None  # Cognito requires redirect_uri: a request without one gets the error page

    def validate_response_type(self, client_id, response_type, client, request, *args,
                               **kwargs) -> bool:
        client = self.client(client_id)
        grant = {"code": CODE_GRANT, "token": IMPLICIT_GRANT}.get(response_type)
        return client is not None and grant is not None and grant in client.flows

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        client = self.client(client_id)
        if client is None:
            return False
        asked = set(scopes)
        if request.grant_type == CLIENT_CREDENTIALS:
            return asked <= set(client.scopes)  # a machine client's custom scopes
        return asked <= set(client.scopes) and (OPENID in asked or not asked & OPENID_ONLY_SCOPES)

    def get_default_scopes(self, client_id, request, *args, **kwargs) -> list[str]:
        client = self.client(client_id)
        return list(client.scopes) if client is not None else []

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs) -> bool:
        client = self.client(client_id)
        if client is None:
            return False
        if grant_type == "authorization_code":
            return CODE_GRANT in client.flows
        if grant_type == CLIENT_CREDENTIALS:
            return CLIENT_CREDENTIALS in client.flows
        return grant_type == "refresh_token"

    def is_pkce_required(self, client_id, request) -> bool:
        return False  # Cognito takes PKCE when a client sends it, and does not demand it

    # -- codes --

    def save_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        self.grants.save(code["code"], Grant(
            client_id=client_id, redirect_uri=request.redirect_uri, scopes=list(request.scopes),
            username=request.user, nonce=request.nonce, code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method, tokens=request.tokens,
            expires_at=self.grants.clock() + CODE_SECONDS))

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request) -> list[str]:
        grant = self.grants.peek(code)
        return list(grant.scopes) if grant is not None else []

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        grant = self.grants.take(code)  # one use, even when two requests race for it
        if grant is None or grant.client_id != client_id:
            return False
        request.grant, request.user, request.scopes = grant, grant.username, list(grant.scopes)
        request.tokens = grant.tokens
        return True

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args,
                             **kwargs) -> bool:
        grant = getattr(request, "grant", None)
        if grant is None or redirect_uri != grant.redirect_uri:
            # RFC 6749 5.2: a redirect URI that is not the authorization request's is
            # invalid_grant (oauthlib would answer invalid_request).
            raise errors.InvalidGrantError(description="redirect_uri is not the one the code "
                                                       "was issued to", request=request)
        return True

    def get_code_challenge(self, code, request) -> str | None:
        grant = getattr(request, "grant", None)
        return grant.code_challenge if grant is not None else None

    def get_code_challenge_method(self, code, request) -> str | None:
        grant = getattr(request, "grant", None)
        return grant.code_challenge_method if grant is not None else None

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request) -> str | None:
        grant = getattr(request, "grant", None)
        return grant.nonce if grant is not None else None

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        """Nothing left to do: ``validate_code`` took the code."""

    # -- tokens --

    def save_bearer_token(self, token, request, *args, **kwargs) -> None:
        if token.get("refresh_token"):
            with self.grants.lock:
                self.grants.refresh_scopes[token["refresh_token"]] = list(request.scopes or ())

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        owner = self.cognito.refresh_owner(self.pool_id, refresh_token)
        if owner is None or owner[0] != client.id:
            return False
        if not self.cognito.user_can_sign_in(self.pool_id, owner[1]):
            return False  # a disabled or deleted user's sessions end (AdminDisableUser)
        request.user = owner[1]
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs) -> list[str]:
        with self.grants.lock:
            scopes = self.grants.refresh_scopes.get(refresh_token)
        return list(scopes) if scopes is not None else list(API_SESSION_SCOPES)

    def rotate_refresh_token(self, request) -> bool:
        return False

    def refresh_id_token(self, request) -> bool:
        return True

    def get_id_token(self, token, token_handler, request) -> str:
        return request.tokens.id_token

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs) -> None:
        owner = self.cognito.refresh_owner(self.pool_id, token)
        if owner is not None and owner[0] == request.client.id:
            self.cognito.revoke(self.pool_id, token)
        # Another client's token, or none at all: 200 and nothing revoked (RFC 7009 2.2).

    # -- OpenID Connect's prompt and hints: the hosted UI decides before oauthlib is asked --

    def validate_silent_authorization(self, request) -> bool:
        return True

    def validate_silent_login(self, request) -> bool:
        return True

    def validate_user_match(self, id_token_hint, scopes, claims, request) -> bool:
        return True


class S256Only(OAuth2CodeGrant):
    """The code grant with Cognito's one PKCE method: ``plain`` (and a challenge without a
    method, which RFC 7636 reads as plain) is ``invalid_request``."""

    _code_challenge_methods = {"S256": code_challenge_method_s256}


def challenge_with_method(request) -> dict:
    """A ``code_challenge_method`` without a ``code_challenge`` is ``invalid_request`` (the
    authorize endpoint: ``code_challenge`` is required with a method), not a code without PKCE."""
    if request.code_challenge_method is not None and not request.code_challenge:
        raise errors.InvalidRequestError(description="code_challenge_method without "
                                                     "code_challenge", request=request)
    return {}


class NoImplicitGrant(ImplicitGrant):
    """``response_type=token``: ``unauthorized_client`` for a client that does not allow the
    implicit grant (the authorize endpoint's answer), ``unsupported_response_type`` for one that
    does (the sandbox does not serve the implicit grant)."""

    def validate_authorization_request(self, request):
        super().validate_authorization_request(request)  # the client's own refusals first
        raise errors.UnsupportedResponseTypeError(
            description="the sandbox serves the code grant only", request=request)


class CognitoServer(AuthorizationEndpoint, TokenEndpoint, RevocationEndpoint):
    """oauthlib's authorization, token and revocation endpoints with Cognito's grants."""

    def __init__(self, validator: CognitoValidator, token_generator, refresh_token_generator,
                 expires_in, client_credentials: ClientCredentialsGrant | None = None):
        bearer = BearerToken(validator, token_generator, expires_in, refresh_token_generator)
        code = S256Only(validator, post_auth=[challenge_with_method])
        openid_code = OpenIdCodeGrant(validator)  # wraps its own code grant: narrow that one
        openid_code.proxy_target._code_challenge_methods = S256Only._code_challenge_methods
        openid_code.proxy_target.custom_validators.post_auth.append(challenge_with_method)
        AuthorizationEndpoint.__init__(
            self, default_response_type="code", default_token_type=bearer,
            response_types={"code": AuthorizationCodeGrantDispatcher(code, openid_code),
                            "token": NoImplicitGrant(validator)})
        grants = {"authorization_code": AuthorizationTokenGrantDispatcher(
                      validator, default_grant=code, oidc_grant=openid_code),
                  # Cognito gives no new refresh token on refresh.
                  "refresh_token": RefreshTokenGrant(validator, issue_new_refresh_tokens=False)}
        if client_credentials is not None:
            grants[CLIENT_CREDENTIALS] = client_credentials
        TokenEndpoint.__init__(self, default_grant_type="authorization_code",
                               default_token_type=bearer, grant_types=grants)
        RevocationEndpoint.__init__(self, validator, supported_token_types=("refresh_token",))
        self.validator = validator

    def validate_revocation_request(self, request) -> None:
        super().validate_revocation_request(request)
        if not request.client.revocation:
            raise errors.InvalidRequestError(
                description="Token revocation is not enabled for this app client",
                request=request)
        if request.token.count(".") == 2:  # a JWT: an ID or access token
            raise errors.UnsupportedTokenTypeError(request=request)


class TokenIssuer:
    """Mints the tokens of one pool's OAuth endpoints through ``LocalCognito``."""

    def __init__(self, cognito: LocalCognito, pool_id: str):
        self.cognito = cognito
        self.pool_id = pool_id

    def sign_in(self, client_id: str, username: str, scopes: list[str], nonce: str | None,
                auth_time: int) -> Tokens:
        """The tokens of a hosted-UI sign-in (``moto_hook.TriggerFailed`` if the trigger fails
        it); ``auth_time``: when the user gave the password (a session's sign-in)."""
        return self.cognito.issue(self.pool_id, client_id, username, moto_hook.Context(
            trigger.HOSTED_AUTH, tuple(scopes), nonce, auth_time))

    def tokens(self, request) -> Tokens:
        """The request's tokens: a code's (issued at sign-in), or new ones from a refresh token
        (oauthlib asks for their lifetime first, then the tokens)."""
        tokens = getattr(request, "tokens", None)
        if tokens is None and request.grant_type == CLIENT_CREDENTIALS:
            tokens = request.tokens = self.cognito.issue_client_token(
                self.pool_id, request.client, list(request.scopes))
        elif tokens is None and request.grant_type == "refresh_token":
            tokens = request.tokens = self.cognito.refresh(
                self.pool_id, request.refresh_token,
                moto_hook.Context(trigger.REFRESH, tuple(request.scopes)))
        return tokens

    def access_token(self, request) -> str:
        return self.tokens(request).access_token

    def refresh_token(self, request) -> str:
        return self.tokens(request).refresh_token

    def expires_in(self, request) -> int:
        return self.tokens(request).expires_in


def new_server(cognito: LocalCognito, pool_id: str, grants: Grants) -> tuple[CognitoServer,
                                                                              TokenIssuer]:
    """The OAuth server of one pool, and what mints its tokens."""
    issuer = TokenIssuer(cognito, pool_id)
    validator = CognitoValidator(cognito, pool_id, grants)
    server = CognitoServer(validator, issuer.access_token, issuer.refresh_token, issuer.expires_in,
                           client_credentials=ClientCredentialsGrant(validator))
    return server, issuer


def new_secret() -> str:
    """An unguessable token for a session or a form (256 bits)."""
    return secrets.token_urlsafe(32)

