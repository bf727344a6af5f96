"""An HTTP API JWT authorizer, checked the way API Gateway checks it.

Source: API Gateway developer guide, "Control access to HTTP APIs with JWT authorizers"
(section "Validating JWTs") and "Troubleshooting issues with HTTP API JWT authorizers":

1. The token comes from the identity source (``$request.header.Authorization``), bare or after
   ``Bearer ``. No token: 401.
2. Its header's ``kid`` must name a key of the issuer's JWKS (``<issuer>/.well-known/jwks.json``),
   its ``alg`` be RS256, its signature valid.
3. ``exp`` after now; ``nbf`` and ``iat`` before now; ``iss`` equal to the issuer;
   ``aud`` one of the audiences, or, only when there is no ``aud``, ``client_id``.
4. Then the route's scopes: at least one in the token's ``scope`` (or ``scp``) claim; none
   configured means any valid token. Else 403.

A refused token gets 401 ``{"message":"Unauthorized"}`` with ``www-authenticate: Bearer
scope="" error="invalid_token" error_description="..."``. AWS documents one description, "the
token does not have a valid audience"; the others follow its wording.

The signature is checked by PyJWT (``PyJWS``: the header, the algorithm allow-list, RS256) with
keys parsed once per issuer; the claims are read as strict JSON (no ``NaN`` or ``Infinity``, no
key twice) and judged by API Gateway's rules above, here.
"""

from __future__ import annotations

import json
import math
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from .apis import Authorizer

MISSING = "the {source} is missing"
MALFORMED = "the token is not a valid JWT"
UNKNOWN_KEY = "the token was not signed by a key of the issuer"
BAD_ALGORITHM = "the token's signing algorithm is not RS256"
BAD_SIGNATURE = "the token signature is invalid"
EXPIRED = "the token has expired"
NOT_YET_VALID = "the token is not valid yet"
BAD_ISSUER = "the token does not have a valid issuer"
BAD_AUDIENCE = "the token does not have a valid audience"  # AWS's own wording (troubleshooting)
NO_KEYS = "the issuer's signing keys could not be fetched"
ALGORITHM = "RS256"  # RSASSA-PKCS1-v1_5 with SHA-256, the only algorithm API Gateway takes
_JWS = jwt.PyJWS()


def challenge(description: str) -> str:
    """The ``www-authenticate`` value of a 401."""
    escaped = description.replace("\\", "\\\\").replace('"', '\\"')
    return f'Bearer scope="" error="invalid_token" error_description="{escaped}"'


def identity_source_name(source: str) -> str:
    """``$request.header.Authorization`` -> ``Authorization header``."""
    kind, _, name = source.removeprefix("$request.").partition(".")
    return f"{name} {'header' if kind == 'header' else 'query parameter'}" if name else source


