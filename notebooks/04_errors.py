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
# # 04 · Errors: one hierarchy, one envelope, no leaks
#
# A client should be able to handle *every* failure of the API with one piece of code, and
# an operator should be able to find the cause of every 500 in one search. This lesson
# builds both from `course_app.core.errors`.
#
# **Objectives.** After this lesson you can
#
# - run the seed's error hierarchy and name what it gets right and what it misses;
# - show why `HTTPException(404)` scattered through routers gives clients a different body
#   for every kind of failure, and replace it with domain errors;
# - give app errors, validation errors, routing errors (404/405) and unhandled exceptions
#   the same envelope `{"error": {"code", "message", "details", "request_id"}}`;
# - answer a 500 that reveals nothing, and find its traceback in the log by request id;
# - apply the six error-handling rules, each one demonstrated below;
# - use the current Starlette status constants (`HTTP_422_UNPROCESSABLE_CONTENT`).
#
# **Time estimate:** about 40 minutes (lesson) + 35 minutes (lab `exercises/04_errors.ipynb`).
#
# **Prerequisites:** lesson 01 (the app factory and its layers), lesson 02 (settings),
# lesson 03 (request schemas and the 422 they produce).

# %% [markdown]
# ## Set-up: an app whose log lines we can read
#
# Rule 4 below says "log the traceback, never send it". To *show* that, the lesson must
# read the app's log. `course_app` logs with structlog; we configure it the way production
# does (`log_json=True`: one JSON object per line) and point its output at a buffer instead
# of stderr. Everything else is the real configuration.

# %%
import io
import json
import tempfile
from typing import Any

import structlog

from course_app.config import load_settings
from course_app.core.logging import configure_logging

workdir = tempfile.TemporaryDirectory(prefix="lesson04-")
settings = load_settings(
    environment="test",
    app_name="Lesson 04 Shop",
    database_url=f"sqlite+aiosqlite:///{workdir.name}/shop.db",
    log_json=True,
    login_rate_limit=2,  # so that the third failed login in a minute is a 429 (rule 5)
)
LOG = io.StringIO()


def capture_logs() -> None:
    """Keep the app's processors (JSON, timestamps, request ids); write lines to LOG."""
    configure_logging(settings)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=LOG))


def log_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in LOG.getvalue().splitlines() if line.strip()]


capture_logs()

# %% [markdown]
# ## 1. The seed's error hierarchy, run as published
#
# The method this course started from gets the big idea right: a base `AppError` that
# carries an HTTP status, a machine-readable `code`, a human `message` and `details`, one
# subclass per kind of failure, and one handler that renders them all. Its first lines
# import the status constants — and current Starlette objects to one of them:

# %%
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from starlette.status import (
        HTTP_400_BAD_REQUEST,
        HTTP_401_UNAUTHORIZED,
        HTTP_403_FORBIDDEN,
        HTTP_404_NOT_FOUND,
        HTTP_409_CONFLICT,
        HTTP_422_UNPROCESSABLE_ENTITY,
        HTTP_429_TOO_MANY_REQUESTS,
        HTTP_500_INTERNAL_SERVER_ERROR,
    )

for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
print("a UserWarning, shown by default:", issubclass(caught[0].category, UserWarning))

# %% [markdown]
# RFC 9110 renamed 422 "Unprocessable Entity" to "Unprocessable *Content*" (and 413 to
# "Content Too Large"); Starlette followed, and keeps the old names only as deprecated
# aliases with the same value. The course uses the new names everywhere (section 8). Here
# is the rest of the seed's code, unchanged apart from formatting:

# %%
from fastapi import Request
from fastapi.responses import JSONResponse


class AppError(Exception):
    """Base application error."""

    def __init__(self, message: str, code: str, status_code: int = HTTP_500_INTERNAL_SERVER_ERROR,
                 details: dict | None = None):
        self.message = message
        self.code = code
        self.status_code = status_code
        self.details = details or {}
        super().__init__(message)


class NotFoundError(AppError):
    def __init__(self, resource: str, identifier: str | int):
        super().__init__(message=f"{resource} not found: {identifier}", code="NOT_FOUND",
                         status_code=HTTP_404_NOT_FOUND,
                         details={"resource": resource, "identifier": str(identifier)})


