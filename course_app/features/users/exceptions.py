"""Errors of the ``users`` feature. Each maps to one status code and error ``code`` in the
shared envelope, so routers never build HTTP errors themselves."""

from __future__ import annotations

from fastapi import status

from course_app.core.errors import AppError, ConflictError, NotFoundError


class UserNotFoundError(NotFoundError):
    def __init__(self, user_id: int) -> None:
        super().__init__("User", user_id)


class EmailAlreadyRegisteredError(ConflictError):
    """409. Registration has to say so (the user needs to know to log in instead); the
    login endpoint, by contrast, never reveals whether an address has an account."""

    def __init__(self) -> None:
        super().__init__("This email address is already registered", details={"field": "email"})


class InvalidCurrentPasswordError(AppError):
    """422, with the same ``details.errors`` shape as request validation.

    Not 401: the bearer token *was* valid, and a 401 tells clients to refresh the token
    or log the user out, which is the wrong reaction to a mistyped field. The problem is
    the value of one body field, so it is reported against that field.
    """

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    code = "VALIDATION_ERROR"

    def __init__(self) -> None:
        super().__init__(
            "Current password is incorrect",
            details={
                "errors": [
                    {
                        "loc": ["body", "current_password"],
                        "msg": "Current password is incorrect",
                        "type": "invalid_current_password",
                    }
                ]
            },
        )


class SelfLockoutError(ConflictError):
    """An admin may not demote or deactivate themselves: the last admin doing so would
    leave nobody able to undo it."""

    def __init__(self) -> None:
        super().__init__(
            "Admins cannot remove their own admin role or deactivate their own account",
            details={"reason": "self_lockout"},
        )
