"""Authentication rules: login, access-token checks, refresh rotation, logout.

* Login costs the same for an unknown email as for a wrong password (a dummy Argon2
  verification) and says the same thing, so neither the message nor the timing tells
  an attacker which addresses have accounts.
* Login attempts are rate-limited per client IP *and* email address.
* Refresh tokens are single-use: each refresh spends the presented token and issues a
  new pair (rotation). Presenting a spent token again revokes every refresh token of the
  account (reuse detection): a thief and the user cannot both keep a session.
* A token's ``type`` claim is checked on every decode, so a refresh token is never
  accepted as an access token and vice versa.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from course_app.config import Settings
from course_app.core.database import utcnow
from course_app.core.errors import RateLimitError
from course_app.core.logging import get_logger
from course_app.core.rate_limit import RateLimiter
from course_app.core.security import (
    TokenClaims,
    TokenError,
    TokenType,
    create_token,
    decode_token,
    verify_dummy_async,
    verify_password_async,
)
from course_app.features.auth.exceptions import (
    InactiveAccountError,
    InvalidCredentialsError,
    InvalidTokenError,
    RefreshTokenReusedError,
)
from course_app.features.auth.repository import RefreshTokenRepository
from course_app.features.auth.schemas import MAX_TOKEN_LENGTH, TokenPair
from course_app.features.users.models import User
from course_app.features.users.repository import UserRepository
from course_app.features.users.schemas import MAX_USER_ID

log = get_logger(__name__)

_USER_ID = re.compile(r"[1-9][0-9]{0,9}")  # ASCII digits only: int() also accepts "١٢"


def verify_token(settings: Settings, token: str, expected_type: TokenType) -> TokenClaims:
    """Decode and verify a token, turning every failure into a 401."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidTokenError("Invalid token")
    try:
        return decode_token(settings, token, expected_type)
    except TokenError as exc:
        raise InvalidTokenError(str(exc)) from exc


def user_id_from_subject(subject: str) -> int:
    """The ``sub`` claim as a user id. Checked strictly even though we signed it: a huge
    number would otherwise reach PostgreSQL and fail as a 500 ("integer out of range")."""
    if not _USER_ID.fullmatch(subject) or int(subject) > MAX_USER_ID:
        raise InvalidTokenError("Invalid token subject")
    return int(subject)


async def authenticate_access_token(session: AsyncSession, settings: Settings, token: str) -> User:
    """The active user an access token speaks for, or a 401.

    The user is loaded on every request rather than trusted from claims, so deactivating
    an account or changing its role takes effect on the next request, not at expiry.
    """
    claims = verify_token(settings, token, "access")
    user = await UserRepository(session).get(user_id_from_subject(claims.subject))
    if user is None or not user.is_active:
        raise InvalidTokenError("User not found or inactive")
    return user


class AuthService:
    def __init__(self, session: AsyncSession, settings: Settings, limiter: RateLimiter) -> None:
        self.session = session
        self.settings = settings
        self.limiter = limiter
        self.users = UserRepository(session)
        self.tokens = RefreshTokenRepository(session)

    async def login(self, email: str, password: str, *, client_ip: str) -> TokenPair:
        """Exchange credentials for a token pair. ``email`` is already normalised.

        The rate-limit counter is keyed on IP *and* email, and a successful login resets
        it. Resetting is safe with this key: to reset the counter of ``(ip, victim)`` an
        attacker needs the victim's password, which is what they are guessing. (With an
        IP-only key, logging in to their own account would wipe their failures.)
        """
        key = f"login:{client_ip}:{email}"
        retry_after = await self.limiter.hit(
            key, self.settings.login_rate_limit, self.settings.login_rate_window_seconds
        )
        if retry_after:
            log.warning("login_rate_limited", client_ip=client_ip, retry_after=retry_after)
            raise RateLimitError(retry_after)

        user = await self.users.get_by_email(email)
        if user is None:
            await verify_dummy_async(password)  # same cost as a real check
            log.info("login_failed", reason="unknown_email")
            raise InvalidCredentialsError()
        valid, new_hash = await verify_password_async(password, user.hashed_password)
        if not valid:
            log.info("login_failed", reason="wrong_password", user_id=user.id)
            raise InvalidCredentialsError()
        if not user.is_active:
            log.info("login_failed", reason="inactive", user_id=user.id)
            raise InactiveAccountError()

        if new_hash is not None:
            # The stored hash used older Argon2 parameters: upgrade it now, the only
            # moment the plain password is at hand.
            user.hashed_password = new_hash
        now = utcnow()
        await self.tokens.delete_expired_for_user(user.id, now=now)
        pair, refresh = self._mint(user.id, now)
        await self.tokens.add(jti=refresh.token_id, user_id=user.id, expires_at=refresh.expires_at)
        await self.session.commit()
        await self.limiter.reset(key)
        log.info("login_succeeded", user_id=user.id, rehashed=new_hash is not None)
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Spend ``refresh_token`` and return a new pair (rotation)."""
        claims = verify_token(self.settings, refresh_token, "refresh")
        user_id = user_id_from_subject(claims.subject)
        now = utcnow()
        pair, successor = self._mint(user_id, now)
        # The conditional UPDATE is the transaction's first statement: of two requests
        # racing with one token exactly one spends it, and on SQLite a write that comes
        # first waits for the lock instead of failing on a stale read snapshot.
        spent = await self.tokens.consume(
            jti=claims.token_id, user_id=user_id, replaced_by=successor.token_id, now=now
        )
        if not spent:
            await self._reject_unusable(claims.token_id, user_id, now)
        user = await self.users.get(user_id)
        if user is None or not user.is_active:
            raise InvalidTokenError("User not found or inactive")  # rollback un-spends it
        await self.tokens.add(
            jti=successor.token_id, user_id=user_id, expires_at=successor.expires_at
        )
        await self.session.commit()
        return pair

    async def logout(self, refresh_token: str) -> None:
        """Revoke ``refresh_token``. Idempotent: an already revoked token is not an
        error here (the client wants it dead, and it is). The access token stays valid
        until it expires, minutes later; that is the price of stateless access tokens."""
        claims = verify_token(self.settings, refresh_token, "refresh")
        await self.tokens.revoke(claims.token_id, now=utcnow())
        await self.session.commit()

    def _mint(self, user_id: int, now: datetime) -> tuple[TokenPair, TokenClaims]:
        """A new access + refresh pair, and the refresh token's claims (to store)."""
        subject = str(user_id)
        access = create_token(self.settings, subject, "access", now=now)
        refresh = create_token(self.settings, subject, "refresh", now=now)
        # Read back the jti and expiry create_token chose, rather than duplicate its rules.
        refresh_claims = decode_token(self.settings, refresh, "refresh")
        pair = TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=self.settings.access_token_expire_minutes * 60,
        )
        return pair, refresh_claims

    async def _reject_unusable(self, jti: str, user_id: int, now: datetime) -> NoReturn:
        """A validly signed refresh token that cannot be spent: unknown, or reused."""
        stored = await self.tokens.get(jti)
        if stored is None or stored.user_id != user_id:
            raise InvalidTokenError("Unknown refresh token")
        revoked = await self.tokens.revoke_all_for_user(user_id, now=now)
        await self.session.commit()  # the revocation must outlive this 401
        log.warning("refresh_token_reused", user_id=user_id, sessions_revoked=revoked)
        raise RefreshTokenReusedError()
