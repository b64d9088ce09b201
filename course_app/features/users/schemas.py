"""What the ``users`` API accepts and returns: one schema per direction and purpose.

* Input models forbid unknown fields, so ``{"role": "admin"}`` in a sign-up body is a
  422 and never reaches the database (mass assignment).
* Every string is length-bounded and free of control characters: a NUL byte would make
  PostgreSQL fail the query with a 500, and a newline would forge lines in logs.
* Passwords are never stripped (a leading space is part of the secret) and never leave
  the server: no response schema has a password or hash field.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from course_app.features.users.models import Role
from course_app.shared.text import NO_CONTROL_CHARS

MAX_EMAIL_LENGTH: Final = 254  # RFC 5321: the longest address a mail server accepts
MAX_LOCAL_PART_LENGTH: Final = 64
MIN_PASSWORD_LENGTH: Final = 8  # NIST SP 800-63B: at least 8, no composition rules
MAX_PASSWORD_LENGTH: Final = 128  # bounds the hashing work one request can cause
MAX_USER_ID: Final = 2**31 - 1  # users.id is a 32-bit INTEGER on PostgreSQL

# Dot-atoms from RFC 5322, ASCII only. Each pattern is applied to one bounded part of the
# address and has no nested ambiguous repetition, so it cannot backtrack catastrophically.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def check_email(value: str) -> str:
    """Validate the shape of an address (``local@domain.tld``) without a network lookup.

    This is what ``EmailStr`` would do for us with the ``email-validator`` package; the
    rules are small enough to read: a dot-atom local part of at most 64 characters, a
    domain of at least two labels (letters, digits, inner hyphens; 63 characters each)
    and a top-level label that is not all digits. Quoted local parts and internationalised
    addresses are refused: no mail provider a shop cares about hands those out.
    """
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("must be an email address like name@example.com")
    if len(local) > MAX_LOCAL_PART_LENGTH or not _LOCAL_PART.fullmatch(local):
        raise ValueError("the part before @ is not valid")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise ValueError("the domain is not valid")
    if labels[-1].isdigit():
        raise ValueError("the top-level domain may not be numeric")
    return value


# Addresses are stored lower-cased, so ``Ann@Example.com`` and ``ann@example.com`` are one
# account (strictly, the local part is case-sensitive; no real provider treats it so).
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=3, max_length=MAX_EMAIL_LENGTH
    ),
    AfterValidator(check_email),
    Field(examples=["ada@example.com"]),
]
Password = Annotated[
    str,
    StringConstraints(
        strip_whitespace=False, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH
    ),
    Field(examples=["correct horse battery staple"]),
]
CurrentPassword = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_PASSWORD_LENGTH)
]
FullName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=NO_CONTROL_CHARS),
    Field(examples=["Ada Lovelace"]),
]


def _no_explicit_null(value: object) -> object:
    """Optional in a PATCH means "may be left out", not "may be set to null": a null
    would reach a NOT NULL column and fail as a 500 instead of a 422."""
    if value is None:
        raise ValueError("may be omitted, but not null")
    return value


class UserCreate(BaseModel):
    """Sign-up body. There is no ``role`` or ``is_active`` here, and unknown fields are
    rejected, so a caller cannot make themselves an admin."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "correct horse battery staple",
                    "full_name": "Ada Lovelace",
                }
            ]
        },
    )

    email: Email
    password: Password
    full_name: FullName


class UserUpdate(BaseModel):
    """``PATCH /api/users/me``: only the caller's own, harmless fields.

    Changing the password requires the current one: a stolen access token (or an
    unlocked laptop) must not be enough to take the account over for good.
    """

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"full_name": "Ada King"},
                {
                    "password": "a new long passphrase",
                    "current_password": "correct horse battery staple",
                },
            ]
        },
    )

    full_name: FullName | None = None
    password: Password | None = None
    current_password: CurrentPassword | None = None

    _not_null = field_validator("full_name", "password", "current_password")(_no_explicit_null)

    @model_validator(mode="after")
    def _password_change_is_confirmed(self) -> UserUpdate:
        if self.password is not None and self.current_password is None:
            raise ValueError("current_password is required to change the password")
        if self.current_password is not None and self.password is None:
            raise ValueError("current_password is only accepted together with password")
        return self


class AdminUserUpdate(BaseModel):
    """``PATCH /api/users/{id}`` by an admin: the privileged fields live only here."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"role": "admin"}, {"is_active": False}]},
    )

    full_name: FullName | None = None
    role: Role | None = None
    is_active: bool | None = None

    _not_null = field_validator("full_name", "role", "is_active")(_no_explicit_null)


class UserResponse(BaseModel):
    """A user as the API shows it: built from the ORM object, never with the hash."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "email": "ada@example.com",
                    "full_name": "Ada Lovelace",
                    "role": "user",
                    "is_active": True,
                    "created_at": "2025-01-31T12:00:00Z",
                }
            ]
        },
    )

    id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: AwareDatetime


UserSort = Literal["created_at", "-created_at", "email", "-email"]


class UserListQuery(BaseModel):
    """Filters and order of the admin listing. Each is a named, typed parameter: the
    repository maps them to columns through an allow-list, never ``getattr``."""

    role: Role | None = Field(default=None, description="Only users with this role")
    is_active: bool | None = Field(default=None, description="Only active or inactive users")
    email_contains: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_EMAIL_LENGTH,
        pattern=NO_CONTROL_CHARS,
        description="Case-insensitive substring of the email address",
        examples=["@example.com"],
    )
    sort: UserSort = Field(
        default="-created_at", description="Order; a leading '-' means descending"
    )
