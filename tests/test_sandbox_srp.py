"""The sandbox's SRP server (``jwt_scoped.sandbox.srp``) against real clients: pycognito's
``AWSSRP`` (what warrant and the AWS SDKs' ``AuthenticationHelper`` compute, byte for byte) and a
re-derivation of the protocol written here from the formulas, with pinned values, so that a drift
in the module's formulas or encodings fails here even if it fails nowhere else. Pure: no moto, no
network."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pycognito.aws_srp import AWSSRP

from jwt_scoped.sandbox import srp

# pycognito's process_challenge reads datetime.utcnow(), deprecated from Python 3.12.
pytestmark = pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")

POOL_ID = "eu-west-1_Ab3dEfGh1"
POOL_NAME = "Ab3dEfGh1"
USER_ID = "alice"
PASSWORD = "Correct-Horse-9"

# RFC 3526 section 4, written out again here rather than read from srp.py.
RFC3526_3072 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
# Pinned (computed with pycognito 2024.5.1's hex_hash/pad_hex): k = H(pad(N) | pad(g)), and x for
# the salt below, POOL_NAME, USER_ID and PASSWORD.
K_MULTIPLIER_HEX = "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
PINNED_SALT_HEX = "009d3e6f0a81b2c4d5e6f708192a3b4c5d"
PINNED_X_HEX = "4088b3b6cb3c0071eb7b217988bcee81d098225749b19a3dae5a80048a4c9b01"


# --- pycognito, the real client ------------------------------------------------------------------


def pycognito_client(password: str = PASSWORD) -> AWSSRP:
    """AWSSRP without AWS: a non-None ``client`` keeps it from creating a boto3 client; only
    ``get_auth_params`` (SRP_A) and ``process_challenge`` (the signature) are used."""
    return AWSSRP(username=USER_ID, password=password, pool_id=POOL_ID, client_id="app-client",
                  client=object())


def pycognito_answer(client: AWSSRP, parameters: dict[str, str]) -> dict[str, str]:
    return client.process_challenge(parameters, {"USERNAME": USER_ID})


def sign_in(password: str = PASSWORD, *, server_password: str = PASSWORD, user_id: str = USER_ID):
    """One round: pycognito sends SRP_A, the server challenges, pycognito answers."""
    client = pycognito_client(password)
    challenge = srp.start(POOL_ID, user_id, server_password, client.get_auth_params()["SRP_A"])
    return challenge, pycognito_answer(client, challenge.parameters(USER_ID))


def verifies(challenge: srp.Challenge, answer: dict[str, str], **kwargs) -> bool:
    return srp.password_claim_ok(challenge, answer["PASSWORD_CLAIM_SECRET_BLOCK"], answer["TIMESTAMP"],
                                 answer["PASSWORD_CLAIM_SIGNATURE"], **kwargs)


def test_the_right_password_passes():
    challenge, answer = sign_in()
    assert verifies(challenge, answer)


def test_unicode_username_and_password_pass():
    secret = "pässwörd ✓ 密码"
    client = AWSSRP(username="zoë", password=secret, pool_id=POOL_ID, client_id="c", client=object())
    challenge = srp.start(POOL_ID, "zoë", secret, client.get_auth_params()["SRP_A"])
    answer = client.process_challenge(challenge.parameters("zoë"), {"USERNAME": "zoë"})
    assert verifies(challenge, answer)


def test_a_wrong_password_fails():
    challenge, answer = sign_in("Correct-Horse-8")
    assert not verifies(challenge, answer)
    challenge, answer = sign_in(PASSWORD.lower())
    assert not verifies(challenge, answer)


def test_another_users_id_fails():
    # The client hashes and signs the USER_ID_FOR_SRP it is given: alice's challenge answered as
    # bob (same password) is refused.
    client = pycognito_client()
    challenge = srp.start(POOL_ID, USER_ID, PASSWORD, client.get_auth_params()["SRP_A"])
    as_bob = dict(challenge.parameters(USER_ID), USER_ID_FOR_SRP="bob")
    assert not verifies(challenge, pycognito_answer(client, as_bob))
    # So is alice's honest answer presented for bob's challenge (same A, same password).
    for_bob = srp.start(POOL_ID, "bob", PASSWORD, client.get_auth_params()["SRP_A"])
    honest = pycognito_answer(client, challenge.parameters(USER_ID))
    assert not verifies(for_bob, honest)
    assert verifies(challenge, honest)


def test_another_pool_fails():
    client = pycognito_client()
    challenge = srp.start("eu-west-1_Other1234", USER_ID, PASSWORD, client.get_auth_params()["SRP_A"])
    assert not verifies(challenge, pycognito_answer(client, challenge.parameters(USER_ID)))


def test_a_tampered_timestamp_fails():
    challenge, answer = sign_in()
    moment = srp.parse_timestamp(answer["TIMESTAMP"])
    assert moment is not None
    for delta in (datetime.timedelta(seconds=1), datetime.timedelta(days=-1)):
        assert not verifies(challenge, dict(answer, TIMESTAMP=srp.cognito_timestamp(moment + delta)))
    assert not verifies(challenge, dict(answer, TIMESTAMP=answer["TIMESTAMP"] + " "))
    assert not verifies(challenge, dict(answer, TIMESTAMP=""))
    assert verifies(challenge, answer)


def test_a_tampered_secret_block_fails():
    client = pycognito_client()
    challenge = srp.start(POOL_ID, USER_ID, PASSWORD, client.get_auth_params()["SRP_A"])
    other_block = base64.standard_b64encode(secrets.token_bytes(64)).decode()
    signed_other = pycognito_answer(client, dict(challenge.parameters(USER_ID), SECRET_BLOCK=other_block))
    # Signed over another block and sent with it: not this challenge's block.
    assert not verifies(challenge, signed_other)
    # Signed over another block, sent with this challenge's: the signature does not match.
    assert not verifies(challenge, dict(signed_other, PASSWORD_CLAIM_SECRET_BLOCK=challenge.secret_block))
    honest = pycognito_answer(client, challenge.parameters(USER_ID))
    assert not verifies(challenge, dict(honest, PASSWORD_CLAIM_SECRET_BLOCK=other_block))
    assert not verifies(challenge, dict(honest, PASSWORD_CLAIM_SECRET_BLOCK=challenge.secret_block[:-4]))
    assert verifies(challenge, honest)


def test_a_tampered_signature_fails():
    challenge, answer = sign_in()
    signature = answer["PASSWORD_CLAIM_SIGNATURE"]
    raw = bytearray(base64.standard_b64decode(signature))
    raw[0] ^= 1
    flipped = base64.standard_b64encode(bytes(raw)).decode()
    for bad in (flipped, signature[:-2], signature.rstrip("="), "", "not base64 ✗", None, 42):
        assert not verifies(challenge, dict(answer, PASSWORD_CLAIM_SIGNATURE=bad))
    assert verifies(challenge, answer)


def test_a_and_n_multiples_are_refused():
    for a in (0, RFC3526_3072, 2 * RFC3526_3072, RFC3526_3072 + 1):
        with pytest.raises(srp.SrpError):
            srp.start(POOL_ID, USER_ID, PASSWORD, f"{a:x}")
    with pytest.raises(srp.SrpError):
        srp.start(POOL_ID, USER_ID, PASSWORD, "0" * 768)


@pytest.mark.parametrize("srp_a", ["", "0x1f", " 1f", "1f\n", "1_f", "-1f", "g1", "0" * 2000 + "1f"])
def test_an_srp_a_that_is_not_plain_hex_is_refused(srp_a):
    with pytest.raises(srp.SrpError) as raised:
        srp.start(POOL_ID, USER_ID, PASSWORD, srp_a)
    assert PASSWORD not in str(raised.value)


def test_a_pool_id_without_a_pool_name_is_refused():
    a_hex = pycognito_client().get_auth_params()["SRP_A"]
    for pool_id in ("Ab3dEfGh1", "eu-west-1_", "_Ab3dEfGh1"):
        with pytest.raises(srp.SrpError):
            srp.start(pool_id, USER_ID, PASSWORD, a_hex)


def test_text_utf8_cannot_encode_is_refused_without_showing_the_password():
    a_hex = pycognito_client().get_auth_params()["SRP_A"]
    with pytest.raises(srp.SrpError) as raised:
        srp.start(POOL_ID, USER_ID, "secret\ud800", a_hex)
    assert raised.value.__context__ is None and "secret" not in str(raised.value)
    with pytest.raises(srp.SrpError):
        srp.start(POOL_ID, "\udfffalice", PASSWORD, a_hex)


def test_two_starts_differ():
    a_hex = pycognito_client().get_auth_params()["SRP_A"]
    first = srp.start(POOL_ID, USER_ID, PASSWORD, a_hex)
    second = srp.start(POOL_ID, USER_ID, PASSWORD, a_hex)
    assert first.srp_b_hex != second.srp_b_hex
    assert first.salt_hex != second.salt_hex
    assert first.secret_block != second.secret_block


def test_challenge_parameters_and_what_they_do_not_show():
    client = pycognito_client()
    challenge = srp.start(POOL_ID, "4b8e1a52-uuid-of-alice", PASSWORD, client.get_auth_params()["SRP_A"],
                          secret_block=b"session-42")
    parameters = challenge.parameters("alice")
    assert parameters == {
        "SALT": challenge.salt_hex,
        "SRP_B": challenge.srp_b_hex,
        "SECRET_BLOCK": base64.standard_b64encode(b"session-42").decode(),
        "USERNAME": "alice",
        "USER_ID_FOR_SRP": "4b8e1a52-uuid-of-alice",
    }
    # SALT is canonical pad_hex: clients that re-encode the number agree with those that don't.
    salt = int(challenge.salt_hex, 16)
    canonical = f"{salt:x}"
    canonical = "0" + canonical if len(canonical) % 2 else canonical
    canonical = "00" + canonical if canonical[0] in "89abcdef" else canonical
    assert challenge.salt_hex == canonical
    assert 0 < int(challenge.srp_b_hex, 16) < RFC3526_3072
    assert challenge.srp_b_hex == f"{int(challenge.srp_b_hex, 16):x}"
    shown = repr(challenge) + repr(parameters)
    assert PASSWORD not in shown and "_key" not in shown and "session-42" not in shown
    answer = client.process_challenge(parameters, {"USERNAME": "alice"})
    assert verifies(challenge, answer)


def test_max_skew_bounds_the_timestamp():
    challenge, answer = sign_in()
    sent = srp.parse_timestamp(answer["TIMESTAMP"])
    five = datetime.timedelta(minutes=5)
    assert verifies(challenge, answer, max_skew=five)
    assert verifies(challenge, answer, max_skew=five, now=sent + datetime.timedelta(minutes=4))
    assert not verifies(challenge, answer, max_skew=five, now=sent + datetime.timedelta(minutes=6))
    assert not verifies(challenge, answer, max_skew=five, now=sent - datetime.timedelta(minutes=6))
    naive_utc = (sent + datetime.timedelta(minutes=6)).replace(tzinfo=None)
    assert not verifies(challenge, answer, max_skew=five, now=naive_utc)


@pytest.mark.parametrize("moment", [
    datetime.datetime(2026, 9, 5, 8, 3, 9),
    datetime.datetime(2024, 2, 29, 23, 59, 59),
    datetime.datetime(2025, 12, 25, 0, 0, 0),
    datetime.datetime(2027, 1, 1, 12, 30, 1),
])
def test_timestamps_are_written_and_read_as_the_clients_write_them(moment):
    written = AWSSRP.get_cognito_formatted_timestamp(moment)
    assert srp.cognito_timestamp(moment) == written
    assert srp.cognito_timestamp(moment.replace(tzinfo=datetime.UTC)) == written
    assert srp.parse_timestamp(written) == moment.replace(tzinfo=datetime.UTC)


@pytest.mark.parametrize("timestamp", [
    "Sat Sep 05 08:03:09 UTC 2026",  # zero-padded day (refused by Cognito)
    "Fri Sep 5 08:03:09 UTC 2026",  # wrong weekday (refused by Cognito)
    "Sat Sep 5 8:03:09 UTC 2026",
    "Sat Sep 5 08:03:09 GMT 2026",
    "sat sep 5 08:03:09 UTC 2026",
    "Sat September 5 08:03:09 UTC 2026",
    "Tue Feb 30 08:03:09 UTC 2026",
    "Sat Sep 5 24:03:09 UTC 2026",
    "Sat Sep 5 08:03:09 UTC 2026 ",
    "Sat Sep  5 08:03:09 UTC 2026",
])
def test_timestamps_not_in_the_clients_form_are_refused(timestamp):
    assert srp.parse_timestamp(timestamp) is None
    # Even signed correctly (by the re-derived client below), such a timestamp fails.
    client = OwnClient()
    challenge = srp.start(POOL_ID, USER_ID, PASSWORD, client.srp_a_hex)
    answer = client.answer(challenge.parameters(USER_ID), PASSWORD, timestamp)
    assert not verifies(challenge, answer)
    assert verifies(challenge, client.answer(challenge.parameters(USER_ID), PASSWORD,
                                             "Sat Sep 5 08:03:09 UTC 2026"))


# --- the protocol re-derived here, from the formulas ---------------------------------------------


def padded(n: int) -> bytes:
    """The clients' pad_hex, as hex text: even length, 00 before a high first digit."""
    text = format(n, "x")
    if len(text) % 2:
        text = "0" + text
    elif text[0] in "89abcdef":
        text = "00" + text
    return bytes.fromhex(text)