class ConflictError(AppError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message=message, code="CONFLICT", status_code=HTTP_409_CONFLICT,
                         details={"field": field} if field else {})

# %%
class AuthenticationError(AppError):
    def __init__(self, message: str = "Invalid credentials"):
        super().__init__(message=message, code="UNAUTHORIZED", status_code=HTTP_401_UNAUTHORIZED)


class AuthorizationError(AppError):
    def __init__(self, message: str = "Insufficient permissions"):
        super().__init__(message=message, code="FORBIDDEN", status_code=HTTP_403_FORBIDDEN)


class ValidationError(AppError):
    def __init__(self, message: str, errors: list[dict] | None = None):
        super().__init__(message=message, code="VALIDATION_ERROR",
                         status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                         details={"errors": errors or []})


class RateLimitError(AppError):
    def __init__(self, retry_after: int = 60):
        super().__init__(message="Rate limit exceeded", code="RATE_LIMITED",
                         status_code=HTTP_429_TOO_MANY_REQUESTS,
                         details={"retry_after": retry_after})


async def app_error_handler(request: Request, exc: AppError) -> JSONResponse:
    return JSONResponse(status_code=exc.status_code, content={
        "error": {"code": exc.code, "message": exc.message, "details": exc.details}})

# %% [markdown]
# One small trap before we run it: the seed names a class `ValidationError`, the name of
# Pydantic's own exception. In any module that imports both, one silently shadows the
# other, and `except ValidationError:` around a `model_validate(...)` stops catching what
# it was written for:

# %%
import pydantic

print("our ValidationError is Pydantic's:", ValidationError is pydantic.ValidationError)
try:
    try:
        pydantic.TypeAdapter(int).validate_python("not a number")
    except ValidationError:
        print("caught")
except pydantic.ValidationError as exc:
    print("not caught by `except ValidationError`, escaped as", type(exc).__module__)

# %% [markdown]
# `course_app` has no class of that name: request validation is FastAPI's
# `RequestValidationError`, and a domain rule that fails on one field raises an `AppError`
# with the same `details.errors` shape (section 7, rule 5).
#
# ## 2. A seed-style app: one handler, many body shapes
#
# Now a small app written the way many code bases really look. It registers the seed's
# handler, and its routers use whatever was at hand: the seed's `NotFoundError` in one
# place, `HTTPException(404)` in two others (one with a dict as `detail`), a hand-built
# `JSONResponse` in a fourth. Then the errors nobody raises by hand: a body that fails
# validation, an unknown path, a wrong method, and a bug.

# %%
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field


class SignUp(BaseModel):
    email: str
    password: str = Field(min_length=8)


seed_app = FastAPI()
seed_app.add_exception_handler(AppError, app_error_handler)


@seed_app.get("/users/{user_id}")
async def get_user(user_id: int) -> dict[str, Any]:
    raise NotFoundError("User", user_id)


@seed_app.get("/orders/{order_id}")
async def get_order(order_id: int) -> dict[str, Any]:
    raise HTTPException(404, "Order not found")


@seed_app.get("/products/{product_id}")
async def get_product(product_id: int) -> dict[str, Any]:
    raise HTTPException(status_code=404, detail={"msg": "no product", "id": product_id})


@seed_app.get("/coupons/{code}")
async def get_coupon(code: str) -> JSONResponse:
    return JSONResponse(status_code=404, content={"error": "Coupon not found"})

# %%
@seed_app.post("/users")
async def sign_up(body: SignUp) -> dict[str, str]:
    return {"email": body.email}


@seed_app.get("/reports/daily")
async def daily_report() -> dict[str, float]:
    totals: dict[str, float] = {}
    return {"revenue": totals["revenue"]}  # a bug: KeyError


SEED_REQUESTS = [
    ("GET", "/users/7", None),
    ("GET", "/orders/7", None),
    ("GET", "/products/7", None),
    ("GET", "/coupons/SPRING", None),
    ("POST", "/users", {"email": "ada@example.com", "password": "hunter2"}),
    ("GET", "/no-such-page", None),
    ("DELETE", "/users/7", None),
    ("GET", "/reports/daily", None),
]

# %% [markdown]
# `raise_server_exceptions=False` makes the test client behave like a real server for the
# bug: it returns the 500 response instead of re-raising the exception into our cell.

# %%
from fastapi.testclient import TestClient