def token_from(source: str, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The identity source's value (``headers`` keyed lower-case), without ``Bearer ``."""
    kind, _, name = source.removeprefix("$request.").partition(".")
    if kind == "header":
        value = headers.get(name.lower())
    elif kind == "querystring":
        value = query.get(name)
    else:
        value = None
    if not value:
        return None
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


@dataclass(frozen=True)
class Verdict:
    claims: dict[str, Any] | None
    """The token's claims when it is valid."""
    error: str | None = None
    """Why it is not (the ``error_description``)."""
    claim_text: dict[str, str] | None = None
    """The claims as the payload's ``authorizer.jwt.claims`` carries them (``claim_strings``)."""


KeyLookup = Callable[[str, str], Any]
"""``keys(issuer, kid)`` -> the public key, ``None`` if the issuer has no such key; raises
``OSError`` when the issuer's keys cannot be had."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a claim is given twice")
    return out


def strict_claims(payload: bytes) -> Any:
    """A token's claims as strict JSON: ``NaN``, ``Infinity`` and repeated names refused."""
    return json.loads(payload, parse_constant=_refuse_constant, object_pairs_hook=_no_repeats)


def signed_claims(token: str, issuer: str, keys: KeyLookup) -> Verdict:
    """Step 2: the token's claims when a key of ``issuer`` signed it with RS256 (and they are
    strict JSON), else why not. The same token always gets the same answer, so a caller may
    remember it (``Gateway`` does: PyJWT checks every character of a token, about 0.2 ms)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return Verdict(None, MALFORMED)
    if header.get("alg") != ALGORITHM:
        return Verdict(None, BAD_ALGORITHM)
    try:
        key = keys(issuer, str(header.get("kid")))
    except OSError:
        return Verdict(None, NO_KEYS)
    if key is None:
        return Verdict(None, UNKNOWN_KEY)
    try:
        decoded = _JWS.decode_complete(token, key=key, algorithms=[ALGORITHM])
    except jwt.InvalidSignatureError:
        return Verdict(None, BAD_SIGNATURE)
    except jwt.InvalidTokenError:
        return Verdict(None, MALFORMED)
    try:
        claims = strict_claims(decoded["payload"])
    except ValueError:  # also UnicodeDecodeError
        return Verdict(None, MALFORMED)
    if not isinstance(claims, dict):
        return Verdict(None, MALFORMED)
    return Verdict(claims, None, claim_strings(claims))


SignedClaims = Callable[[str, str], Verdict]
"""``signed(token, issuer)``: ``signed_claims`` with the keys bound, perhaps remembered."""


def verify(token: str, authorizer: Authorizer, keys: KeyLookup, now: float | None = None,
           signed: SignedClaims | None = None) -> Verdict:
    """Check a token against a JWT authorizer (steps 2 and 3)."""
    verdict = (signed(token, authorizer.issuer or "") if signed is not None
               else signed_claims(token, authorizer.issuer or "", keys))
    if verdict.claims is None:
        return verdict
    problem = claims_problem(verdict.claims, authorizer, time.time() if now is None else now)
    return Verdict(None, problem) if problem else verdict


def _time(value: Any) -> bool:
    """A NumericDate (RFC 7519): a finite JSON number."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def claims_problem(claims: Mapping[str, Any], authorizer: Authorizer, now: float) -> str | None:
    """Step 3 on verified claims. Pure."""
    exp = claims.get("exp")
    if not _time(exp) or exp <= now:
        return EXPIRED
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not _time(value) or value > now):
            return NOT_YET_VALID
    if claims.get("iss") != authorizer.issuer:
        return BAD_ISSUER
    audience = claims["aud"] if "aud" in claims else claims.get("client_id")
    audiences = audience if isinstance(audience, list) else [audience]
    if not any(isinstance(a, str) and a in authorizer.audiences for a in audiences):
        return BAD_AUDIENCE
    return None


def token_scopes(claims: Mapping[str, Any]) -> list[str]:
    """The token's scopes: ``scope`` (space-separated) or ``scp`` (a list or a string)."""
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def scopes_admit(route_scopes: Sequence[str], claims: Mapping[str, Any]) -> bool:
    """Step 4: no scopes on the route, or at least one of them in the token."""
    return not route_scopes or bool(set(route_scopes) & set(token_scopes(claims)))


def claim_strings(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as the payload's ``authorizer.jwt.claims`` carries them: every value a string,
    lists as ``[a b]``."""
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "[" + " ".join(text(v) for v in value) + "]"
        if isinstance(value, dict):
            return json.dumps(value, separators=(",", ":"))
        return str(value)

    return {k: text(v) for k, v in claims.items()}


def public_key(jwk: Mapping[str, Any]) -> Any:
    """An RSA key of a JWKS document, parsed by PyJWT."""
    return jwt.PyJWK(dict(jwk), algorithm=ALGORITHM).key


class JwksKeys:
    """Public keys of issuers, fetched once from ``jwks_url(issuer)``; ``None`` there means
    the issuer's keys cannot be had here (not a local pool, and there is no internet)."""

    def __init__(self, jwks_url: Callable[[str], str | None]):
        self.jwks_url = jwks_url
        self._keys: dict[str, dict[str, Any]] = {}

    def load(self, issuer: str) -> dict[str, Any]:
        found = self._keys.get(issuer)
        if found is None:
            url = self.jwks_url(issuer)
            if url is None:
                raise OSError(f"no local keys for issuer {issuer!r}")
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 -- local moto URL
                document = json.load(answer)
            found = {k["kid"]: public_key(k) for k in document.get("keys", [])
                     if k.get("kty") == "RSA" and "kid" in k}
            self._keys[issuer] = found
        return found

    def __call__(self, issuer: str, kid: str) -> Any:
        return self.load(issuer).get(kid)