def sha(data: bytes) -> int:
    return int(hashlib.sha256(data).hexdigest(), 16)


def k_multiplier() -> int:
    return sha(padded(RFC3526_3072) + padded(2))


def x_value(salt_hex: str, user_id: str, password: str, pool_id: str = POOL_ID) -> int:
    pool_name = pool_id.split("_")[1]
    identity = hashlib.sha256(pool_name.encode() + user_id.encode() + b":" + password.encode()).digest()
    return sha(padded(int(salt_hex, 16)) + identity)


class OwnClient:
    """A Cognito SRP client written from the formulas (cryptography's HKDF), not from srp.py."""

    def __init__(self):
        self.a = secrets.randbits(256) | 1 << 255  # RFC 5054's least, and fast
        self.big_a = pow(2, self.a, RFC3526_3072)
        self.srp_a_hex = format(self.big_a, "x")

    def key(self, parameters: dict[str, str], password: str, x: int | None = None) -> bytes:
        big_n = RFC3526_3072
        big_b = int(parameters["SRP_B"], 16)
        u = sha(padded(self.big_a) + padded(big_b))
        if x is None:
            x = x_value(parameters["SALT"], parameters["USER_ID_FOR_SRP"], password)
        s = pow((big_b - k_multiplier() * pow(2, x, big_n)) % big_n, self.a + u * x, big_n)
        hkdf = HKDF(algorithm=hashes.SHA256(), length=16, salt=padded(u), info=b"Caldera Derived Key")
        return hkdf.derive(padded(s))

    def answer(self, parameters: dict[str, str], password: str, timestamp: str, *,
               key: bytes | None = None) -> dict[str, str]:
        key = key if key is not None else self.key(parameters, password)
        message = (POOL_NAME.encode() + parameters["USER_ID_FOR_SRP"].encode()
                   + base64.b64decode(parameters["SECRET_BLOCK"]) + timestamp.encode())
        signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        return {"TIMESTAMP": timestamp, "USERNAME": parameters["USERNAME"],
                "PASSWORD_CLAIM_SECRET_BLOCK": parameters["SECRET_BLOCK"],
                "PASSWORD_CLAIM_SIGNATURE": signature}