def shape(body: object, depth: int = 2) -> str:
    """The structure of a body's first two levels, values left out: what a client's
    parser depends on (deeper, e.g. inside ``details``, content varies by error)."""
    if isinstance(body, dict) and depth:
        inner = ", ".join(f"{key}: {shape(value, depth - 1)}" for key, value in body.items())
        return "{" + inner + "}"
    if isinstance(body, list) and depth:
        return "[" + (shape(body[0], depth - 1) if body else "") + "]"
    return type(body).__name__


def body_of(response: Any) -> object:
    is_json = response.headers.get("content-type", "").startswith("application/json")
    return response.json() if is_json else response.text


with TestClient(seed_app, raise_server_exceptions=False) as client:
    seed_answers = [(m, p, client.request(m, p, json=b)) for m, p, b in SEED_REQUESTS]

for method, path, response in seed_answers:
    print(f"{method:6} {path:16} {response.status_code}  {str(body_of(response))[:92]}")

# %% [markdown]
# Eight failures, and the client sees these structures:

# %%
seed_shapes = {shape(body_of(response)) for _, _, response in seed_answers}
for item in sorted(seed_shapes):
    print(" ", item[:110])
print(f"{len(seed_shapes)} different body shapes for {len(seed_answers)} failures")
assert len(seed_shapes) > 3

# %% [markdown]
# A client that wants to show "what went wrong" must now know that the message is in
# `error.message` on one endpoint, `detail` (a string) on another, `detail.msg` on a
# third, `error` (a string) on a fourth, a list of `detail[*].msg` on validation, and
# that a 500 is not JSON at all. The handler for `AppError` was registered "globally",
# but only the errors that *are* `AppError`s reach it. And none of the bodies says which
# request it was, so a user's bug report cannot be matched with a log line.
#
# Note also what the 422 sent back: FastAPI's default validation body echoes the
# rejected `input`. For a password field, that is the password (rule 6, section 7).
#
# ## 3. `course_app`'s hierarchy
#
# `course_app.core.errors` keeps the seed's idea and changes how it is built. Every
# feature adds its own subclasses in `features/<domain>/exceptions.py`. We import them all
# and print the tree, with each class's status and code:

# %%
import importlib
import importlib.util
import pkgutil

import course_app.features
from course_app.core import errors

for feature in pkgutil.iter_modules(course_app.features.__path__):
    with_errors = importlib.util.find_spec(f"course_app.features.{feature.name}.exceptions")
    if with_errors is not None:
        importlib.import_module(with_errors.name)


def print_tree(cls: type[errors.AppError], depth: int = 0) -> None:
    where = cls.__module__.replace("course_app.", "")
    print(f"{'    ' * depth}{cls.__name__:<{36 - 4 * depth}} {cls.status_code}  "
          f"{cls.code:<24} {where}")
    for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
        print_tree(sub, depth + 1)


print_tree(errors.AppError)

# %% [markdown]
# What changed from the seed, and why:
#
# | | seed | `course_app` |
# |---|---|---|
# | status and code | constructor arguments | **class attributes**: a subclass that only needs another `code` (`OutOfStockError`, 409 `OUT_OF_STOCK`) sets one line |
# | headers | none | `headers`: `WWW-Authenticate: Bearer` on 401, `Retry-After` on 429 |
# | constructor | `(message, code, status_code, details)` | `(message, *, details, headers)`; subclasses take domain arguments: `OrderNotFoundError(order_id)` |
# | validation | its own `ValidationError` (name clash) | FastAPI's `RequestValidationError`, rendered by a handler; field rules in the same shape |
# | envelope | `code`, `message`, `details` | the same plus `request_id`, and a Pydantic model `ErrorResponse` that documents it in OpenAPI |
#
# An error is a plain Python object; what the handler will send is already decided:

# %%
from course_app.features.orders.exceptions import InvalidTransitionError, OutOfStockError
from course_app.features.orders.models import OrderStatus

samples = [
    errors.NotFoundError("Product", 42),
    OutOfStockError(product_id=7, requested=3, available=1),
    InvalidTransitionError(OrderStatus.SHIPPED, OrderStatus.PENDING),
    errors.AuthenticationError(),
    errors.RateLimitError(retry_after=30),
]
for error in samples:
    print(f"{type(error).__name__:23} {error.status_code} {error.code:18} {error.message!r}")
    print(f"{'':23} details={error.details} headers={error.headers}")

