"""Checkers of lab 04, errors.

Every HTTP case runs against a real ``create_app(settings)`` app (in-memory SQLite, no
environment read). The app's log lines go to a buffer while a check runs, and the
previous structlog configuration is restored afterwards: the checks can read the log,
and the learner's notebook does not fill up with access lines and tracebacks.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings

MEMORY_DB = "sqlite+aiosqlite:///:memory:"
ENVELOPE_KEYS = {"code", "message", "details", "request_id"}


# --- shared ------------------------------------------------------------------------------
def _settings() -> Any:
    """course_app settings from explicit values only (no environment, no .env file)."""
    return course_settings(
        environment="test", database_url=MEMORY_DB, log_json=True, log_level="INFO"
    )


def _capture_logs(c: Checker) -> io.StringIO:
    """A buffer for the app's log lines. The current structlog configuration is restored
    when the check closes, after the apps it started have shut down (the exit stack
    unwinds in reverse order), so even their shutdown lines land in the buffer."""
    import structlog

    saved = structlog.get_config()
    c.callback(lambda: structlog.configure(**saved))
    return io.StringIO()


def _real_app(buffer: io.StringIO) -> Any:
    """``create_app(settings)``, logging JSON lines into ``buffer``."""
    import structlog

    from course_app.main import create_app

    app = create_app(_settings())  # configures logging for these settings...
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))  # ...here
    return app


def _log_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    lines = []
    for line in buffer.getvalue().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def _answer(response: Any) -> tuple[int, Any]:
    """(status, JSON body or the text) of a response."""
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:120]


def _envelope(code: str, message: str, details: Any, request_id: Any) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "details": details, "request_id": request_id}
    }


def _is_class(value: Any) -> bool:
    return isinstance(value, type)


# --- 4.1 ---------------------------------------------------------------------------------
@exercise("4.1", "ServiceUnavailableError: a 503 in the hierarchy, rendered by the real app")
def _check_4_1(c: Checker, error_class: Any) -> None:
    from course_app.core.errors import AppError

    if error_class is None:
        raise NotImplementedError(
            "ServiceUnavailableError is still None: write the class in the cell above"
        )
    if not c.that(
        "ServiceUnavailableError is a class derived from course_app's AppError",
        lambda: error_class,
        lambda cls: _is_class(cls) and issubclass(cls, AppError),
        expected="a subclass of course_app.core.errors.AppError",
        hint="Write `class ServiceUnavailableError(AppError):` — only AppError subclasses "
        "reach app_error_handler; anything else is an unhandled 500.",
        show=lambda cls: f"{cls!r} (bases: {getattr(cls, '__mro__', ())[1:2]})",
    ):
        return
    c.equal(
        "the class says 503 and SERVICE_UNAVAILABLE (class attributes)",
        lambda: (error_class.status_code, error_class.code),
        (503, "SERVICE_UNAVAILABLE"),
        hint="Set `status_code = status.HTTP_503_SERVICE_UNAVAILABLE` and "
        '`code = "SERVICE_UNAVAILABLE"` in the class body, as RateLimitError does.',
    )
    built, error = c.run(
        "ServiceUnavailableError('payments', 30) can be built",
        lambda: error_class("payments", 30),
        expected="an instance",
        hint="The constructor takes (service, retry_after) and calls "
        "super().__init__(message, details=..., headers=...).",
    )
    if not built:
        return
    c.equal(
        "details name the service and the delay",
        lambda: error.details,
        {"service": "payments", "retry_after": 30},
        hint="Pass details={'service': service, 'retry_after': retry_after} to AppError.",
    )
    c.equal(
        "headers carry Retry-After as a string",
        lambda: error.headers,
        {"Retry-After": "30"},
        hint="HTTP header values are text: headers={'Retry-After': str(retry_after)}.",
    )
    c.that(
        "the message names the service",
        lambda: error.message,
        lambda message: isinstance(message, str) and "payments" in message,
        expected="a sentence containing 'payments'",
        hint="Build the message from the service name, e.g. "
        "f'The {service} service is unavailable; retry in {retry_after} seconds'.",
    )
    _check_4_1_http(c, error_class)


def _check_4_1_http(c: Checker, error_class: Any) -> None:
    buffer = _capture_logs(c)
    app = _real_app(buffer)

    @app.get("/lab/checkout/{service}")
    async def checkout(service: str, retry_after: int = 30) -> None:
        raise error_class(service, retry_after)

    client = c.client(app)

    def answer(path: str) -> tuple[int, Any, Any, Any]:
        response = client.get(path)
        request_id = response.headers.get("x-request-id")
        status_code, body = _answer(response)
        return status_code, body, response.headers.get("retry-after"), request_id

    ok, answered = c.run(
        "GET a route that raises ServiceUnavailableError('payments', 30) gets an answer",
        lambda: answer("/lab/checkout/payments"),
        expected="a response",
        show=lambda got: f"status {got[0]}",
    )
    if not ok:
        return
    status_code, body, retry_after, request_id = answered
    message = error_class("payments", 30).message
    c.equal(
        "the real app answers 503 with the envelope, the details and the request id",
        (status_code, body),
        (
            503,
            _envelope(
                "SERVICE_UNAVAILABLE",
                message,
                {"service": "payments", "retry_after": 30},
                request_id,
            ),
        ),
        hint="A 500 INTERNAL_ERROR means the error did not reach app_error_handler "
        "(wrong base class) or the handler crashed on a header value that is not a str.",
    )
    c.equal(
        "the response has the header Retry-After: 30",
        retry_after,
        "30",
        hint="app_error_handler copies error.headers to the response: set headers.",
    )
    c.equal(
        "another service and delay: Retry-After follows the arguments",
        lambda: answer("/lab/checkout/search?retry_after=5")[2],
        "5",
        hint="Build the header from retry_after; do not hard-code 30.",
    )


# --- 4.2 ---------------------------------------------------------------------------------
TODAY = date(2026, 4, 1)


@dataclass
class _Voucher:
    code: str
    percent_off: int
    expires_on: date
    max_uses: int
    uses: int = 0


def _vouchers() -> dict[str, _Voucher]:
    return {
        "SPRING": _Voucher("SPRING", 10, TODAY + timedelta(days=30), max_uses=3),
        "LASTDAY": _Voucher("LASTDAY", 15, TODAY, max_uses=3),
        "WINTER": _Voucher("WINTER", 20, date(2026, 3, 31), max_uses=3),
        "FULL": _Voucher("FULL", 5, TODAY + timedelta(days=30), max_uses=3, uses=3),
        "OLDFULL": _Voucher("OLDFULL", 5, date(2026, 3, 31), max_uses=1, uses=1),
    }


def _raised(action: Callable[[], Any]) -> Any:
    """The exception ``action`` raises, or a note of what it returned (never raises)."""
    try:
        value = action()
    except NotImplementedError:
        raise
    except Exception as exc:
        return exc
    return f"no exception (returned {value!r})"


def _describe_error(exc: Any) -> str:
    if not isinstance(exc, BaseException):
        return str(exc)
    fields = {
        name: getattr(exc, name)
        for name in ("status_code", "code", "details", "detail")
        if hasattr(exc, name)
    }
    return f"{type(exc).__name__} {fields}"


@exercise("4.2", "redeem(): a service that raises domain errors")
def _check_4_2(c: Checker, redeem: Any) -> None:
    from course_app.core.errors import AppError, ConflictError, NotFoundError

    if redeem is None:
        raise NotImplementedError("redeem is still None: write the classes and the function")
    store = _vouchers()
    ok, _ = c.run(
        "a valid voucher is redeemed: returned, with uses 0 -> 1",
        lambda: redeem(store, "SPRING", TODAY),
        accept=lambda v: v is store["SPRING"] and v.uses == 1,
        expected="the SPRING voucher, uses == 1",
        hint="Look the code up, check it, add 1 to voucher.uses and return the voucher.",
        show=lambda v: f"{v!r}",
    )
    if not ok:
        return
    c.equal(
        "a voucher is still valid on its expires_on day",
        lambda: redeem(store, "LASTDAY", TODAY).uses,
        1,
        hint="Expired means expires_on < today; on the day itself it still works.",
    )

    def error_of(code: str) -> Any:
        return _raised(lambda: redeem(store, code, TODAY))

    domain_hint = (
        "Raise course_app errors (AppError subclasses), never HTTPException: the service "
        "must work without HTTP, and the global handler renders the envelope."
    )
    c.that(
        "an unknown code raises NotFoundError('Voucher', code)",
        lambda: error_of("NOPE"),
        lambda exc: (
            isinstance(exc, NotFoundError)
            and exc.details == {"resource": "Voucher", "identifier": "NOPE"}
        ),
        expected="NotFoundError {'status_code': 404, 'code': 'NOT_FOUND', "
        "'details': {'resource': 'Voucher', 'identifier': 'NOPE'}}",
        hint=domain_hint + " Use NotFoundError('Voucher', code).",
        show=_describe_error,
    )
    c.that(
        "an expired voucher raises a ConflictError with code VOUCHER_EXPIRED and details",
        lambda: error_of("WINTER"),
        lambda exc: (
            isinstance(exc, ConflictError)
            and (exc.status_code, exc.code) == (409, "VOUCHER_EXPIRED")
            and exc.details == {"voucher": "WINTER", "expired_on": "2026-03-31"}
            and "WINTER" in exc.message
        ),
        expected="ConflictError subclass {'status_code': 409, 'code': 'VOUCHER_EXPIRED', "
        "'details': {'voucher': 'WINTER', 'expired_on': '2026-03-31'}}, message naming WINTER",
        hint=domain_hint + " Subclass ConflictError, set code = 'VOUCHER_EXPIRED', and "
        "pass the date as expires_on.isoformat().",
        show=_describe_error,
    )
    c.that(
        "a used-up voucher raises a ConflictError with code VOUCHER_USED_UP and details",
        lambda: error_of("FULL"),
        lambda exc: (
            isinstance(exc, ConflictError)
            and (exc.status_code, exc.code) == (409, "VOUCHER_USED_UP")
            and exc.details == {"voucher": "FULL", "max_uses": 3}
            and "FULL" in exc.message
        ),
        expected="ConflictError subclass {'status_code': 409, 'code': 'VOUCHER_USED_UP', "
        "'details': {'voucher': 'FULL', 'max_uses': 3}}, message naming FULL",
        hint=domain_hint + " A voucher is used up when uses >= max_uses.",
        show=_describe_error,
    )
    c.equal(
        "expired and used up: reported as expired (checked first)",
        lambda: getattr(error_of("OLDFULL"), "code", None),
        "VOUCHER_EXPIRED",
        hint="Check existence, then expiry, then uses.",
    )
    c.equal(
        "failed redemptions change nothing (uses of WINTER, FULL, OLDFULL)",
        lambda: (store["WINTER"].uses, store["FULL"].uses, store["OLDFULL"].uses),
        (0, 3, 1),
        hint="Raise before touching voucher.uses; add 1 only once every check passed.",
    )
    c.that(
        "every failure is an AppError (so the global handler answers it)",
        lambda: [error_of(code) for code in ("NOPE", "WINTER", "FULL")],
        lambda errors: all(isinstance(exc, AppError) for exc in errors),
        expected="three AppError instances",
        hint=domain_hint,
        show=lambda errors: ", ".join(type(e).__name__ for e in errors),
    )
    _check_4_2_http(c, redeem)


def _check_4_2_http(c: Checker, redeem: Any) -> None:
    buffer = _capture_logs(c)
    app = _real_app(buffer)
    store = _vouchers()

    @app.post("/lab/vouchers/{code}/redeem")
    async def redeem_route(code: str) -> dict[str, Any]:
        voucher = redeem(store, code, TODAY)
        return {"code": voucher.code, "uses": voucher.uses}

    client = c.client(app)

    def call(code: str) -> tuple[int, Any]:
        response = client.post(f"/lab/vouchers/{code}/redeem")
        status_code, body = _answer(response)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            body = {k: v for k, v in body["error"].items() if k in ("code", "details")}
        return status_code, body

    c.equal(
        "behind the real app, the four outcomes have the right status and envelope",
        lambda: [call(code) for code in ("SPRING", "NOPE", "WINTER", "FULL")],
        [
            (200, {"code": "SPRING", "uses": 1}),
            (404, {"code": "NOT_FOUND", "details": {"resource": "Voucher", "identifier": "NOPE"}}),
            (
                409,
                {
                    "code": "VOUCHER_EXPIRED",
                    "details": {"voucher": "WINTER", "expired_on": "2026-03-31"},
                },
            ),
            (409, {"code": "VOUCHER_USED_UP", "details": {"voucher": "FULL", "max_uses": 3}}),
        ],
        hint="Through the global handlers an HTTPException can only say NOT_FOUND or "
        "CONFLICT, with empty details; a domain error carries its own code and details.",
    )


# --- 4.3 ---------------------------------------------------------------------------------
UPSTREAM = "payments.internal:8443"


@exercise("4.3", "install_timeout_handler(): 504 for upstream time-outs on the real app")
def _check_4_3(c: Checker, install: Any) -> None:
    from course_app.core.errors import NotFoundError

    buffer = _capture_logs(c)
    app = _real_app(buffer)
    ok, _ = c.run(
        "install_timeout_handler(app) runs on a create_app(...) app",
        lambda: install(app),
        hint="Register the handler with app.add_exception_handler(TimeoutError, handler).",
        show=lambda _: "returned",
    )
    if not ok:
        return

    @app.get("/lab/pay")
    async def pay() -> None:
        raise TimeoutError(f"connect to {UPSTREAM} timed out after 5.0 s")

    @app.get("/lab/slow")
    async def slow() -> None:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)

    @app.get("/lab/bug")
    async def bug() -> None:
        raise RuntimeError("a bug of ours")

    @app.get("/lab/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(f"connect to {UPSTREAM} refused")

    @app.get("/lab/missing")
    async def missing() -> None:
        raise NotFoundError("Invoice", 7)

    client = c.client(app)
    ok, response = c.run(
        "GET a route that raises TimeoutError gets an answer",
        lambda: client.get("/lab/pay"),
        expected="a response",
        show=lambda got: f"status {got.status_code}",
    )
    if not ok:
        return
    request_id = response.headers.get("x-request-id")
    status_code, body = _answer(response)
    if not c.equal(
        "a TimeoutError answers 504",
        status_code,
        504,
        hint="A 500 means your handler is not registered for TimeoutError (or it raised: "
        "run it by hand); use status.HTTP_504_GATEWAY_TIMEOUT.",
    ):
        return
    _check_504_body(c, body)
    _check_timeout_log(c, buffer, request_id)
    c.equal(
        "a time-out from asyncio.timeout(...) answers 504 UPSTREAM_TIMEOUT too",
        lambda: _code_of(client.get("/lab/slow")),
        (504, "UPSTREAM_TIMEOUT"),
        hint="asyncio.timeout raises TimeoutError itself: one handler covers both.",
    )
    others_hint = (
        "Register the handler for TimeoutError only: not Exception, not OSError "
        "(ConnectionRefusedError is an OSError but not a time-out)."
    )
    c.equal(
        "other failures keep their answers: RuntimeError, ConnectionRefusedError, NotFoundError",
        lambda: [_code_of(client.get(p)) for p in ("/lab/bug", "/lab/refused", "/lab/missing")],
        [(500, "INTERNAL_ERROR"), (500, "INTERNAL_ERROR"), (404, "NOT_FOUND")],
        hint=others_hint,
    )


def _code_of(response: Any) -> tuple[int, Any]:
    status_code, body = _answer(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return status_code, body["error"].get("code")
    return status_code, body


def _check_504_body(c: Checker, body: Any) -> None:
    error = body.get("error") if isinstance(body, dict) else None
    c.that(
        "the body is the envelope: code UPSTREAM_TIMEOUT, details {}, the request id",
        body,
        lambda _: (
            isinstance(error, dict)
            and set(body) == {"error"}
            and set(error) == ENVELOPE_KEYS
            and error["code"] == "UPSTREAM_TIMEOUT"
            and error["details"] == {}
            and isinstance(error["request_id"], str)
            and bool(error["request_id"])
        ),
        expected="{'error': {'code': 'UPSTREAM_TIMEOUT', 'message': ..., 'details': {}, "
        "'request_id': <the id of the request>}}",
        hint="Build the response with error_response(request, 504, 'UPSTREAM_TIMEOUT', "
        "message): it writes the envelope and reads the request id for you.",
    )
    c.that(
        "the message is generic: no internal host or port reaches the client",
        body,
        lambda _: (
            isinstance(error, dict)
            and isinstance(error.get("message"), str)
            and bool(error["message"])
            and "payments.internal" not in json.dumps(body)
            and "8443" not in json.dumps(body)
        ),
        expected="a fixed, non-empty message without 'payments.internal' or '8443'",
        hint="Never put str(exc) in a response (rule 6): write a fixed message and send "
        "the exception's text to the log instead.",
    )


def _check_timeout_log(c: Checker, buffer: io.StringIO, request_id: Any) -> None:
    def lines_of_request() -> list[dict[str, Any]]:
        return [
            line
            for line in _log_lines(buffer)
            if line.get("request_id") == request_id and line.get("event") != "request"
        ]

    c.that(
        "one warning line with the request id and the exception's text is logged",
        lines_of_request,
        lambda lines: any(
            line.get("level") == "warning" and UPSTREAM in json.dumps(line) for line in lines
        ),
        expected=f"a log line with level 'warning', request_id {request_id!r} and "
        f"'{UPSTREAM}' in it",
        hint="In the handler call log.warning('upstream_timeout', error=str(exc)) with the "
        "logger of the cell (structlog adds the request id of the current request).",
        show=lambda lines: (
            repr([{k: line.get(k) for k in ("event", "level", "error")} for line in lines])
            if lines
            else "no log line for this request (besides the access line)"
        ),
    )


# --- 4.4 ---------------------------------------------------------------------------------
RID = "0123456789abcdef0123456789abcdef"
GENERIC = "An internal error occurred. Quote the request id when reporting it."


def _response(
    status_code: int,
    body: Any = None,
    *,
    text: str | None = None,
    request_id: str | None = RID,
    content_type: str | None = None,
) -> Any:
    import httpx

    headers = {"x-request-id": request_id} if request_id is not None else {}
    if text is not None:
        headers["content-type"] = content_type or "text/plain; charset=utf-8"
        return httpx.Response(status_code, content=text.encode(), headers=headers)
    return httpx.Response(status_code, json=body, headers=headers)


def _good(code: str = "NOT_FOUND", **overrides: Any) -> dict[str, Any]:
    error = {"code": code, "message": "Voucher not found: X", "details": {}, "request_id": RID}
    error.update(overrides)
    return {"error": error}


@exercise("4.4", "assert_error_envelope(): a sad-path test helper")
def _check_4_4(c: Checker, helper: Any) -> None:
    good = _good(details={"resource": "Voucher", "identifier": "X"})
    if not c.equal(
        "a correct envelope passes and the error object is returned",
        lambda: helper(_response(404, good), 404, "NOT_FOUND"),
        good["error"],
        hint="When every rule holds, return body['error'].",
    ):
        return
    c.equal(
        "a correct 500 envelope (generic message) passes",
        lambda: helper(
            _response(500, _good("INTERNAL_ERROR", message=GENERIC)), 500, "INTERNAL_ERROR"
        )["code"],
        "INTERNAL_ERROR",
        hint="A 5xx envelope without a traceback is valid.",
    )
    bad_cases: list[tuple[str, Any, int, str, str]] = [
        (
            "the status differs",
            _response(409, _good()),
            404,
            "NOT_FOUND",
            "Compare response.status_code with status_code first.",
        ),
        (
            "FastAPI's default body {'detail': 'Not Found'}",
            _response(404, {"detail": "Not Found"}),
            404,
            "NOT_FOUND",
            "Check the keys with assert before indexing: body['error'] on a body without it "
            "raises KeyError, and a test helper must fail with AssertionError.",
        ),
        (
            "a text/plain 500 'Internal Server Error'",
            _response(500, text="Internal Server Error", request_id=None),
            500,
            "INTERNAL_ERROR",
            "Check the content-type, and turn a JSON decoding error into AssertionError "
            "(try/except ValueError around response.json()).",
        ),
        (
            "a JSON content-type with a body that is not JSON",
            _response(502, text="<html>Bad gateway</html>", content_type="application/json"),
            502,
            "BAD_GATEWAY",
            "response.json() raises ValueError here: catch it and raise AssertionError.",
        ),
        (
            "an extra top-level key next to 'error'",
            _response(404, {**_good(), "detail": "Not Found"}),
            404,
            "NOT_FOUND",
            "The body has exactly one key: set(body) == {'error'}.",
        ),
        (
            "the error object has no request_id key",
            _response(404, {"error": {"code": "NOT_FOUND", "message": "m", "details": {}}}),
            404,
            "NOT_FOUND",
            "The error object has exactly the keys code, message, details, request_id.",
        ),
        (
            "the error object has an extra 'traceback' key",
            _response(404, _good(traceback="File app.py, line 1")),
            404,
            "NOT_FOUND",
            "Compare the set of keys for equality, not as a subset.",
        ),
        (
            "the code differs",
            _response(404, _good("USER_NOT_FOUND")),
            404,
            "NOT_FOUND",
            "Compare error['code'] with the code argument.",
        ),
        (
            "the message is empty",
            _response(404, _good(message="")),
            404,
            "NOT_FOUND",
            "A message is a non-empty string.",
        ),
        (
            "details is a list, not an object",
            _response(404, _good(details=[])),
            404,
            "NOT_FOUND",
            "details is always a dict, even when empty.",
        ),
        (
            "request_id does not match the X-Request-ID header",
            _response(404, _good(request_id="f" * 32)),
            404,
            "NOT_FOUND",
            "Compare error['request_id'] with response.headers.get('x-request-id').",
        ),
        (
            "request_id is null and there is no X-Request-ID header",
            _response(404, _good(request_id=None), request_id=None),
            404,
            "NOT_FOUND",
            "request_id must be a non-empty string (None == None is not enough).",
        ),
        (
            "a 500 whose body carries a traceback",
            _response(
                500,
                _good("INTERNAL_ERROR", message="Traceback (most recent call last): File app.py"),
            ),
            500,
            "INTERNAL_ERROR",
            "For status_code >= 500, assert 'Traceback' not in response.text.",
        ),
    ]
    for name, response, status_code, code, hint in bad_cases:
        c.raises(
            f"rejected with AssertionError: {name}",
            lambda response=response, status_code=status_code, code=code: helper(
                response, status_code, code
            ),
            AssertionError,
            hint=hint,
        )
    _check_4_4_real(c, helper)


def _check_4_4_real(c: Checker, helper: Any) -> None:
    buffer = _capture_logs(c)
    client = c.client(_real_app(buffer))
    c.equal(
        "real answers of the course app pass: 404, 405, 422",
        lambda: [
            helper(client.get("/no-such-page"), 404, "NOT_FOUND")["code"],
            helper(client.delete("/health"), 405, "METHOD_NOT_ALLOWED")["code"],
            helper(client.post("/api/users", json={}), 422, "VALIDATION_ERROR")["code"],
        ],
        ["NOT_FOUND", "METHOD_NOT_ALLOWED", "VALIDATION_ERROR"],
        hint="The course app's envelopes are correct: a rule of yours is too strict. Read "
        "the header case-insensitively: response.headers.get('x-request-id').",
    )
    c.raises(
        "a real 404 checked against the wrong code is rejected",
        lambda: helper(client.get("/no-such-page"), 404, "VALIDATION_ERROR"),
        AssertionError,
        hint="Compare error['code'] with the code argument.",
    )
