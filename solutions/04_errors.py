# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (FastAPI course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 04 · Errors
#
# Four exercises, about 35 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 4.1 | `ServiceUnavailableError` | a new error type in the hierarchy; the real app renders it as a 503 envelope with `Retry-After` |
# | 4.2 | `redeem(vouchers, code, today)` | a service that raises domain errors, not `HTTPException`, with actionable details |
# | 4.3 | `install_timeout_handler(app)` | the real app answers upstream time-outs with a 504 envelope, logs the cause, leaks nothing |
# | 4.4 | `assert_error_envelope(response, status_code, code)` | a test helper that catches every way a body can break the envelope |
#
# Lesson 04 (`notebooks/04_errors.ipynb`) shows every tool you need.

# %%
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette import status

from course_app.core.errors import AppError, ConflictError, NotFoundError, error_response
from course_app.core.logging import get_logger
from coursekit import check

# %% [markdown]
# ## Exercise 4.1 — a new error type: `ServiceUnavailableError`
#
# Checkout calls a payment provider. When the provider is down, the API should answer
# **503** and tell the client when to try again. Write `ServiceUnavailableError`, an
# `AppError` subclass (see `course_app/core/errors.py`, e.g. `RateLimitError`):
#
# - class attributes: `status_code` 503 (use `status.HTTP_503_SERVICE_UNAVAILABLE`),
#   `code` `"SERVICE_UNAVAILABLE"`;
# - constructor `ServiceUnavailableError(service: str, retry_after: int)`;
# - `message`: a sentence that names the service, e.g.
#   `"The payments service is unavailable; retry in 30 seconds"`;
# - `details`: `{"service": service, "retry_after": retry_after}`;
# - `headers`: `{"Retry-After": "30"}` — header values are strings.
#
# The checker raises your error inside a real `create_app(...)` app and reads the answer.