# %% [markdown]
# ## 4. The handlers: four registrations cover every failure
#
# `install_error_handlers(app)` registers four handlers. Each one builds the same
# `ErrorResponse` through `error_response(...)`, which also adds the request id:

# %%
import inspect

print(inspect.getsource(errors.install_error_handlers))

# %% [markdown]
# How does Starlette pick a handler? It walks the exception's class hierarchy (its MRO)
# from the most specific class up, and takes the first class that has a handler. So
# `OutOfStockError` reaches the `AppError` handler, FastAPI's `HTTPException` reaches the
# handler for Starlette's `HTTPException` (its base class), and anything else falls
# through to `Exception`:

# %%
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

HANDLERS = {
    errors.AppError: errors.app_error_handler,
    StarletteHTTPException: errors.http_error_handler,
    RequestValidationError: errors.validation_error_handler,
    Exception: errors.unhandled_error_handler,
}


def handler_for(exc: BaseException) -> str:
    cls = next(c for c in type(exc).__mro__ if c in HANDLERS)
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return f"{name:45} -> {HANDLERS[cls].__name__}"


for exc in [OutOfStockError(7, 3, 1), HTTPException(404), StarletteHTTPException(405),
            RequestValidationError([]), KeyError("revenue")]:
    print(handler_for(exc))

# %% [markdown]
# That walk explains a classic mistake. The 404 for an unknown path and the 405 for a
# wrong method are raised by Starlette's router as *Starlette's* `HTTPException`. FastAPI's
# `HTTPException` is a subclass of it, so a handler registered for FastAPI's class never
# sees them:

# %%
def not_found_body(handled: type[Exception]) -> object:
    app = FastAPI()
    app.add_exception_handler(handled, errors.http_error_handler)
    with TestClient(app) as client:
        return client.get("/no-such-page").json()


print("handler for fastapi.HTTPException:   ", not_found_body(HTTPException))
print("handler for starlette's HTTPException:", not_found_body(StarletteHTTPException))

# %% [markdown]
# ## 5. The lesson-04 app: every kind of failure, one envelope
#
# We assemble the app from the layers so far — settings, logging, lifespan, the error
# handlers, the health, auth, users and products features — plus one layer from lesson 08
# that the envelope needs: `RequestContextMiddleware`, which gives every request an id
# (`request.state.request_id`, the `X-Request-ID` header, every log line of the request).
#
# We also add a deliberately broken report endpoint. It is the kind of bug that reaches
# production: a query against a table that a migration forgot. Its exception message
# contains SQL — exactly what must not reach a client.

# %%
from fastapi import APIRouter
from sqlalchemy import text

from course_app import __version__
from course_app.core.middleware import RequestContextMiddleware
from course_app.dependencies import SessionDep
from course_app.features.auth.router import include_auth
from course_app.features.health.router import include_health
from course_app.features.products.router import include_products
from course_app.features.users.router import include_users
from course_app.main import build_lifespan

reports = APIRouter(prefix="/api/reports", tags=["reports"])


@reports.get("/revenue")
async def revenue(session: SessionDep) -> dict[str, float]:
    query = text("SELECT sum(total) FROM order_totals WHERE day = :day")
    result = await session.execute(query, {"day": "2026-01-31"})
    return {"revenue": result.scalar_one()}

# %%
app = FastAPI(title=settings.app_name, version=__version__, lifespan=build_lifespan(settings))
app.state.settings = settings
errors.install_error_handlers(app)
app.add_middleware(RequestContextMiddleware)
for include in (include_health, include_auth, include_users, include_products):
    include(app)
app.include_router(reports)

print(sorted(app.openapi()["paths"]))

# %% [markdown]
# One request for each kind of failure. The sign-up comes first so that the second one
# can collide with it:

# %%
ADA = {"email": "ada@example.com", "password": "correct horse battery", "full_name": "Ada"}
REQUESTS = [
    ("app error (409)", "POST", "/api/users", ADA),
    ("app error (404)", "GET", "/api/products/42", None),
    ("app error (401)", "GET", "/api/users/me", None),
    ("validation (body)", "POST", "/api/users", {"email": "ada", "password": "hunter2"}),
    ("validation (path)", "GET", "/api/products/abc", None),
    ("routing (404)", "GET", "/no-such-page", None),
    ("routing (405)", "DELETE", "/health", None),
    ("unhandled (500)", "GET", "/api/reports/revenue", None),
]

