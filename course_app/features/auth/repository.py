"""Queries on ``refresh_tokens``. Adds and updates, never commits (the service does).

State changes are single conditional ``UPDATE`` statements (``... WHERE revoked_at IS
NULL``) rather than read-then-write: two requests racing with the same refresh token
cannot both win, on PostgreSQL or SQLite, because only one ``UPDATE`` matches the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, Update, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.features.auth.models import RefreshToken


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, jti: str, user_id: int, expires_at: datetime) -> RefreshToken:
        token = RefreshToken(jti=jti, user_id=user_id, expires_at=expires_at)
        self.session.add(token)
        await self.session.flush()
        return token

    async def get(self, jti: str) -> RefreshToken | None:
        return await self.session.get(RefreshToken, jti)

    async def consume(self, *, jti: str, user_id: int, replaced_by: str, now: datetime) -> bool:
        """Spend a live token, linking it to its successor. ``False`` when it is unknown,
        belongs to someone else, or was already spent or revoked."""
        statement = (
            update(RefreshToken)
            .where(
                RefreshToken.jti == jti,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now, replaced_by=replaced_by)
            .execution_options(synchronize_session=False)
        )
        return await self._rowcount(statement) == 1

    async def revoke(self, jti: str, *, now: datetime) -> bool:
        """Revoke one live token; ``False`` when there was nothing live to revoke."""
        statement = (
            update(RefreshToken)
            .where(RefreshToken.jti == jti, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return await self._rowcount(statement) == 1

    async def revoke_all_for_user(self, user_id: int, *, now: datetime) -> int:
        """Revoke every live token of a user (reuse detected, password changed, account
        deactivated); returns how many were live."""
        statement = (
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return await self._rowcount(statement)

    async def delete_expired_for_user(self, user_id: int, *, now: datetime) -> None:
        """Housekeeping at login: an expired token fails its signature check anyway, so
        its row has nothing left to protect. :meth:`purge_expired` does it for everyone."""
        await self.session.execute(
            delete(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.expires_at < now)
            .execution_options(synchronize_session=False)
        )

    async def purge_expired(self, *, now: datetime) -> int:
        """Delete every expired refresh token (``python -m course_app purge-tokens``, run
        from cron or a Kubernetes CronJob): users who never log in again would otherwise
        keep their rows forever. Returns how many rows went."""
        result = await self.session.execute(
            delete(RefreshToken)
            .where(RefreshToken.expires_at < now)
            .execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)
        return result.rowcount

    async def _rowcount(self, statement: Update) -> int:
        result = await self.session.execute(statement)
        assert isinstance(result, CursorResult)  # what DML returns; the stubs say Result
        return result.rowcount
