"""The server side of Cognito's ``USER_SRP_AUTH``: the SRP-6a password proof moto does not check.

moto 5.2 answers ``InitiateAuth(USER_SRP_AUTH)`` with a random ``SALT`` and ``SRP_B`` and accepts
any ``PASSWORD_CLAIM_SIGNATURE`` in ``RespondToAuthChallenge(PASSWORD_VERIFIER)``, so a wrong
password gets tokens. This module is what the sandbox's moto adapter calls instead: ``start``
answers a client's ``SRP_A`` with the challenge, ``password_claim_ok`` checks its answer. It is
pure (no moto, no I/O, no logging) and uses only the standard library.

The protocol is SRP-6a (RFC 2945, RFC 5054) as Cognito's clients implement it ("User pool
authentication flow", Amazon Cognito Developer Guide: ``USER_SRP_AUTH`` sends ``SRP_A``, Cognito
answers ``PASSWORD_VERIFIER`` with ``SALT``, ``SRP_B``, ``SECRET_BLOCK`` and ``USER_ID_FOR_SRP``,
the client answers with ``PASSWORD_CLAIM_SIGNATURE``, ``PASSWORD_CLAIM_SECRET_BLOCK`` and
``TIMESTAMP``). The guide does not give the byte encodings; the clients are the specification.
This module follows pycognito's ``pycognito/aws_srp.py`` (read for it; the successor of warrant's
``aws_srp.py``, it cites amazon-cognito-identity-js's ``AuthenticationHelper.js`` line by line,
the helper Amplify and the AWS mobile SDKs carry), and is tested against it:

- the group is RFC 5054's 3072-bit group (its prime is RFC 3526's 3072-bit MODP prime), g = 2;
- ``pad(n)``: the hex of n, a ``0`` prepended if its length is odd, ``00`` if its first digit is
  8-f, i.e. the bytes of the shortest two's-complement (Java ``BigInteger.toByteArray``) form.
  It is *not* RFC 5054's PAD to the length of N: N is hashed as 385 bytes, g as one;
- H = SHA-256; k = H(pad(N) | pad(g)); u = H(pad(A) | pad(B)), numbers as integers;
- x = H(pad(salt) | H(poolName | USER_ID_FOR_SRP | ":" | password)), with poolName the part of
  the user pool id after the ``_`` and the text UTF-8; v = g^x mod N;
- B = (k·v + g^b) mod N; S = (A·v^u)^b mod N (the client's (B - k·g^x)^(a + u·x));
- K = HKDF-SHA256(ikm=pad(S), salt=pad(u), info="Caldera Derived Key" | 0x01), 16 bytes (one
  HMAC of HKDF-Expand, truncated);
- ``PASSWORD_CLAIM_SIGNATURE`` = base64(HMAC-SHA256(K, poolName | USER_ID_FOR_SRP |
  base64decode(SECRET_BLOCK) | TIMESTAMP)), the timestamp in the clients' English, UTC form
  ``Tue Sep 5 08:03:09 UTC 2026`` (strftime's ``%a %b %-d %H:%M:%S UTC %Y``: the day without
  leading zero). Cognito refuses ``Sep 05`` and a wrong weekday, measured by
  ministackorg/ministack#1758; this module refuses any timestamp not in that exact form.

As RFC 5054 (section 2.5.4) requires, the server refuses an A that is 0 mod N; it also refuses
an A outside 1..N-1 (a client's A = g^a mod N always lies there) and one that is not plain hex.
It never picks a b with u = 0 or B = 0 mod N. Signatures and secret blocks are compared in
constant time (``hmac.compare_digest``).

What Cognito does that this does not:

- Cognito stores the salt and verifier when a password is set and never sees the password
  again; the sandbox (moto) keeps passwords in clear, so ``start`` derives a verifier from the
  password with a fresh random salt for every challenge. Clients cannot tell: they learn the
  salt only from the challenge.
- Cognito's ``SECRET_BLOCK`` is an opaque blob of its own; here it is whatever bytes the caller
  passes (by default 64 random bytes), base64-encoded, and the caller keeps the ``Challenge``
  server-side for the one answer (see ``start``).
- Whether Cognito bounds the ``TIMESTAMP``'s distance from its clock is not documented;
  ``password_claim_ok`` checks it only when given ``max_skew``.
- Device SRP (``DEVICE_SRP_AUTH``/``DEVICE_PASSWORD_VERIFIER``) is not implemented.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

# RFC 5054 appendix A, 3072-bit group (= RFC 3526 section 4, the 3072-bit MODP prime); the same
# N_HEX as AuthenticationHelper.js and pycognito.
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B"
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2

_INFO = b"Caldera Derived Key"
_SALT_BYTES = 16  # as the clients' device verifiers (pycognito generate_hash_device)
_B_BITS = 256  # RFC 5054 (2.5.3): b SHOULD be at least 256 bits
_SECRET_BLOCK_BYTES = 64
# A < N has at most 768 hex digits; allow leading zeros, refuse megabytes of them.
_MAX_A_HEX = 2 * len(N_HEX)
_HEX = re.compile(r"[0-9a-fA-F]+")
_SURROGATE = re.compile("[\ud800-\udfff]")

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIMESTAMP = re.compile(
    r"(?P<weekday>[A-Z][a-z]{2}) (?P<month>[A-Z][a-z]{2}) (?P<day>[1-9][0-9]?) "
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2}) UTC (?P<year>[0-9]{4})"
)


class SrpError(ValueError):
    """The client's SRP input cannot start a challenge (Cognito answers such requests with an
    error, not a challenge). The message never contains the password."""


def _pad(n: int) -> bytes:
    """``pad_hex`` of the clients, as bytes: big-endian, with a leading 0x00 if the top bit is set."""
    return n.to_bytes(n.bit_length() // 8 + 1, "big")


def _h(data: bytes) -> int:
    return int.from_bytes(hashlib.sha256(data).digest(), "big")


_K = _h(_pad(N) + _pad(G))


def _pool_name(pool_id: str) -> str:
    region, sep, name = pool_id.partition("_")
    if not (region and sep and name) or "_" in name:
        raise SrpError(f"not a user pool id: {pool_id!r}")
    return name


def _x(salt: int, pool_name: str, user_id_for_srp: str, password: str) -> int:
    inner = hashlib.sha256(f"{pool_name}{user_id_for_srp}:{password}".encode()).digest()
    return _h(_pad(salt) + inner)


def _hkdf(ikm: bytes, salt: bytes) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, _INFO + b"\x01", hashlib.sha256).digest()[:16]


def _parse_a(srp_a_hex: object) -> int:
    if not isinstance(srp_a_hex, str) or len(srp_a_hex) > _MAX_A_HEX or not _HEX.fullmatch(srp_a_hex):
        raise SrpError("SRP_A is not a hex number")
    a = int(srp_a_hex, 16)
    if a % N == 0:  # RFC 5054 section 2.5.4: the server MUST abort
        raise SrpError("SRP_A is 0 mod N")
    if a >= N:
        raise SrpError("SRP_A is not below N")
    return a


def cognito_timestamp(moment: datetime.datetime) -> str:
    """``moment`` (aware, or naive UTC) as the clients write ``TIMESTAMP``:
    ``Tue Sep 5 08:03:09 UTC 2026`` (English names, day without leading zero)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC)
    return (
        f"{_WEEKDAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} UTC {moment.year}"
    )