from contextlib import ExitStack

lesson = ExitStack()  # closed at the end of the lesson
client = lesson.enter_context(TestClient(app, raise_server_exceptions=False))  # lifespan runs
print("sign-up:", client.post("/api/users", json=ADA).status_code)
answers = {kind: client.request(method, path, json=body)
           for kind, method, path, body in REQUESTS}

# %%
for kind, response in answers.items():
    error = response.json()["error"]
    print(f"{kind:18} {response.status_code}  {error['code']:17} {error['message'][:58]}")

course_shapes = {shape(response.json()) for response in answers.values()}
print(f"\n{len(course_shapes)} body shape for {len(answers)} kinds of failure:")
print(" ", *course_shapes)
assert len(course_shapes) == 1 < len(seed_shapes)

# %% [markdown]
# Every failure now has `error.code` (for the client's `switch`), `error.message` (for a
# human), `error.details` (always an object) and `error.request_id`. The whole body of one
# of them:

# %%
print(json.dumps(answers["validation (body)"].json(), indent=2))

# %% [markdown]
# ## 6. Rule 4: the 500 that says nothing, and the log line that says everything
#
# The seed's rule: *5xx returns a generic message, logs the full traceback.* Here is the
# complete body of the broken report endpoint's answer:

# %%
failed = answers["unhandled (500)"]
print(failed.status_code, failed.headers["content-type"])
print(json.dumps(failed.json(), indent=2))

# %% [markdown]
# The message tells the caller what to do (quote the id), nothing about why. The operator
# searches the log for that id and finds the line written by `unhandled_error_handler`
# (plus the access line of the request, which carries the same id):

# %%
request_id = failed.json()["error"]["request_id"]
found = [record for record in log_records() if record.get("request_id") == request_id]
for record in found:
    print({key: value for key, value in record.items() if key not in ("exception", "timestamp")})

crash = next(record for record in found if record["event"] == "unhandled_exception")
trace = crash["exception"].splitlines()
print("\nits exception field:", trace[0], "…")
for line in trace:
    if line.startswith(("sqlalchemy.exc.", "[SQL", "[parameters")):
        print("   ", line)

# %% [markdown]
# The traceback in the log has the file, the line, the SQL and its parameters; the
# response has none of it. Checked, not eyeballed:

# %%
secrets_of_the_crash = ["Traceback", "order_totals", "SELECT", "2026-01-31", ".py", "sqlite3"]
for needle in secrets_of_the_crash:
    in_log, in_response = needle in crash["exception"], needle in failed.text
    print(f"{needle!r:16} in the log: {in_log!s:5}  in the response: {in_response}")
    assert in_log and not in_response

# %% [markdown]
# One detail of how Starlette runs this handler: the `Exception` handler is not called
# by the same layer as the others: it lives in `ServerErrorMiddleware`, the outermost
# layer, which sends our envelope and then **re-raises** the exception, so the server and
# the test client still see it. With the test client's default
# (`raise_server_exceptions=True`) a test fails loudly on a bug instead of asserting on a
# friendly 500:

# %%
with TestClient(app) as strict_client:
    try:
        strict_client.get("/api/reports/revenue")
    except Exception as exc:
        print("the test sees the bug:", type(exc).__name__, str(exc).splitlines()[0])

# %% [markdown]
# ## 7. The six error-handling rules, each one shown
#
# ### Rule 1 — never return bare strings: always the structured envelope
#
# Section 5 measured it: one body shape for every failure. The shape is also *declared*:
# the routers list their error statuses with the `ErrorResponse` model, so the OpenAPI
# document (and every client generated from it) knows the envelope. FastAPI's default
# 422 schema would describe `{"detail": [...]}`, a body this app never sends:

# %%
spec = app.openapi()
for path, method, status_code in [("/api/products/{product_id}", "get", "404"),
                                  ("/api/users", "post", "409"),
                                  ("/api/users", "post", "422")]:
    answer = spec["paths"][path][method]["responses"][status_code]
    print(f"{method.upper():5} {path:27} {status_code}: {answer['content']['application/json']}")
print(sorted(spec["components"]["schemas"]["ErrorBody"]["properties"]))

