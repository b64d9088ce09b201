"""What the ``auth`` API accepts and returns.

Login fields are bounded and normalised but *not* validated as email addresses: a login
only has to find an existing account, and a stricter sign-up rule added later must not
lock older accounts out. Passwords are never stripped.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from course_app.features.users.schemas import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from course_app.shared.text import NO_CONTROL_CHARS

MAX_TOKEN_LENGTH: Final = 4096  # ours are ~300 characters; anything far longer is junk

LoginEmail = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=MAX_EMAIL_LENGTH,
        pattern=NO_CONTROL_CHARS,
    ),
]
LoginPassword = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_PASSWORD_LENGTH),
]


class LoginRequest(BaseModel):
    """JSON login for first-party clients (``POST /api/auth/login``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "correct horse battery staple"}]
        },
    )

    email: LoginEmail
    password: LoginPassword


class TokenForm(BaseModel):
    """The OAuth2 password grant (RFC 6749 §4.3) as a form: what the "Authorize" button
    of the interactive docs sends to ``POST /api/auth/token``.

    It is FastAPI's ``OAuth2PasswordRequestForm`` with bounds on every field.
    ``username`` carries the email address. Unknown form fields (``scope``, ``client_id``
    …) are ignored, as RFC 6749 §3.2 requires of a token endpoint.
    """

    model_config = ConfigDict(extra="ignore")

    grant_type: Literal["password"] | None = Field(
        default=None, description="Optional; when sent it must be 'password'"
    )
    username: LoginEmail = Field(description="The account's email address")
    password: LoginPassword


class RefreshTokenRequest(BaseModel):
    """Body of ``/refresh`` and ``/logout``. In the body, not the URL, so the token does
    not end up in access logs or browser history."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"refresh_token": "eyJhbGciOiJIUzI1NiIs..."}]},
    )

    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class TokenPair(BaseModel):
    """RFC 6749 §5.1 token response, plus the refresh token of this rotation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIs...",
                    "refresh_token": "eyJhbGciOiJIUzI1NiIs...",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int = Field(description="Lifetime of the access token, in seconds")
