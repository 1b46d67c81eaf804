"""Colonies identities and signatures: secp256k1 keys, SHA3-256 ids, 65-byte recoverable signatures.

The server authorizes by the id it *recovers* from a request's signature, so polynb must produce
exactly what the Go server (btcec ``SignCompact``) and pycolonies produce: RFC 6979 nonces, low-s,
``r || s || v`` with ``v`` in {0, 1}. pycryptodome gives the curve's point arithmetic and SHA3; the
signing and recovery equations are written here.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from Crypto.Hash import SHA3_256
from Crypto.PublicKey import ECC

CURVE = "secp256k1"
_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = ECC.EccPoint(0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
                  0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8, curve=CURVE)


class SignatureError(ValueError):
    """A signature that names no signer (the Go server answers these with 403)."""


def sha3_hex(text: str) -> str:
    """SHA3-256 (FIPS 202, not Keccak) of UTF-8 text, as lowercase hex: ids and process ids use it."""
    return SHA3_256.new(text.encode()).hexdigest()


def _digest(message: str) -> int:
    return int.from_bytes(SHA3_256.new(message.encode()).digest(), "big")


def generate_private_key() -> str:
    """A fresh private key as 64 lowercase hex characters."""
    return f"{secrets.randbelow(N - 1) + 1:064x}"


def _scalar(private_key: str) -> int:
    if not isinstance(private_key, str) or len(private_key) != 64:
        raise ValueError("a Colonies private key is 64 hex characters")
    try:
        scalar = int(private_key, 16)
    except ValueError:
        raise ValueError("a Colonies private key is 64 hex characters") from None
    if not 0 < scalar < N:
        raise ValueError("a Colonies private key must be between 1 and the curve order")
    return scalar


def _id_of_point(point: ECC.EccPoint) -> str:
    return sha3_hex(f"04{int(point.x):064x}{int(point.y):064x}")


def identity(private_key: str) -> str:
    """The 64-hex id of a key: SHA3-256 of the *text* of its uncompressed public key."""
    return _id_of_point(_G * _scalar(private_key))


def _nonce(scalar: int, digest: int) -> int:
    """RFC 6979 section 3.2 with HMAC-SHA256, as libsecp256k1 and btcec derive k."""
    x = scalar.to_bytes(32, "big")
    h = (digest % N).to_bytes(32, "big")
    v, k = b"\x01" * 32, b"\x00" * 32
    k = hmac.new(k, v + b"\x00" + x + h, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    k = hmac.new(k, v + b"\x01" + x + h, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    while True:
        v = hmac.new(k, v, hashlib.sha256).digest()
        candidate = int.from_bytes(v, "big")
        if 0 < candidate < N:
            return candidate
        k = hmac.new(k, v + b"\x00", hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()


def sign(message: str, private_key: str) -> str:
    """Sign the UTF-8 text ``message`` (the base64 payload) and return 130 hex chars ``r||s||v``."""
    scalar = _scalar(private_key)
    digest = _digest(message)
    k = _nonce(scalar, digest)
    point = _G * k
    r = int(point.x) % N
    s = pow(k, -1, N) * (digest + r * scalar) % N
    v = (int(point.y) & 1) | (2 if int(point.x) >= N else 0)
    if s > N // 2:
        s, v = N - s, v ^ 1
    return f"{r:064x}{s:064x}{v:02x}"


def recover(message: str, signature: str) -> str:
    """The id of whoever signed ``message``; :class:`SignatureError` when the signature names nobody.

    Refuses what the Go server refuses: not 65 bytes of hex, r or s out of range, high s, and points
    off the curve.
    """
    try:
        raw = bytes.fromhex(signature)
    except (TypeError, ValueError):
        raise SignatureError("Invalid signature") from None
    if len(raw) != 65:
        raise SignatureError("Invalid signature")
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if not (0 < r < N and 0 < s < N) or v > 3:
        raise SignatureError("Invalid signature")
    if s > N // 2:
        raise SignatureError("Signature s value is over half the order")
    x = r + N if v & 2 else r
    if x >= _P:
        raise SignatureError("Invalid signature")
    y_squared = (pow(x, 3, _P) + 7) % _P
    y = pow(y_squared, (_P + 1) // 4, _P)
    if y * y % _P != y_squared:
        raise SignatureError("Invalid signature")
    if (y & 1) != (v & 1):
        y = _P - y
    point_r = ECC.EccPoint(x, y, curve=CURVE)
    r_inverse = pow(r, -1, N)
    public = point_r * (s * r_inverse % N) + _G * ((-_digest(message)) * r_inverse % N)
    if public.is_point_at_infinity():
        raise SignatureError("Invalid signature")
    return _id_of_point(public)


def verify(message: str, signature: str, expected_id: str) -> bool:
    """True when ``signature`` over ``message`` was made by the key whose id is ``expected_id``."""
    try:
        return recover(message, signature) == expected_id.lower()
    except SignatureError:
        return False