# %% [markdown]
# ### Rule 2 — domain errors, not `HTTPException(404)`
#
# `HTTPException` is an HTTP object: a status code and a body. Raised in a service, it
# ties business code to one transport. The same service is called from a CLI command, a
# background job, a WebSocket — none of which has a status code — and each would have to
# catch `HTTPException` and look at `.status_code == 404` to know what happened.
# A domain error says *what* happened; the handler alone decides how HTTP spells it.
# Here `UserService`, the one behind `GET /api/users/{id}`, runs with no HTTP at all (say,
# in a nightly job):

# %%
from course_app.core.database import open_database
from course_app.core.rate_limit import MemoryRateLimiter
from course_app.features.users.exceptions import UserNotFoundError
from course_app.features.users.service import UserService

async with open_database(settings) as database, database.sessions() as session:
    service = UserService(session, settings, MemoryRateLimiter())
    print("user 1:", (await service.get_user(1)).email)
    try:
        await service.get_user(999)
    except errors.NotFoundError as exc:  # or, more precisely, UserNotFoundError
        print(f"{type(exc).__name__}: {exc.message}  details={exc.details}")
        print("is a UserNotFoundError:", isinstance(exc, UserNotFoundError))

# %% [markdown]
# And because each error is a class, one `except` can select a whole family
# (`except errors.NotFoundError`), a test asserts the exact class
# (`pytest.raises(UserNotFoundError)`), and an error type is documented in one place, not
# re-typed as `HTTPException(404, "User not found")` with a slightly different message in
# every router.
#
# ### Rule 3 — a global handler catches all
#
# Register the handlers once, in the factory (`create_app` calls `install_error_handlers`);
# never `try/except` in a router to build an error response by hand. Section 4 showed
# that the four registrations reach every failure. The real `create_app()` app has exactly
# these handlers:

# %%
from course_app.main import create_app

full = create_app(settings)
capture_logs()  # create_app configured logging again; keep reading the lines ourselves
for cls, handler in full.exception_handlers.items():
    print(f"{cls.__module__ + '.' + cls.__qualname__:46} -> {handler.__name__}")
assert full.exception_handlers == app.exception_handlers

# %% [markdown]
# The fifth entry is FastAPI's own: a WebSocket that fails validation is closed with a
# policy-violation code (1008), since a WebSocket has no HTTP response to carry an
# envelope.
#
# ### Rule 4 — log server errors, do not expose them
#
# Section 6: a generic message and the request id in the response, the full traceback in
# one JSON log line with the same id.
#
# ### Rule 5 — include actionable details
#
# A client can act on an error only if it says what to fix or when to retry. From the
# requests above, and one more: two wrong passwords are allowed per minute
# (`login_rate_limit=2` in our settings), the third attempt is refused before any password
# is checked.

# %%
invalid = answers["validation (body)"].json()["error"]["details"]["errors"]
for item in invalid:
    print(f"422 {'.'.join(map(str, item['loc'])):18} {item['type']:17} {item['msg']}")
print("409", answers["app error (409)"].json()["error"]["details"])
print("405 Allow:", answers["routing (405)"].headers["allow"])
print("401 WWW-Authenticate:", answers["app error (401)"].headers["www-authenticate"])

wrong = {"email": "ada@example.com", "password": "not the password"}
statuses = [client.post("/api/auth/login", json=wrong).status_code for _ in range(3)]
limited = client.post("/api/auth/login", json=wrong)
retry_after = limited.json()["error"]["details"]["retry_after"]
print("logins:", statuses, "| details.retry_after within the 60 s window:",
      0 < retry_after <= settings.login_rate_window_seconds)
print("Retry-After header = details.retry_after:",
      limited.headers["retry-after"] == str(retry_after))

# %% [markdown]
# The same goes for domain rules. A workflow error names the allowed moves, so a client can
# offer them (`InvalidTransitionError` from section 3, rendered by the real handler):

# %%
print(InvalidTransitionError(OrderStatus.SHIPPED, OrderStatus.PENDING).details)

# %% [markdown]
# ### Rule 6 — never leak internals
#
# No stack traces, SQL, or file paths in responses. Three ways they leak in practice.
#
# **Debug mode.** `FastAPI(debug=True)` makes Starlette render the traceback as the 500
# body, and it wins over any `Exception` handler you registered. That is why `create_app`
# passes `debug=False` whatever the settings say:

