"""Errors of the ``auth`` feature: all 401 with ``WWW-Authenticate: Bearer``.

Messages are deliberately coarse. Which of "no such email" and "wrong password" happened
is never said (user enumeration); a token failure says what kind of token problem it is,
which helps a client and helps nobody forge one.
"""

from __future__ import annotations

from course_app.core.errors import AuthenticationError


class InvalidCredentialsError(AuthenticationError):
    """The same error, message and (thanks to the dummy hash) timing for an unknown email
    and for a wrong password."""

    def __init__(self) -> None:
        super().__init__("Incorrect email or password")


class InactiveAccountError(AuthenticationError):
    """Raised only *after* the password verified: a caller who does not know the
    password learns nothing about the account's state."""

    def __init__(self) -> None:
        super().__init__("This account is disabled")


class InvalidTokenError(AuthenticationError):
    """A token that is malformed, forged, expired, of the wrong type, or whose user is
    gone or disabled."""


class RefreshTokenReusedError(AuthenticationError):
    """A refresh token was presented after it had been spent or revoked. Either the
    client has a bug or someone else holds a copy; all the account's sessions end."""

    def __init__(self) -> None:
        super().__init__("Refresh token was already used; every session of this account ended")