def parse_timestamp(timestamp: object) -> datetime.datetime | None:
    """The aware UTC time of a ``TIMESTAMP`` in exactly the clients' form, else ``None`` (also for
    a zero-padded day or a weekday that is not the date's)."""
    if not isinstance(timestamp, str):
        return None
    match = _TIMESTAMP.fullmatch(timestamp)
    if match is None or match["month"] not in _MONTHS:
        return None
    try:
        moment = datetime.datetime(
            int(match["year"]), _MONTHS.index(match["month"]) + 1, int(match["day"]),
            int(match["hour"]), int(match["minute"]), int(match["second"]), tzinfo=datetime.UTC,
        )
    except ValueError:
        return None
    return moment if cognito_timestamp(moment) == timestamp else None


@dataclass(frozen=True)
class Challenge:
    """One ``PASSWORD_VERIFIER`` challenge: what Cognito sends and what the server needs to check
    the answer. Keep it server-side, for one answer only; its repr shows no key material."""

    pool_id: str
    user_id_for_srp: str
    salt_hex: str
    """``SALT``: canonical ``pad_hex`` (even length, no superfluous zeros), so clients that parse it
    as a number (Amplify) and clients that hash the string (pycognito) agree."""
    srp_b_hex: str
    """``SRP_B``: lowercase hex, no padding, as the clients send ``SRP_A``."""
    secret_block: str
    """``SECRET_BLOCK``: base64 of the secret block's bytes."""
    _secret_block_bytes: bytes = field(repr=False)
    _key: bytes = field(repr=False)
    """K, the HKDF of the shared secret S. Neither b nor the verifier is kept."""

    def parameters(self, username: str) -> dict[str, str]:
        """The ``ChallengeParameters`` of the ``PASSWORD_VERIFIER`` answer to ``InitiateAuth``;
        ``username`` is the ``USERNAME`` Cognito echoes (the user's username)."""
        return {
            "SALT": self.salt_hex,
            "SRP_B": self.srp_b_hex,
            "SECRET_BLOCK": self.secret_block,
            "USERNAME": username,
            "USER_ID_FOR_SRP": self.user_id_for_srp,
        }

    def _signature(self, timestamp: str) -> str:
        """The ``PASSWORD_CLAIM_SIGNATURE`` a client that knows the password sends with ``timestamp``."""
        message = (
            _pool_name(self.pool_id).encode()
            + self.user_id_for_srp.encode()
            + self._secret_block_bytes
            + timestamp.encode()
        )
        return base64.standard_b64encode(hmac.new(self._key, message, hashlib.sha256).digest()).decode()