# %%
def crash_body(debug: bool) -> str:
    app = FastAPI(debug=debug, lifespan=build_lifespan(settings))
    errors.install_error_handlers(app)
    app.include_router(reports)
    with TestClient(app, raise_server_exceptions=False) as client:
        return client.get("/api/reports/revenue").text


for debug in (True, False):
    body = crash_body(debug)
    leaks = [needle for needle in secrets_of_the_crash if needle in body]
    print(f"debug={debug!s:5} leaks {leaks}")
print("create_app(...).debug:", full.debug)

# %% [markdown]
# **Exception messages.** `str(exc)` is written for developers. The 500 handler never puts
# it in the response; neither should an `AppError` built from one
# (`AppError(str(exc))` would carry the SQL of section 6 straight to the client).
#
# **Echoed input.** FastAPI's default 422 body includes each rejected value as `input`.
# Section 2's seed app sent the password back; `course_app`'s handler keeps only `loc`,
# `msg` and `type`:

# %%
seed_422 = next(r for m, p, r in seed_answers if r.status_code == 422).json()
course_422 = answers["validation (body)"].json()
print("seed app's 422 item:   ", seed_422["detail"][-1])
course_item = next(i for i in course_422["error"]["details"]["errors"] if "password" in i["loc"])
print("course_app's 422 item: ", course_item)
print("password echoed: seed", "hunter2" in json.dumps(seed_422),
      "| course_app", "hunter2" in json.dumps(course_422))

# %% [markdown]
# ## 8. The corrected status constants
#
# Section 1 showed the warning. The fix is the new name, with the same value; `course_app`
# uses only the current names, checked here over its whole source:

# %%
from pathlib import Path

from starlette import status

DEPRECATED = ["HTTP_413_REQUEST_ENTITY_TOO_LARGE", "HTTP_422_UNPROCESSABLE_ENTITY"]
print(status.HTTP_422_UNPROCESSABLE_CONTENT, status.HTTP_413_CONTENT_TOO_LARGE)
sources = sorted(Path(course_app.__file__).parent.rglob("*.py"))
uses = [(path.name, name) for path in sources for name in DEPRECATED
        if name in path.read_text(encoding="utf-8")]
print("deprecated constants anywhere in course_app:", uses or "none")
assert not uses

# %% [markdown]
# A test suite can make sure they never come back: `filterwarnings = ["error::starlette.
# exceptions.StarletteDeprecationWarning"]` in the pytest configuration turns any use into a
# failing test.
#
# Clean up: stop the app (its lifespan closes the database) and remove the temporary
# folder.

# %%
lesson.close()
workdir.cleanup()
print([record["event"] for record in log_records()][-1])

# %% [markdown]
# ## Summary
#
# - One hierarchy: `AppError` with `status_code` and `code` as class attributes, `message`,
#   `details` and `headers`; features add subclasses in their `exceptions.py`.
# - Four handlers, registered once by `install_error_handlers`: `AppError`, Starlette's
#   `HTTPException` (routing 404/405 included — not FastAPI's subclass), FastAPI's
#   `RequestValidationError`, and `Exception`.
# - One envelope, `{"error": {"code", "message", "details", "request_id"}}`, for every
#   failure, declared as `ErrorResponse` in the OpenAPI document. The seed-style app above
#   produced one body shape per way of failing.
# - A 500 answers a fixed message and the request id; the traceback, SQL and paths go to
#   one JSON log line with the same id. `debug=False`, always.
# - Services raise domain errors, never `HTTPException`; they work without HTTP.
# - Actionable details: `loc`/`type` for 422, `field` for 409, `retry_after` and
#   `Retry-After` for 429, `Allow` for 405, allowed transitions for a workflow conflict.
# - `HTTP_422_UNPROCESSABLE_CONTENT`, not the deprecated `HTTP_422_UNPROCESSABLE_ENTITY`.
#
# **Production checklist items covered**
#
# - Structured error responses, no stack traces (seed deployment checklist).
# - Error handling (quality score dimension): a full hierarchy with a global handler.
# - Every 5xx logged with its traceback and the request id; no internals in any response.
#
# **Next:** the lab `exercises/04_errors.ipynb`, then lesson 05 (authentication).
