"""How big a caller's token, and so its ``Authorization`` header, will be. Pure.

API Gateway refuses a request whose request line and header values together exceed
``jwt_scoped.rules.MAX_REQUEST_LINE_AND_HEADERS_BYTES`` (10,240 bytes, hard). Every scope a user's
groups grant makes the token longer, so a user in many groups, or in groups with long names, can
end up unable to call anything.

The estimate rebuilds the token the way Cognito writes it, with values of realistic length where
the real ones are unknown before deploy, and measures it:

- JOSE header ``{"kid":"<44 chars>","alg":"RS256"}``: Cognito's key ids are 44-character base64.
- Payload, compact JSON, the claims Cognito puts in a token for a user created by this program (no
  e-mail or phone attributes, groups without IAM roles):
  ID token: ``sub``, ``cognito:groups``, ``iss``, ``cognito:username``, ``origin_jti``, ``aud``,
  ``event_id``, ``token_use``, ``auth_time``, ``exp``, ``iat``, ``jti``, and the trigger's ``scope``.
  Access token: ``sub``, ``cognito:groups``, ``iss``, ``version``, ``client_id``, ``origin_jti``,
  ``event_id``, ``token_use``, ``scope`` (``aws.cognito.signin.user.admin`` plus the trigger's
  scopes), ``auth_time``, ``exp``, ``iat``, ``jti``, ``username``.
  Client credentials access token (a machine client's): ``sub`` (the client id), ``token_use``,
  ``scope`` (the scopes granted, as written), ``auth_time``, ``iss``, ``exp``, ``iat``,
  ``version``, ``jti``, ``client_id``; no user, so no username, groups or e-mail.
  UUIDs are 36 characters, times 10 digits, the app client id 26 characters (Cognito's generated
  ids), the pool id ``<region>_<9 chars>`` with a 14-character region (the longest in use).
- Signature: RS256 with a 2048-bit key, 256 bytes.
- Each part base64url-encoded without padding, joined by dots, after ``Bearer ``.

So the group names count twice (``cognito:groups`` and ``scope``) and each scope adds the client id
once; a machine's scopes count once each. The result is within a few bytes of a real token of
that caller; claims this program does not create (e-mail, custom attributes, ``cognito:roles``,
claims a trigger adds to a machine's token) would add to it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from jwt_scoped.scope_format import scope_name

BEARER = "Bearer "
KID_CHARS = 44
SIGNATURE_BYTES = 256  # RS256, 2048-bit RSA
CLIENT_ID_CHARS = 26
REGION_CHARS = 14
UUID = "00000000-0000-0000-0000-000000000000"
EPOCH = 1_700_000_000
ACCESS_TOKEN_BASE_SCOPE = "aws.cognito.signin.user.admin"  # what USER_PASSWORD_AUTH grants


def base64url_length(byte_count: int) -> int:
    """Length of unpadded base64url text for ``byte_count`` bytes."""
    return (4 * byte_count + 2) // 3


def estimated_claims(token_use: str, username: str, groups: Sequence[str]) -> dict:
    """The claims of the token that carries the scopes, with stand-in values of real length."""
    client_id = "c" * CLIENT_ID_CHARS
    issuer = _issuer()
    scopes = [scope_name(g, client_id) for g in groups]
    common = {"sub": UUID, "cognito:groups": list(groups), "iss": issuer}
    if token_use == "access":
        claims = {**common, "version": 2, "client_id": client_id, "origin_jti": UUID,
                  "event_id": UUID, "token_use": "access",
                  "scope": " ".join([ACCESS_TOKEN_BASE_SCOPE, *scopes])}
        claims.update({"auth_time": EPOCH, "exp": EPOCH, "iat": EPOCH, "jti": UUID,
                       "username": username})
        return claims
    claims = {**common, "cognito:username": username, "origin_jti": UUID, "aud": client_id,
              "event_id": UUID, "token_use": "id", "auth_time": EPOCH, "exp": EPOCH, "iat": EPOCH,
              "jti": UUID}
    if scopes:  # the trigger writes no scope claim for a user without groups
        claims["scope"] = " ".join(scopes)
    return claims


def token_length(claims: dict) -> int:
    """Characters of the signed JWT ``header.payload.signature`` carrying ``claims``."""
    header = json.dumps({"kid": "k" * KID_CHARS, "alg": "RS256"}, separators=(",", ":"))
    payload = json.dumps(claims, separators=(",", ":"))
    return (base64url_length(len(header.encode())) + 1 + base64url_length(len(payload.encode()))
            + 1 + base64url_length(SIGNATURE_BYTES))


def authorization_header_bytes(token_use: str, username: str, groups: Sequence[str]) -> int:
    """Estimated bytes of the ``Authorization`` header value ``Bearer <token>`` for this user."""
    return len(BEARER) + token_length(estimated_claims(token_use, username, groups))


def _issuer() -> str:
    return f"https://cognito-idp.{'r' * REGION_CHARS}.amazonaws.com/{'r' * REGION_CHARS}_{'p' * 9}"


def machine_claims(scopes: Sequence[str]) -> dict:
    """The claims of a client credentials access token granting ``scopes``, with stand-in values
    of real length."""
    client_id = "c" * CLIENT_ID_CHARS
    return {"sub": client_id, "token_use": "access", "scope": " ".join(scopes),
            "auth_time": EPOCH, "iss": _issuer(), "exp": EPOCH, "iat": EPOCH, "version": 2,
            "jti": UUID, "client_id": client_id}


def machine_header_bytes(scopes: Sequence[str]) -> int:
    """Estimated bytes of a machine client's ``Authorization`` header value ``Bearer <token>``."""
    return len(BEARER) + token_length(machine_claims(scopes))