def start(
    pool_id: str,
    user_id_for_srp: str,
    password: str,
    srp_a_hex: str,
    *,
    secret_block: bytes | None = None,
) -> Challenge:
    """The challenge answering a client's ``SRP_A`` for the user whose password is ``password``.

    ``user_id_for_srp`` is the ``USER_ID_FOR_SRP`` the challenge names (the client hashes it into
    x and signs it); ``secret_block`` the bytes to send as ``SECRET_BLOCK`` (default: random).
    Raises ``SrpError`` for an ``SRP_A`` that is not hex, is 0 mod N or not below N, a pool id
    without ``region_`` prefix, or text UTF-8 cannot encode (lone surrogates). Each call picks a
    new salt and b.

    The caller keeps the returned ``Challenge`` server-side, found again from the answer (e.g. by
    its ``secret_block``, which the client returns as ``PASSWORD_CLAIM_SECRET_BLOCK``), and forgets
    it after one ``password_claim_ok``, whatever the outcome, so an answer cannot be replayed.
    """
    pool_name = _pool_name(pool_id)
    a = _parse_a(srp_a_hex)
    # Checked rather than caught: a UnicodeEncodeError would carry the password.
    if _SURROGATE.search(user_id_for_srp) or _SURROGATE.search(password):
        raise SrpError("the user id or the password is not encodable as UTF-8")
    if secret_block is None:
        secret_block = secrets.token_bytes(_SECRET_BLOCK_BYTES)
    salt = 0
    while salt == 0:
        salt = secrets.randbits(8 * _SALT_BYTES)
    v = pow(G, _x(salt, pool_name, user_id_for_srp, password), N)
    while True:
        b = secrets.randbits(_B_BITS)
        if b == 0:
            continue
        big_b = (_K * v + pow(G, b, N)) % N
        u = _h(_pad(a) + _pad(big_b))
        if big_b != 0 and u != 0:
            break
    s = pow(a * pow(v, u, N), b, N)
    return Challenge(
        pool_id=pool_id,
        user_id_for_srp=user_id_for_srp,
        salt_hex=_pad(salt).hex(),
        srp_b_hex=f"{big_b:x}",
        secret_block=base64.standard_b64encode(secret_block).decode("ascii"),
        _secret_block_bytes=bytes(secret_block),
        _key=_hkdf(_pad(s), _pad(u)),
    )


def _same(expected: str, given: object) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def password_claim_ok(
    challenge: Challenge,
    secret_block: object,
    timestamp: object,
    signature_b64: object,
    *,
    now: datetime.datetime | None = None,
    max_skew: datetime.timedelta | None = None,
) -> bool:
    """Whether a ``PASSWORD_VERIFIER`` answer (``PASSWORD_CLAIM_SECRET_BLOCK``, ``TIMESTAMP``,
    ``PASSWORD_CLAIM_SIGNATURE``) proves the password of ``challenge``'s user.

    The secret block must be the challenge's, the timestamp in the clients' exact form (and, with
    ``max_skew``, at most that far from ``now``, default the current time), the signature the one
    the key of this challenge gives. Never raises for a malformed answer: it is ``False``.
    """
    if not isinstance(timestamp, str):
        return False
    moment = parse_timestamp(timestamp)
    if moment is None:
        return False
    if max_skew is not None:
        current = now if now is not None else datetime.datetime.now(datetime.UTC)
        if current.tzinfo is None:
            current = current.replace(tzinfo=datetime.UTC)
        if abs(current - moment) > max_skew:
            return False
    block_ok = _same(challenge.secret_block, secret_block)
    signature_ok = _same(challenge._signature(timestamp), signature_b64)
    return block_ok and signature_ok
