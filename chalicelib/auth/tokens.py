"""Bearer tokens with Harbor's claim shape, signed RS256 with a key kept in SSM Parameter Store.

The key is created on first use and read once per process; verifying a token needs no database
read, so a token-authenticated pull never touches the user or project records.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.store import parameters


@dataclass(frozen=True)
class Access:
    type: str  # repository | registry
    name: str
    actions: tuple[str, ...]

    def claim(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


@dataclass(frozen=True)
class _SigningKey:
    private: rsa.RSAPrivateKey
    kid: str


def _kid(key: rsa.RSAPrivateKey) -> str:
    """The libtrust-style key id docker/distribution prints: base32 of a SHA-256 of the public key."""
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(b32[i:i + 4] for i in range(0, 48, 4))


@cache
def _signing_key() -> _SigningKey:
    name = settings().signing_key_parameter
    pem = parameters.get_secret(name)
    if pem is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        candidate = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
        # Another instance may have won the race: always use what the parameter holds.
        pem = candidate if parameters.create_secret(name, candidate) else parameters.get_secret(name)
    private = serialization.load_pem_private_key(pem.encode(), password=None)  # type: ignore[union-attr]
    assert isinstance(private, rsa.RSAPrivateKey)
    return _SigningKey(private, _kid(private))


def ensure_signing_key() -> None:
    _signing_key()


def forget_signing_key() -> None:
    _signing_key.cache_clear()


def issue(subject: str, access: list[Access]) -> dict[str, Any]:
    """The /service/token response body."""
    cfg = settings()
    issued = clock.now()
    claims = {
        "iss": cfg.token_issuer, "sub": subject, "aud": cfg.token_service,
        "exp": int((issued + timedelta(seconds=cfg.token_ttl_seconds)).timestamp()),
        "nbf": int(issued.timestamp()) - 5, "iat": int(issued.timestamp()),
        "jti": uuid.uuid4().hex, "access": [a.claim() for a in access],
    }
    key = _signing_key()
    token = jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})
    return {"token": token, "access_token": token, "expires_in": cfg.token_ttl_seconds,
            "issued_at": clock.iso(issued)}


class InvalidToken(Exception):
    pass


def verify(token: str) -> tuple[str, list[Access]]:
    """The subject and granted access of a valid token; InvalidToken otherwise."""
    cfg = settings()
    try:
        claims = jwt.decode(token, _signing_key().private.public_key(), algorithms=["RS256"],
                            audience=cfg.token_service, issuer=cfg.token_issuer,
                            options={"require": ["exp", "iss", "aud", "sub"]})
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    access = [Access(a.get("type", ""), a.get("name", ""), tuple(a.get("actions") or ()))
              for a in claims.get("access") or [] if isinstance(a, dict)]
    return claims["sub"], access