# %%
### BEGIN SOLUTION stub: ServiceUnavailableError = None  # replace with: class ServiceUnavailableError(AppError): ...
class ServiceUnavailableError(AppError):
    """503: a service we depend on is down; the client may retry after ``retry_after`` s."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "SERVICE_UNAVAILABLE"

    def __init__(self, service: str, retry_after: int) -> None:
        super().__init__(
            f"The {service} service is unavailable; retry in {retry_after} seconds",
            details={"service": service, "retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
### END SOLUTION

# %%
check("4.1", ServiceUnavailableError)

# %% [markdown]
# ## Exercise 4.2 — a service that raises domain errors
#
# Here is a voucher service written the seed-style way. It works, but it speaks HTTP:
# a nightly job that redeems vouchers would have to catch `HTTPException` and read
# `.status_code`, and clients get `{"detail": "expired"}` with nothing to act on.
#
# ```python
# def redeem(vouchers, code, today):
#     voucher = vouchers.get(code)
#     if voucher is None:
#         raise HTTPException(404, "Voucher not found")
#     if voucher.expires_on < today:
#         raise HTTPException(400, "expired")
#     if voucher.uses >= voucher.max_uses:
#         raise HTTPException(400, "Voucher used up")
#     voucher.uses += 1
#     return voucher
# ```
#
# Rewrite it with domain errors. In one cell, write two error classes and
# `redeem(vouchers: dict[str, Voucher], code: str, today: date) -> Voucher`:
#
# - an unknown code raises course_app's `NotFoundError("Voucher", code)` (404);
# - `VoucherExpiredError(code, expires_on)`: a `ConflictError` (409) with `code`
#   `"VOUCHER_EXPIRED"`, a message that names the voucher, and
#   `details={"voucher": code, "expired_on": "2026-03-31"}` (the date as an ISO string).
#   A voucher is still valid **on** its `expires_on` day;
# - `VoucherUsedUpError(code, max_uses)`: a `ConflictError` with `code`
#   `"VOUCHER_USED_UP"`, a message that names the voucher, and
#   `details={"voucher": code, "max_uses": 3}`;
# - check in that order (a voucher that is both expired and used up is reported as
#   expired); a failed redemption changes nothing; a successful one adds 1 to `uses` and
#   returns the voucher.
#
# The checker calls `redeem` directly (no HTTP), then behind a real app.

# %%
@dataclass
class Voucher:
    code: str
    percent_off: int
    expires_on: date  # the last day on which the voucher can be used
    max_uses: int
    uses: int = 0

# %%
### BEGIN SOLUTION stub: redeem = None  # replace with the two error classes and def redeem(...)
class VoucherExpiredError(ConflictError):
    code = "VOUCHER_EXPIRED"

    def __init__(self, voucher: str, expires_on: date) -> None:
        super().__init__(
            f"Voucher {voucher} expired on {expires_on.isoformat()}",
            details={"voucher": voucher, "expired_on": expires_on.isoformat()},
        )


class VoucherUsedUpError(ConflictError):
    code = "VOUCHER_USED_UP"

    def __init__(self, voucher: str, max_uses: int) -> None:
        super().__init__(
            f"Voucher {voucher} has been used {max_uses} times, its maximum",
            details={"voucher": voucher, "max_uses": max_uses},
        )


def redeem(vouchers: dict[str, Voucher], code: str, today: date) -> Voucher:
    """Use ``code`` once, or raise the domain error that says why not."""
    voucher = vouchers.get(code)
    if voucher is None:
        raise NotFoundError("Voucher", code)
    if voucher.expires_on < today:
        raise VoucherExpiredError(code, voucher.expires_on)
    if voucher.uses >= voucher.max_uses:
        raise VoucherUsedUpError(code, voucher.max_uses)
    voucher.uses += 1
    return voucher
### END SOLUTION

# %%
check("4.2", redeem)

# %% [markdown]
# ## Exercise 4.3 — a handler for upstream time-outs, on the real app
#
# When a call to another service times out, Python raises `TimeoutError` (also what
# `asyncio.timeout(...)` raises). Today that is an unhandled exception: a 500, logged at
# `error`, that looks like a bug of ours. It is not a bug, and the right answer is
# **504 Gateway Timeout**. Write `install_timeout_handler(app)`, which registers a handler
# on a real `create_app(...)` app so that a `TimeoutError` from any endpoint:
#
# - answers **504** with the envelope, `code` `"UPSTREAM_TIMEOUT"`, `details` `{}`, the
#   request id (use `error_response(request, ...)` from `course_app.core.errors`);
# - has a fixed, generic message: the exception's text names internal hosts and ports and
#   must **not** reach the client (rule 6);
# - writes one `warning` line to the log with `log.warning(...)` (the logger below) that
#   **does** contain the exception's text (`error=str(exc)`), so an operator can see which
#   upstream failed. The request id is added to the line for you (lesson 04, section 6).
#
# Every other failure must keep its answer: a `RuntimeError` is still a 500
# `INTERNAL_ERROR`, a `ConnectionRefusedError` too (it is not a time-out), an
# `AppError` keeps its own status.

# %%
log = get_logger("lab04.upstream")


def install_timeout_handler(app: FastAPI) -> None:
    """Answer ``TimeoutError`` with a 504 envelope and log its cause."""
    ### BEGIN SOLUTION
    async def upstream_timeout(request: Request, exc: Exception) -> JSONResponse:
        log.warning("upstream_timeout", path=request.url.path, error=str(exc))
        return error_response(
            request,
            status.HTTP_504_GATEWAY_TIMEOUT,
            "UPSTREAM_TIMEOUT",
            "An upstream service did not answer in time; retry later",
        )

    app.add_exception_handler(TimeoutError, upstream_timeout)
    ### END SOLUTION


# %%
check("4.3", install_timeout_handler)

# %% [markdown]
# ## Exercise 4.4 — a test helper for sad paths
#
# A test of an error path should check the whole contract, not only the status code.
# Write `assert_error_envelope(response, status_code, code)` for tests of this API. It
# takes an `httpx.Response` (what `TestClient` returns), raises `AssertionError` with a
# message saying what was wrong when any rule is broken, and returns the `error` object
# when all hold:
#
# 1. the status is `status_code`;
# 2. the body is JSON (`content-type` starts with `application/json` and it parses) —
#    a text 500 must fail with `AssertionError`, not with a `JSONDecodeError`;
# 3. the body has exactly one key, `"error"`, whose value has exactly the keys `code`,
#    `message`, `details`, `request_id`;
# 4. `error["code"] == code`; `message` is a non-empty string; `details` is a dict;
# 5. `request_id` is a non-empty string equal to the response's `X-Request-ID` header;
# 6. for a status of 500 or more, the body text does not contain `"Traceback"`.

# %%
ENVELOPE_KEYS = {"code", "message", "details", "request_id"}


def assert_error_envelope(response: httpx.Response, status_code: int, code: str) -> dict[str, Any]:
    """Assert that ``response`` is the API's error envelope; return its ``error`` object."""
    ### BEGIN SOLUTION
    assert response.status_code == status_code, (
        f"expected status {status_code}, got {response.status_code}"
    )
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/json"), f"expected JSON, got {content_type!r}"
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(f"the body is not valid JSON: {response.text[:80]!r}") from exc
    assert isinstance(body, dict) and set(body) == {"error"}, f"not {{'error': ...}}: {body!r}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ENVELOPE_KEYS, f"envelope keys: {error!r}"
    assert error["code"] == code, f"expected code {code!r}, got {error['code']!r}"
    assert isinstance(error["message"], str) and error["message"], "message: a non-empty string"
    assert isinstance(error["details"], dict), f"details is not an object: {error['details']!r}"
    request_id = error["request_id"]
    assert isinstance(request_id, str) and request_id, f"request_id missing: {request_id!r}"
    header = response.headers.get("x-request-id")
    assert request_id == header, f"request_id {request_id!r} != X-Request-ID {header!r}"
    if status_code >= 500:
        assert "Traceback" not in response.text, "a 5xx body must not contain a traceback"
    return error
    ### END SOLUTION


# %%
check("4.4", assert_error_envelope)

# %% [markdown]
# ## Done?
#
# Run `course check 4` in a terminal to see all four results at once. Next: lesson 05,
# authentication and authorization.