def test_the_re_derivation_matches_the_pinned_values():
    assert format(k_multiplier(), "064x") == K_MULTIPLIER_HEX
    assert format(x_value(PINNED_SALT_HEX, USER_ID, PASSWORD), "064x") == PINNED_X_HEX
    # pad_hex rules: 00 before a high digit, 0 before an odd length, nothing otherwise.
    assert padded(0x80) == b"\x00\x80" and padded(0x7F) == b"\x7f" and padded(0x180) == b"\x01\x80"
    assert len(padded(RFC3526_3072)) == 385


def test_the_re_derived_client_passes_and_the_key_is_the_formulas():
    client = OwnClient()
    challenge = srp.start(POOL_ID, USER_ID, PASSWORD, client.srp_a_hex)
    parameters = challenge.parameters(USER_ID)
    now = srp.cognito_timestamp(datetime.datetime.now(datetime.UTC))
    assert verifies(challenge, client.answer(parameters, PASSWORD, now))

    def identity(text: str) -> bytes:
        return hashlib.sha256(text.encode()).digest()

    # Each variation of x the clients would not compute fails.
    salt = padded(int(parameters["SALT"], 16))
    wrong_x = {
        "full pool id": sha(salt + identity(f"{POOL_ID}{USER_ID}:{PASSWORD}")),
        "no pool name": sha(salt + identity(f"{USER_ID}:{PASSWORD}")),
        "no colon": sha(salt + identity(f"{POOL_NAME}{USER_ID}{PASSWORD}")),
        "no salt": sha(identity(f"{POOL_NAME}{USER_ID}:{PASSWORD}")),
    }
    for name, x in wrong_x.items():
        key = client.key(parameters, PASSWORD, x)
        assert not verifies(challenge, client.answer(parameters, PASSWORD, now, key=key)), name
    # The key is 16 bytes of HKDF over pad(S), pad(u) the salt: 32 bytes, another info or H(S) fail.
    big_b = int(parameters["SRP_B"], 16)
    u = sha(padded(client.big_a) + padded(big_b))
    x = x_value(parameters["SALT"], USER_ID, PASSWORD)
    big_n = RFC3526_3072
    s = pow((big_b - k_multiplier() * pow(2, x, big_n)) % big_n, client.a + u * x, big_n)

    def hkdf(length: int, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=padded(u), info=info).derive(padded(s))

    right = hkdf(16, b"Caldera Derived Key")
    assert right == client.key(parameters, PASSWORD)
    wrong_keys = (hkdf(32, b"Caldera Derived Key"), hkdf(16, b"Caldera"),
                  hashlib.sha256(padded(s)).digest()[:16])
    for key in wrong_keys:
        assert not verifies(challenge, client.answer(parameters, PASSWORD, now, key=key))
    assert verifies(challenge, client.answer(parameters, PASSWORD, now, key=right))


def test_the_padding_edges_all_pass():
    """pad() adds 00 before a high first digit: salts, As and Bs with and without it all work
    (each is random, so this tries until it has seen every case)."""
    seen = set()
    now = srp.cognito_timestamp(datetime.datetime.now(datetime.UTC))
    for _ in range(200):
        client = OwnClient()
        challenge = srp.start(POOL_ID, USER_ID, PASSWORD, client.srp_a_hex)
        parameters = challenge.parameters(USER_ID)
        assert verifies(challenge, client.answer(parameters, PASSWORD, now))
        high = {name: padded(int(value, 16))[0] == 0 for name, value in
                (("salt", challenge.salt_hex), ("A", client.srp_a_hex), ("B", challenge.srp_b_hex))}
        seen |= {(name, flag) for name, flag in high.items()}
        if len(seen) == 6:
            break
    assert len(seen) == 6, seen
