"""Passwords (pwdlib + Argon2) and tokens (PyJWT), with nothing left to defaults.

* Hashes are Argon2id; ``verify_and_update`` rehashes on login when parameters change.
* An unknown user still costs one hash verification (``verify_dummy``) so response time
  does not reveal which emails have accounts.
* Tokens are HS256 JWTs with an explicit algorithm list and *required* ``exp``, ``iat``,
  ``nbf``, ``sub``, ``type``, ``jti``, ``iss`` and ``aud`` claims. A refresh token is not
  an access token: ``type`` is checked on every decode.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, Literal

import anyio.to_thread
import jwt
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

from course_app.config import Settings
from course_app.core.logging import get_logger

TokenType = Literal["access", "refresh"]
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "sub", "type", "jti", "iss", "aud")

password_hash = PasswordHash((Argon2Hasher(),))
log = get_logger(__name__)


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> tuple[bool, str | None]:
    """``(valid, new_hash)``: ``new_hash`` is set when the stored hash should be upgraded.

    A stored value that is no hash this app knows (a plain-text password imported from
    an old system, a truncated column) is a failed login, not a 500: the caller gets
    the same 401, after the same Argon2 work, and a warning in the log."""
    try:
        return password_hash.verify_and_update(password, hashed)
    except UnknownHashError:
        log.warning("password_hash_unrecognised")  # never log any of it: it may be a password
        verify_dummy(password)
        return False, None


@lru_cache
def _dummy_hash() -> str:
    return password_hash.hash(secrets.token_urlsafe(16))


def verify_dummy(password: str) -> None:
    """Spend the same time as a real verification, for users that do not exist."""
    password_hash.verify(password, _dummy_hash())


async def hash_password_async(password: str) -> str:
    """Argon2 is deliberately slow CPU work: run it off the event loop."""
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password_async(password: str, hashed: str) -> tuple[bool, str | None]:
    return await anyio.to_thread.run_sync(verify_password, password, hashed)


async def verify_dummy_async(password: str) -> None:
    await anyio.to_thread.run_sync(verify_dummy, password)


class TokenError(Exception):
    """Any reason a token is not acceptable; the message is safe to show."""


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    token_type: TokenType
    token_id: str
    expires_at: datetime
    issued_at: datetime


def create_token(
    settings: Settings,
    subject: str,
    token_type: TokenType,
    *,
    extra: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> str:
    """Sign a token of ``token_type`` for ``subject`` (a user id, as a string)."""
    issued = now or datetime.now(UTC)
    lifetime = {
        "access": timedelta(minutes=settings.access_token_expire_minutes),
        "refresh": timedelta(days=settings.refresh_token_expire_days),
    }[token_type]
    payload: dict[str, Any] = {
        **(extra or {}),
        "sub": subject,
        "type": token_type,
        "jti": uuid.uuid4().hex,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    return jwt.encode(payload, settings.jwt_secret_value, algorithm=settings.jwt_algorithm)


#: How many verified tokens each process remembers (a few hundred bytes each).
VERIFIED_TOKENS: Final = 4096


@lru_cache(maxsize=VERIFIED_TOKENS)
def _verified_payload(
    token: str, key: str, algorithm: str, audience: str, issuer: str
) -> Mapping[str, Any]:
    """PyJWT's whole check: signature, algorithm, required claims, time claims, issuer,
    audience. Only PyJWT's own errors are caught.

    Remembered per token string and key (a read-only view, so no caller can change what
    the next one reads). A client sends the same access token with every request until
    it expires, and the signature and the claims of a string cannot change: verifying it
    again only repeats the work (parsing, base64, JSON, HMAC, a dozen claim checks),
    which was the largest single cost of an authenticated request (bench/README.md).
    PostgREST (``jwt-cache-max-lifetime``) and Envoy (``jwt_cache_config``) do the same.
    What does change is the clock, so :func:`decode_token` checks ``exp`` on every use.
    Failures raise, and ``lru_cache`` does not remember an exception: a forged token is
    checked in full every time and never takes a place in the cache.
    """
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("Invalid token") from exc
    return MappingProxyType(payload)


def decode_token(settings: Settings, token: str, expected_type: TokenType) -> TokenClaims:
    """Verify signature, algorithm, time claims, issuer, audience and type, or raise
    :class:`TokenError`."""
    payload = _verified_payload(
        token,
        settings.jwt_secret_value,
        settings.jwt_algorithm,
        settings.jwt_audience,
        settings.jwt_issuer,
    )
    # PyJWT's rule (no leeway), again on every use: a token verified while it was valid
    # is refused from the second it expires, cached or not.
    if int(payload["exp"]) <= time.time():
        raise TokenError("Token has expired")
    if payload.get("type") != expected_type:
        raise TokenError(f"Token is not of type {expected_type!r}")
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenError("Invalid token subject")
    return TokenClaims(
        subject=subject,
        token_type=expected_type,
        token_id=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        issued_at=datetime.fromtimestamp(payload["iat"], UTC),
    )
