"""The ``refresh_tokens`` table: the server-side state that makes refresh tokens revocable.

An access token is stateless (checked by signature alone, so it lives only minutes). A
refresh token lives for days, so each one is recorded by its ``jti``: it can be revoked
(logout), it is single-use (rotation: ``replaced_by`` links it to its successor), and a
second use of a spent token is detectable (reuse detection revokes the whole account's
tokens, because either the user or a thief holds a copy).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from course_app.core.database import Base, UTCDateTime, utcnow

JTI_LENGTH = 64


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(JTI_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    replaced_by: Mapped[str | None] = mapped_column(String(JTI_LENGTH), default=None)

    def __repr__(self) -> str:
        return f"RefreshToken(jti={self.jti!r}, user_id={self.user_id!r})"
