"""An executable production audit of a FastAPI app: seed 000's quick health check (/16)
and its 0-100 quality score, computed from the app itself instead of a questionnaire.

    from coursekit.audit import audit

    report = audit(create_app(), tests_dir="tests", project_dir=".")
    print(report)                 # score, band, the /16 health check, every finding
    report.failed()               # what to fix, biggest points first

Each check looks at one thing a reviewer would look at: the routes and their OpenAPI
document, the response models, the exception handlers, the middleware stack, the
settings object (secrets, debug, CORS), the health and readiness endpoints (called for
real, with the app's lifespan running), the tests in ``tests_dir`` and the files in
``project_dir``. Every finding says why it passed or failed and how to fix it.

The score follows the seed's table: eight dimensions with weights 15/15/15/15/10/10/10/10.
A dimension's score is the share of its check points that passed; the total is
Σ (dimension score * weight), so adding a check of your own (``extra_checks=``) re-weighs
its dimension instead of inflating the total. Bands: < 40 critical, 40-60 needs work,
60-80 solid, 80+ production-grade.

The audit is static and heuristic: it reads source code and configuration, it does not
prove correctness. A check that cannot look (no source, no settings, no tests folder)
fails and says what it needed, so a missing input never passes silently.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CHECKS",
    "DIMENSIONS",
    "SIGNALS",
    "AuditReport",
    "Check",
    "Context",
    "Endpoint",
    "Finding",
    "audit",
    "audit_check",
    "band",
    "load_app",
    "main",
]

# The seed's quality dimensions and their weights (sum: 100).
DIMENSIONS: dict[str, int] = {
    "Type safety": 15,
    "Error handling": 15,
    "Testing": 15,
    "Security": 15,
    "Performance": 10,
    "Observability": 10,
    "Database": 10,
    "Deployment": 10,
}
# The seed's quick health check: eight signals, 2 points each when every check of the
# signal passes.
SIGNALS: tuple[str, ...] = (
    "Type safety",
    "Error handling",
    "Auth",
    "Testing",
    "Database",
    "Observability",
    "Deployment",
    "Documentation",
)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
LIVENESS_PATHS = ("/health", "/healthz", "/livez", "/health/live")
READINESS_PATHS = ("/ready", "/readyz", "/health/ready", "/readiness")
MAX_PAGE_CAP = 100
PAGE_SIZE_PARAMS = frozenset({"limit", "page_size", "per_page", "size", "page-size"})
SAD_PATH_SHARE = 0.4  # seed 000: "40% of tests should be error cases"
Outcome = tuple[bool, str]


# --- data --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One audit check. ``run(context)`` returns ``(passed, reason)``."""

    id: str
    dimension: str
    points: int
    title: str
    fix: str
    run: Callable[[Context], Outcome]
    signal: str | None = None  # the quick-health-check signal it counts toward

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"{self.id}: dimension must be one of {list(DIMENSIONS)}")
        if self.signal is not None and self.signal not in SIGNALS:
            raise ValueError(f"{self.id}: signal must be one of {list(SIGNALS)}")
        if self.points < 1:
            raise ValueError(f"{self.id}: a check is worth at least 1 point")


@dataclass(frozen=True)
class Finding:
    check_id: str
    title: str
    dimension: str
    passed: bool
    points: int  # earned: max_points when passed, else 0
    max_points: int
    reason: str
    fix: str
    signal: str | None = None


def band(score: float) -> str:
    """The seed's reading of a 0-100 score."""
    if score < 40:
        return "critical"
    if score < 60:
        return "needs work"
    if score < 80:
        return "solid"
    return "production-grade"


@dataclass
class AuditReport:
    title: str
    findings: list[Finding]
    max: int = 100

    @property
    def dimensions(self) -> dict[str, tuple[int, int]]:
        """Points earned and possible per dimension (dimensions with checks only)."""
        table: dict[str, tuple[int, int]] = {}
        for finding in self.findings:
            got, possible = table.get(finding.dimension, (0, 0))
            table[finding.dimension] = (got + finding.points, possible + finding.max_points)
        return {name: table[name] for name in DIMENSIONS if name in table}

    @property
    def score(self) -> int:
        """Σ (dimension score * weight), scaled to the weights of the dimensions audited."""
        scored = {name: parts for name, parts in self.dimensions.items() if parts[1] > 0}
        weights = {name: DIMENSIONS[name] for name in scored}
        if not weights:
            return 0
        total = sum(weights[name] * got / possible for name, (got, possible) in scored.items())
        return round(total * self.max / sum(weights.values()))

    @property
    def band(self) -> str:
        return band(self.score)

    @property
    def health(self) -> dict[str, bool]:
        """The quick health check: a signal is healthy when all its checks pass."""
        signals: dict[str, bool] = {}
        for finding in self.findings:
            if finding.signal is not None:
                signals[finding.signal] = signals.get(finding.signal, True) and finding.passed
        return {name: signals[name] for name in SIGNALS if name in signals}

    @property
    def health_score(self) -> int:
        return 2 * sum(self.health.values())

    def finding(self, check_id: str) -> Finding:
        for finding in self.findings:
            if finding.check_id == check_id:
                return finding
        raise KeyError(check_id)

    def failed(self) -> list[Finding]:
        """Failed findings, the most points first."""
        return sorted((f for f in self.findings if not f.passed), key=lambda f: -f.max_points)

    def summary(self) -> str:
        health = f"{self.health_score}/{2 * len(self.health)}"
        return f"{self.title}: {self.score}/{self.max} ({self.band}), quick health check {health}"

    def table(self, *, only_failed: bool = False, width: int = 100) -> str:
        lines = [self.summary()]
        for name, (got, possible) in self.dimensions.items():
            lines.append(f"  {name:<15} {got:>3}/{possible:<3}")
            for f in self.findings:
                if f.dimension != name or (only_failed and f.passed):
                    continue
                mark = "✓" if f.passed else "✗"
                text = f"    {mark} {f.check_id:<21} {f.points}/{f.max_points}  {f.reason}"
                lines.append(text if len(text) <= width else text[: width - 1] + "…")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


# --- what a check can look at ------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """One HTTP operation of the app, whatever router it came from."""

    path: str
    methods: frozenset[str]
    function: Callable[..., Any]
    route: Any  # the APIRoute (or the context FastAPI wraps an included route in)

    @property
    def name(self) -> str:
        return f"{'/'.join(sorted(self.methods))} {self.path}"

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)

    def source_tree(self) -> ast.AST | None:
        """The endpoint's parsed source, or ``None`` when Python cannot show it."""
        try:
            source = textwrap.dedent(inspect.getsource(self.function))
        except (OSError, TypeError):
            return None
        try:
            return ast.parse(source)
        except SyntaxError:
            return None


@dataclass
class Context:
    """Everything a check may inspect. Expensive views are computed once, on demand."""

    app: Any
    settings: Any = None
    tests_dir: Path | None = None
    project_dir: Path | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def endpoints(self) -> list[Endpoint]:
        """Every HTTP API route (included routers too), in the app's order."""
        return list(self._once("endpoints", lambda: list(_walk_endpoints(self.app.routes))))

    def openapi(self) -> dict[str, Any]:
        """The app's OpenAPI document (built even when ``/openapi.json`` is not served)."""
        return dict(self._once("openapi", self.app.openapi))

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """``(METHOD, path, operation)`` for every operation of the OpenAPI document."""
        for path, item in self.openapi().get("paths", {}).items():
            for method, operation in item.items():
                if isinstance(operation, dict) and method != "parameters":
                    yield method.upper(), path, operation

    def middleware(self) -> list[tuple[type, dict[str, Any]]]:
        """``(class, options)`` of the user middleware, outermost first."""
        return [(m.cls, dict(m.kwargs)) for m in getattr(self.app, "user_middleware", [])]

    def get(self, path: str, **kwargs: Any) -> Any:
        """``GET path`` on the app with its lifespan running (started on first use).
        Raises ``RuntimeError`` when the app cannot start."""
        client = self._once("client", self._start_client)
        if isinstance(client, BaseException):
            raise RuntimeError(f"the app did not start: {type(client).__name__}: {client}")
        return client.get(path, **kwargs)

    def _start_client(self) -> Any:
        from starlette.testclient import TestClient

        try:
            return self._stack.enter_context(TestClient(self.app, raise_server_exceptions=False))
        except Exception as exc:  # reported by every runtime check that needed it
            return exc

    def test_functions(self) -> list[TestFunction]:
        return list(self._once("tests", lambda: _collect_tests(self.tests_dir)))

    def close(self) -> None:
        self._stack.close()


@dataclass(frozen=True)
class TestFunction:
    __test__ = False  # not a pytest test class
    file: str
    name: str
    is_async: bool
    sad_path: bool
    source: str


# --- helpers -----------------------------------------------------------------------------
def _walk_endpoints(routes: Iterable[Any]) -> Iterator[Endpoint]:
    from fastapi.routing import APIRoute

    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):  # an included router (FastAPI >= 0.16x includes lazily)
            for context in contexts():
                function = getattr(context, "endpoint", None)
                methods: set[str] | None = getattr(context, "methods", None)
                if (
                    function is not None
                    and methods
                    and isinstance(getattr(context, "original_route", None), APIRoute)
                ):
                    yield Endpoint(context.path, frozenset(methods), function, context)
        elif isinstance(route, APIRoute):
            yield Endpoint(route.path, frozenset(route.methods or ()), route.endpoint, route)
        elif hasattr(route, "routes") and not hasattr(route, "app_routes"):
            yield from _walk_endpoints(getattr(route, "routes", []) or [])


def _signature(function: Callable[..., Any]) -> inspect.Signature:
    """The signature with string annotations resolved when possible
    (``from __future__ import annotations`` makes every annotation a string)."""
    try:
        return inspect.signature(function, eval_str=True)
    except Exception:
        return inspect.signature(function)


def _calls(tree: ast.AST) -> Iterator[tuple[str, ast.Call]]:
    """Every call in ``tree`` with its dotted name (``time.sleep``, ``print``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield _dotted(node.func), node


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func) + "()"
    return "?"


def _short(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _types_in(annotation: Any) -> Iterator[Any]:
    """``annotation`` and every type argument inside it (``list[User]`` → list, User)."""
    yield annotation
    for argument in typing.get_args(annotation):
        yield from _types_in(argument)


def _settings_fields(settings: Any) -> dict[str, Any]:
    """Field name → annotation (a pydantic model) or the value's type (anything else)."""
    model_fields = getattr(type(settings), "model_fields", None)
    if isinstance(model_fields, dict):
        return {name: info.annotation for name, info in model_fields.items()}
    values = vars(settings) if hasattr(settings, "__dict__") else {}
    return {name: type(value) for name, value in values.items() if not name.startswith("_")}


# --- the checks ----------------------------------------------------------------------------
CHECKS: list[Check] = []


def audit_check(
    id: str,
    *,
    dimension: str,
    points: int,
    title: str,
    fix: str,
    signal: str | None = None,
    register: bool = False,
) -> Callable[[Callable[[Context], Outcome]], Check]:
    """Turn ``def run(ctx) -> (passed, reason)`` into a :class:`Check`.

    Pass the result to ``audit(..., extra_checks=[...])``. ``register=True`` adds it to
    the built-in list (only this module does that)."""

    def wrap(function: Callable[[Context], Outcome]) -> Check:
        made = Check(id, dimension, points, title, fix, function, signal)
        if register:
            if any(existing.id == id for existing in CHECKS):
                raise ValueError(f"check {id!r} registered twice")
            CHECKS.append(made)
        return made

    return wrap


def _builtin(id: str, **options: Any) -> Callable[[Callable[[Context], Outcome]], Check]:
    return audit_check(id, register=True, **options)


# Type safety (15) ---------------------------------------------------------------------------
@_builtin(
    "request-models",
    dimension="Type safety",
    points=4,
    title="Request bodies are validated by Pydantic models",
    fix="Declare the body as a Pydantic model parameter; never `await request.json()` "
    "or `body: dict`.",
    signal="Type safety",
)
def _request_models(ctx: Context) -> Outcome:
    from fastapi import Request

    raw, untyped = [], []
    for endpoint in ctx.endpoints():
        if not endpoint.methods & WRITE_METHODS:
            continue
        dependant = getattr(endpoint.route, "dependant", None)
        body = list(getattr(dependant, "body_params", []) or [])
        if not body:
            parameters = _signature(endpoint.function).parameters.values()
            if getattr(dependant, "request_param_name", None) or any(
                p.annotation in (Request, "Request") for p in parameters
            ):
                raw.append(endpoint.name)
            continue
        for param in body:
            annotation = getattr(getattr(param, "field_info", None), "annotation", None)
            if typing.get_origin(annotation) is dict or annotation in (dict, Any, object):
                untyped.append(f"{endpoint.name} ({param.name}: dict)")
    if raw or untyped:
        parts = []
        if raw:
            parts.append(f"reads the raw request: {_short(raw)}")
        if untyped:
            parts.append(f"untyped dict body: {_short(untyped)}")
        return False, "; ".join(parts)
    count = sum(1 for e in ctx.endpoints() if e.methods & WRITE_METHODS)
    return True, f"{_plural(count, 'write endpoint')}, every body a model"


@_builtin(
    "response-models",
    dimension="Type safety",
    points=4,
    title="JSON endpoints declare a response model",
    fix="Annotate the return type with a response schema (or `response_model=`), so the "
    "output is validated, filtered and documented.",
    signal="Type safety",
)
def _response_models(ctx: Context) -> Outcome:
    from fastapi.responses import JSONResponse
    from starlette.responses import Response

    missing = []
    for endpoint in ctx.endpoints():
        route = endpoint.route
        if getattr(route, "response_model", None) is not None:
            continue
        if getattr(route, "status_code", None) in (204, 304):
            continue
        response_class = getattr(route, "response_class", JSONResponse)
        response_class = getattr(response_class, "value", response_class)  # DefaultPlaceholder
        if isinstance(response_class, type) and not issubclass(response_class, JSONResponse):
            continue
        returns = _signature(endpoint.function).return_annotation
        if isinstance(returns, type) and issubclass(returns, Response):
            continue
        missing.append(endpoint.name)
    if missing:
        return False, f"{_plural(len(missing), 'endpoint')} without one: {_short(missing)}"
    return True, f"all {_plural(len(ctx.endpoints()), 'endpoint')} declare their output"


@_builtin(
    "typed-params",
    dimension="Type safety",
    points=3,
    title="Path and query parameters are typed",
    fix="Annotate every parameter (`item_id: int`, `Annotated[int, Query(ge=1)]`): an "
    "unannotated one is an unvalidated string.",
    signal="Type safety",
)
def _typed_params(ctx: Context) -> Outcome:
    untyped = []
    for method, path, operation in ctx.operations():
        for param in operation.get("parameters", []):
            schema = param.get("schema", {})
            if not any(key in schema for key in ("type", "$ref", "anyOf", "allOf", "enum")):
                untyped.append(f"{param.get('name')} of {method} {path}")
    if untyped:
        return False, f"untyped: {_short(untyped)}"
    return True, "every parameter has a type in the OpenAPI document"


@_builtin(
    "documented",
    dimension="Type safety",
    points=4,
    title="The OpenAPI document is more than the default",
    fix="Set the app's title (and version); give each operation a summary or a docstring.",
    signal="Documentation",
)
def _documented(ctx: Context) -> Outcome:
    problems = []
    if getattr(ctx.app, "title", "FastAPI") == "FastAPI":
        problems.append("title is the default 'FastAPI'")
    bare = [
        e.name
        for e in ctx.endpoints()
        if not getattr(e.route, "summary", None)
        and not getattr(e.route, "description", None)
        and not inspect.getdoc(e.function)
    ]
    if bare:
        problems.append(f"no summary or docstring: {_short(bare)}")
    if problems:
        return False, "; ".join(problems)
    return True, "titled, every operation described"


# Error handling (15) ------------------------------------------------------------------------
def _envelope_problem(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return f"a {response.status_code} with a non-JSON body {response.text[:40]!r}"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str) and "message" in error:
            return None
        if {"type", "title", "status"} <= set(body):  # RFC 9457 problem details
            return None
        if set(body) == {"detail"}:
            return f"a bare {{'detail': {body['detail']!r}}}"
    return f"an unstructured body {str(body)[:60]}"


@_builtin(
    "error-envelope",
    dimension="Error handling",
    points=5,
    title="Errors answer with one structured envelope",
    fix="Register handlers that render every error as {'error': {'code', 'message', "
    "'details'}} (lesson 04), including Starlette's 404/405.",
    signal="Error handling",
)
def _error_envelope(ctx: Context) -> Outcome:
    response = ctx.get("/__audit__/no-such-path")
    problem = _envelope_problem(response)
    if problem is not None:
        return False, f"an unknown path answers {problem}"
    return True, f"an unknown path answers {response.status_code} with a code and a message"


@_builtin(
    "validation-envelope",
    dimension="Error handling",
    points=4,
    title="Validation errors use the app's envelope",
    fix="app.add_exception_handler(RequestValidationError, ...) rendering the same envelope.",
    signal="Error handling",
)
def _validation_envelope(ctx: Context) -> Outcome:
    from fastapi.exception_handlers import request_validation_exception_handler
    from fastapi.exceptions import RequestValidationError

    handler = ctx.app.exception_handlers.get(RequestValidationError)
    if handler is None or handler is request_validation_exception_handler:
        return False, "FastAPI's default 422 handler ({'detail': [...]}) is in place"
    return True, f"RequestValidationError → {getattr(handler, '__name__', handler)}"


@_builtin(
    "unhandled-errors",
    dimension="Error handling",
    points=3,
    title="Unhandled exceptions get a generic 500 envelope",
    fix="Register a handler for Exception that logs the traceback and answers a 500 "
    "envelope without internals.",
    signal="Error handling",
)
def _unhandled(ctx: Context) -> Outcome:
    handlers = ctx.app.exception_handlers
    for key in (Exception, 500):
        if key in handlers:
            return True, f"{key if key == 500 else 'Exception'} → {handlers[key].__name__}"
    return False, "no handler for Exception: a crash answers Starlette's plain-text 500"


@_builtin(
    "error-hierarchy",
    dimension="Error handling",
    points=3,
    title="A domain error hierarchy has a handler",
    fix="Raise your own AppError subclasses (NotFoundError, ConflictError…) and register "
    "one handler for the base class, not HTTPException everywhere.",
    signal="Error handling",
)
def _hierarchy(ctx: Context) -> Outcome:
    framework = ("starlette.", "fastapi.", "pydantic", "builtins")
    own = [
        key
        for key in ctx.app.exception_handlers
        if isinstance(key, type)
        and issubclass(key, Exception)
        and not key.__module__.startswith(framework)
    ]
    if not own:
        return False, "only framework exceptions have handlers"
    return True, f"handled: {_short([k.__name__ for k in own])}"


# Testing (15) --------------------------------------------------------------------------------
_SAD = re.compile(r"\b[45]\d\d\b|pytest\.raises|HTTP_[45]\d\d|\braises\(")


def _checks_an_error(function: ast.FunctionDef | ast.AsyncFunctionDef, text: str) -> bool:
    """Does this helper assert an error (an error status in an ``assert``, or a
    ``raises``)? Error-looking numbers elsewhere (a price of 500) do not count."""
    if re.search(r"\braises\(", ast.get_source_segment(text, function) or ""):
        return True
    return any(
        isinstance(node, ast.Assert) and _SAD.search(ast.get_source_segment(text, node) or "")
        for node in ast.walk(function)
    )


def _collect_tests(folder: Path | None) -> list[TestFunction]:
    """Every test function under ``folder``. A test checks an error when its own source
    names an error status or ``raises``, or when it calls a helper that asserts one (a
    ``validation_errors(response)`` that asserts the 422): helpers are module-level
    functions, not tests, of any ``.py`` file in the folder."""
    if folder is None or not folder.is_dir():
        return []
    parsed: list[tuple[Path, str, ast.Module]] = []
    for path in sorted(folder.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            parsed.append((path, text, ast.parse(text)))
        except SyntaxError:
            continue
    error_helpers = {
        node.name
        for _, text, tree in parsed
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("test")
        and _checks_an_error(node, text)
    }
    found = []
    for path, text, tree in parsed:
        if not (path.name.startswith("test_") or path.name.endswith("_test.py")):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test"
            ):
                source = ast.get_source_segment(text, node) or ""
                calls = {
                    call.func.id
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                }
                found.append(
                    TestFunction(
                        path.relative_to(folder).as_posix(),
                        node.name,
                        isinstance(node, ast.AsyncFunctionDef),
                        bool(_SAD.search(source)) or bool(calls & error_helpers),
                        source,
                    )
                )
    return found


def _no_tests(ctx: Context) -> str:
    if ctx.tests_dir is None:
        return "no tests folder given: audit(app, tests_dir=...)"
    return f"no test functions under {ctx.tests_dir.name}/"


@_builtin(
    "tests-present",
    dimension="Testing",
    points=5,
    title="The app has tests",
    fix="Write pytest tests that call the app (lesson 07); run them in CI.",
    signal="Testing",
)
def _tests_present(ctx: Context) -> Outcome:
    tests = ctx.test_functions()
    if not tests:
        return False, _no_tests(ctx)
    files = len({t.file for t in tests})
    return True, f"{_plural(len(tests), 'test function')} in {_plural(files, 'file')}"


@_builtin(
    "sad-paths",
    dimension="Testing",
    points=4,
    title="At least 40 % of the tests exercise errors",
    fix="Test 401/403/404/409/422 answers and raised errors, not only the happy path.",
)
def _sad_paths(ctx: Context) -> Outcome:
    tests = ctx.test_functions()
    if not tests:
        return False, _no_tests(ctx)
    sad = sum(t.sad_path for t in tests)
    share = sad / len(tests)
    verdict = share >= SAD_PATH_SHARE
    return verdict, (
        f"{sad} of {len(tests)} tests ({share:.1%}) check an error; goal {SAD_PATH_SHARE:.0%}"
    )


@_builtin(
    "async-tests",
    dimension="Testing",
    points=2,
    title="Async tests drive the app the way the server does",
    fix="Use httpx.AsyncClient(transport=ASGITransport(app)) in async tests.",
    signal="Testing",
)
def _async_tests(ctx: Context) -> Outcome:
    tests = ctx.test_functions()
    if not tests:
        return False, _no_tests(ctx)
    count = sum(t.is_async for t in tests)
    if not count:
        return False, "every test is synchronous"
    return True, f"{_plural(count, 'async test')}"


@_builtin(
    "contract-tests",
    dimension="Testing",
    points=2,
    title="Contract tests check the app against its OpenAPI document",
    fix="Add a schemathesis test over the app's OpenAPI schema (lesson 07).",
)
def _contract(ctx: Context) -> Outcome:
    tests = ctx.test_functions()
    if not tests:
        return False, _no_tests(ctx)
    assert ctx.tests_dir is not None
    users = sorted(
        path.name
        for path in ctx.tests_dir.rglob("test_*.py")
        if "schemathesis" in path.read_text(encoding="utf-8", errors="replace")
    )
    if not users:
        return False, "no test imports schemathesis"
    return True, f"schemathesis in {_short(users)}"


@_builtin(
    "isolated-db",
    dimension="Testing",
    points=2,
    title="Tests get their own database",
    fix="Build the app in a fixture with test settings (a temporary database) or "
    "dependency_overrides; never the configured one.",
)
def _isolated(ctx: Context) -> Outcome:
    if ctx.tests_dir is None:
        return False, _no_tests(ctx)
    markers = ("dependency_overrides", "database_url", "tmp_path", "sqlite")
    for path in sorted(ctx.tests_dir.rglob("conftest.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        used = [marker for marker in markers if marker in text]
        if used:
            where = path.relative_to(ctx.tests_dir).as_posix()
            return True, f"{where} sets up the database ({', '.join(used)})"
    return False, "no conftest.py builds a test database: tests use whatever is configured"


# Security (15) -------------------------------------------------------------------------------
_MANUAL_TOKEN = re.compile(r"headers(\.get\(|\[)\s*['\"]authorization['\"]", re.IGNORECASE)
_SECRET_WORDS = frozenset({"secret", "password", "passwd", "token", "key", "apikey", "dsn"})
_SECRET_URLS = frozenset({"database_url", "db_url", "redis_url", "broker_url"})


def _is_secret_name(name: str) -> bool:
    """``jwt_secret``, ``api_key``, ``database_url``: yes; ``access_token_expire_minutes``,
    ``jwt_algorithm``: no (the last word names what the value is)."""
    lowered = name.lower()
    return lowered in _SECRET_URLS or lowered.rsplit("_", 1)[-1] in _SECRET_WORDS


@_builtin(
    "auth-dependency",
    dimension="Security",
    points=4,
    title="Authentication is a security dependency, not hand-parsed headers",
    fix="Use OAuth2PasswordBearer/HTTPBearer in a dependency (lesson 05), so OpenAPI "
    "documents it and no endpoint parses Authorization itself.",
    signal="Auth",
)
def _auth(ctx: Context) -> Outcome:
    manual = []
    for endpoint in ctx.endpoints():
        tree = endpoint.source_tree()
        if tree is not None and _MANUAL_TOKEN.search(ast.unparse(tree)):
            manual.append(endpoint.name)
    if manual:
        return False, f"parses the Authorization header by hand: {_short(manual)}"
    secured = [f"{m} {p}" for m, p, op in ctx.operations() if op.get("security")]
    if not secured:
        return False, "no operation declares a security scheme"
    return True, f"{_plural(len(secured), 'operation')} behind a security scheme"


@_builtin(
    "secret-settings",
    dimension="Security",
    points=4,
    title="Secrets are SecretStr settings with no default in code",
    fix="Type secrets as SecretStr, read them from the environment, and give them no "
    "usable default (lesson 02).",
    signal="Auth",
)
def _secrets(ctx: Context) -> Outcome:
    from pydantic import SecretBytes, SecretStr

    if ctx.settings is None:
        return False, "no settings object: pass settings= or set app.state.settings"
    fields = _settings_fields(ctx.settings)
    secret_names = [name for name in fields if _is_secret_name(name)]
    plain = [
        name
        for name in secret_names
        if not any(t in (SecretStr, SecretBytes) for t in _types_in(fields[name]))
    ]
    model_fields = getattr(type(ctx.settings), "model_fields", {})
    defaults = [
        name
        for name in secret_names
        if name in model_fields
        and isinstance(model_fields[name].default, str | SecretStr)
        and str(getattr(model_fields[name].default, "get_secret_value", lambda: "x")()) != ""
    ]
    problems = []
    if plain:
        problems.append(f"plain-text: {_short(plain)}")
    if defaults:
        problems.append(f"hard-coded default: {_short(defaults)}")
    if problems:
        return False, "; ".join(problems)
    if not secret_names:
        return True, "no secret-looking settings"
    return True, f"{_short(secret_names)}: SecretStr, no default"


@_builtin(
    "no-debug",
    dimension="Security",
    points=2,
    title="Debug mode is off",
    fix="FastAPI(debug=False) and DEBUG=false: debug pages show tracebacks to clients.",
)
def _debug(ctx: Context) -> Outcome:
    on = []
    if getattr(ctx.app, "debug", False):
        on.append("app.debug is True")
    if ctx.settings is not None and getattr(ctx.settings, "debug", False) is True:
        on.append("settings.debug is True")
    if on:
        return False, " and ".join(on)
    return True, "app and settings have debug off"


@_builtin(
    "cors",
    dimension="Security",
    points=3,
    title="CORS lists its origins (no wildcard)",
    fix="allow_origins = the exact origins of this environment; never '*', and never '*' "
    "with allow_credentials=True.",
)
def _cors(ctx: Context) -> Outcome:
    for cls, options in ctx.middleware():
        if cls.__name__ != "CORSMiddleware":
            continue
        origins = list(options.get("allow_origins", ()))
        regex = options.get("allow_origin_regex")
        credentials = options.get("allow_credentials", False)
        if "*" in origins or regex in (".*", ".+", "^.*$"):
            with_credentials = " with credentials" if credentials else ""
            return False, f"every origin is allowed{with_credentials}"
        return True, f"{_plural(len(origins), 'origin')} listed" + (
            ", credentials allowed" if credentials else ""
        )
    return True, "no CORS middleware: browsers on other origins are refused"


@_builtin(
    "security-headers",
    dimension="Security",
    points=2,
    title="Responses carry security headers",
    fix="Add X-Content-Type-Options: nosniff and X-Frame-Options (or a CSP with "
    "frame-ancestors) in a pure ASGI middleware.",
)
def _headers(ctx: Context) -> Outcome:
    headers = ctx.get("/__audit__/no-such-path").headers
    missing = []
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        missing.append("X-Content-Type-Options")
    if "x-frame-options" not in headers and "frame-ancestors" not in headers.get(
        "content-security-policy", ""
    ):
        missing.append("X-Frame-Options")
    if missing:
        return False, f"missing {', '.join(missing)}"
    return True, "nosniff and frame protection present"


# Performance (10) ---------------------------------------------------------------------------
BLOCKING_CALLS = (
    "time.sleep",
    "requests.",
    "urllib.request.urlopen",
    "sqlite3.connect",
    "psycopg2.connect",
    "subprocess.run",
    "subprocess.check_output",
    "open",
)


def _is_blocking(name: str) -> bool:
    return any(
        name == call or (call.endswith(".") and name.startswith(call)) for call in BLOCKING_CALLS
    )


def _blocking_calls(function: Callable[..., Any], depth: int = 2) -> set[str]:
    """Known blocking calls in ``function`` and in the plain functions of its own module
    it calls by name, ``depth`` levels down (``query_sync → time.sleep``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return set()
    found: set[str] = set()
    namespace = getattr(function, "__globals__", {})
    for name, _node in _calls(tree):
        if _is_blocking(name):
            found.add(name)
            continue
        helper = namespace.get(name) if depth > 0 and "." not in name else None
        if (
            inspect.isfunction(helper)
            and helper is not function
            and helper.__module__ == function.__module__
        ):
            found |= {f"{name} → {inner}" for inner in _blocking_calls(helper, depth - 1)}
    return found


@_builtin(
    "no-blocking-async",
    dimension="Performance",
    points=4,
    title="No blocking call inside an async endpoint",
    fix="Call an async library and await it, make the endpoint a plain def, or "
    "`await run_in_threadpool(...)` (lesson 01).",
)
def _blocking(ctx: Context) -> Outcome:
    blocking, unread = [], []
    for endpoint in ctx.endpoints():
        if not endpoint.is_async:
            continue
        if endpoint.source_tree() is None:
            unread.append(endpoint.name)
            continue
        calls = sorted(_blocking_calls(endpoint.function))
        if calls:
            blocking.append(f"{endpoint.name} ({', '.join(calls)})")
    if blocking:
        return False, f"blocks the event loop: {_short(blocking)}"
    note = f"; source not available for {_short(unread)}" if unread else ""
    return True, "no known blocking call in async endpoints" + note


def _returns_list(tree: ast.AST) -> bool:
    """A ``return`` of a list display or comprehension, or of ``.fetchall()``/``.all()``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            if isinstance(node.value, ast.List | ast.ListComp):
                return True
            if isinstance(node.value, ast.Call) and _dotted(node.value.func).endswith(
                (".fetchall", ".all")
            ):
                return True
    return False


@_builtin(
    "pagination",
    dimension="Performance",
    points=3,
    title="List endpoints are paginated with a capped page size",
    fix=f"Return a page (items + total) with page_size defaulting to 20, capped at "
    f"{MAX_PAGE_CAP}: Query(20, ge=1, le={MAX_PAGE_CAP}).",
)
def _pagination(ctx: Context) -> Outcome:
    problems, lists = [], 0
    for endpoint in ctx.endpoints():
        if "GET" in endpoint.methods and getattr(endpoint.route, "response_model", None) is None:
            tree = endpoint.source_tree()
            if tree is not None and _returns_list(tree):
                problems.append(f"{endpoint.path} returns a list built in the handler")
    for method, path, operation in ctx.operations():
        if method != "GET":
            continue
        ok = operation.get("responses", {}).get("200", {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            problems.append(f"{path} returns a bare list")
        for param in operation.get("parameters", []):
            if param.get("in") == "query" and param.get("name") in PAGE_SIZE_PARAMS:
                lists += 1
                cap = param.get("schema", {}).get("maximum")
                if cap is None or cap > MAX_PAGE_CAP:
                    problems.append(f"{path} ?{param['name']} has no cap ≤ {MAX_PAGE_CAP}")
    if problems:
        return False, _short(problems)
    return True, f"{_plural(lists, 'paginated list')}, no bare lists"


@_builtin(
    "pure-asgi-middleware",
    dimension="Performance",
    points=3,
    title="Middleware is pure ASGI, not BaseHTTPMiddleware",
    fix="Write middleware as an ASGI class wrapping send (lesson 08): BaseHTTPMiddleware "
    "and @app.middleware('http') cost time per request and break contextvars/streaming.",
)
def _pure_asgi(ctx: Context) -> Outcome:
    from starlette.middleware.base import BaseHTTPMiddleware

    slow = []
    for cls, options in ctx.middleware():
        if isinstance(cls, type) and issubclass(cls, BaseHTTPMiddleware):
            dispatch = options.get("dispatch")
            slow.append(getattr(dispatch, "__name__", None) or cls.__name__)
    if slow:
        return False, f"BaseHTTPMiddleware: {_short(slow)}"
    return True, f"{_plural(len(ctx.middleware()), 'middleware')}, none on BaseHTTPMiddleware"


# Observability (10) -------------------------------------------------------------------------
@_builtin(
    "request-id",
    dimension="Observability",
    points=3,
    title="Every response carries a request id",
    fix="A pure ASGI middleware that accepts or generates X-Request-ID, binds it into the "
    "log context and echoes it (lesson 08).",
    signal="Observability",
)
def _request_id(ctx: Context) -> Outcome:
    headers = ctx.get("/__audit__/no-such-path").headers
    for name in ("x-request-id", "x-correlation-id"):
        if name in headers:
            return True, f"{name} on every response (even a 404)"
    return False, "no X-Request-ID header: a log line cannot be tied to a request"


@_builtin(
    "no-print",
    dimension="Observability",
    points=3,
    title="Endpoints log, they do not print()",
    fix="Use a structured logger (structlog, JSON in production) instead of print().",
    signal="Observability",
)
def _no_print(ctx: Context) -> Outcome:
    printing = []
    for endpoint in ctx.endpoints():
        tree = endpoint.source_tree()
        if tree is not None and any(name == "print" for name, _ in _calls(tree)):
            printing.append(endpoint.name)
    if printing:
        return False, f"print() in {_short(printing)}"
    return True, "no print() in endpoint code"


@_builtin(
    "metrics",
    dimension="Observability",
    points=2,
    title="Metrics are exposed",
    fix="Serve Prometheus metrics at /metrics (request count and latency per route).",
    signal="Observability",
)
def _metrics(ctx: Context) -> Outcome:
    paths = {e.path for e in ctx.endpoints()}
    paths |= {getattr(r, "path", "") for r in ctx.app.routes}
    if "/metrics" in paths:
        return True, "/metrics is served"
    return False, "no /metrics endpoint"


@_builtin(
    "tracing",
    dimension="Observability",
    points=2,
    title="Distributed tracing is instrumented",
    fix="FastAPIInstrumentor.instrument_app(app) from opentelemetry-instrumentation-fastapi, "
    "exporting to your collector.",
)
def _tracing(ctx: Context) -> Outcome:
    if getattr(ctx.app, "_is_instrumented_by_opentelemetry", False):
        return True, "instrumented by OpenTelemetry"
    for cls, _options in ctx.middleware():
        if getattr(cls, "__module__", "").startswith("opentelemetry"):
            return True, f"{cls.__name__} installed"
    return False, "no OpenTelemetry instrumentation (request ids correlate logs only)"


# Database (10) --------------------------------------------------------------------------------
ASYNC_DRIVERS = frozenset({"aiosqlite", "asyncpg", "psycopg", "aiomysql", "asyncmy", "aioodbc"})


def _database_url(settings: Any) -> str | None:
    for name in ("database_url_value", "database_url", "db_url", "sqlalchemy_database_uri"):
        value = getattr(settings, name, None)
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        return str(value)
    return None


@_builtin(
    "async-driver",
    dimension="Database",
    points=3,
    title="The database driver is async",
    fix="Use SQLAlchemy's async engine with an async driver: postgresql+asyncpg://, "
    "sqlite+aiosqlite://.",
    signal="Database",
)
def _driver(ctx: Context) -> Outcome:
    if ctx.settings is None:
        return False, "no settings object: pass settings= or set app.state.settings"
    url = _database_url(ctx.settings)
    if url is None:
        return False, "no database URL in the settings"
    scheme = url.split("://", 1)[0]
    dialect, _, driver = scheme.partition("+")
    if driver in ASYNC_DRIVERS:
        return True, f"{dialect} through {driver}"  # never print the URL: it has a password
    return False, f"{scheme}:// uses a blocking driver ({driver or 'the default one'})"


@_builtin(
    "migrations",
    dimension="Database",
    points=3,
    title="Schema changes are migrations",
    fix="alembic init; autogenerate, review and commit a migration per change (lesson 06).",
    signal="Database",
)
def _migrations(ctx: Context) -> Outcome:
    if ctx.project_dir is None:
        return False, "no project folder given: audit(app, project_dir=...)"
    root = ctx.project_dir
    if (root / "alembic.ini").is_file():
        return True, "alembic.ini at the project root"
    skip = {".venv", "venv", "node_modules", ".git", "site-packages"}
    for env in root.rglob("env.py"):
        if env.parent.name in {"migrations", "alembic"} and not skip & set(env.parts):
            return True, f"{env.parent.relative_to(root).as_posix()}/env.py"
    return False, "no alembic.ini and no migrations/env.py"


@_builtin(
    "schemas-not-tables",
    dimension="Database",
    points=4,
    title="Responses are schemas, never ORM rows or internal fields",
    fix="Return a response schema (from_attributes=True) listing the public fields; never "
    "a table model, never a password hash.",
)
def _not_tables(ctx: Context) -> Outcome:
    tables = []
    for endpoint in ctx.endpoints():
        model = getattr(endpoint.route, "response_model", None)
        for kind in _types_in(model):
            if isinstance(kind, type) and (
                hasattr(kind, "__table__") or hasattr(kind, "__tablename__")
            ):
                tables.append(f"{endpoint.name} → {kind.__name__}")
    leaks = []
    schemas = ctx.openapi().get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        for prop in schema.get("properties", {}):
            if (
                re.search(r"password|hashed|secret", prop, re.IGNORECASE)
                and not name.endswith(
                    ("Create", "Update", "In", "Input", "Request", "Form", "Login", "Change")
                )
                and not name.startswith("Body_")
            ):
                leaks.append(f"{name}.{prop}")
    if tables or leaks:
        parts = []
        if tables:
            parts.append(f"table models as responses: {_short(tables)}")
        if leaks:
            parts.append(f"internal fields in output schemas: {_short(leaks)}")
        return False, "; ".join(parts)
    return True, "response models are plain schemas without internal fields"


# Deployment (10) ------------------------------------------------------------------------------
@_builtin(
    "liveness",
    dimension="Deployment",
    points=3,
    title="A liveness endpoint answers 200",
    fix="GET /health returning 200 without touching the database (lesson 08).",
    signal="Deployment",
)
def _liveness(ctx: Context) -> Outcome:
    paths = {e.path for e in ctx.endpoints() if "GET" in e.methods}
    for path in LIVENESS_PATHS:
        if path in paths:
            status = ctx.get(path).status_code
            return status == 200, f"GET {path} answers {status}"
    return False, f"none of {', '.join(LIVENESS_PATHS)} is served"


@_builtin(
    "readiness",
    dimension="Deployment",
    points=3,
    title="A readiness endpoint checks dependencies, separately from liveness",
    fix="GET /ready pinging the database: 200 when ready, 503 with a JSON body when not, "
    "never a 500.",
    signal="Deployment",
)
def _readiness(ctx: Context) -> Outcome:
    paths = {e.path for e in ctx.endpoints() if "GET" in e.methods}
    for path in READINESS_PATHS:
        if path in paths:
            response = ctx.get(path)
            try:
                response.json()
            except ValueError:
                return False, f"GET {path} answers {response.status_code} without a JSON body"
            ok = response.status_code in (200, 503)
            return ok, f"GET {path} answers {response.status_code} with a JSON body"
    return False, f"none of {', '.join(READINESS_PATHS)} is served"


@_builtin(
    "dockerfile",
    dimension="Deployment",
    points=2,
    title="A multi-stage Dockerfile that runs as a non-root user",
    fix="A Dockerfile with a build stage and a slim runtime stage, USER appuser (lesson 10).",
    signal="Deployment",
)
def _dockerfile(ctx: Context) -> Outcome:
    if ctx.project_dir is None:
        return False, "no project folder given: audit(app, project_dir=...)"
    path = ctx.project_dir / "Dockerfile"
    if not path.is_file():
        return False, "no Dockerfile at the project root"
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    stages = sum(line.upper().startswith("FROM ") for line in lines)
    users = [
        line.split()[1]
        for line in lines
        if line.upper().startswith("USER ") and len(line.split()) > 1
    ]
    problems = []
    if stages < 2:
        problems.append("one stage: build tools ship in the image")
    if not users or users[-1] in {"root", "0"}:
        problems.append("runs as root")
    if problems:
        return False, "; ".join(problems)
    return True, f"{stages} stages, runs as {users[-1]}"


@_builtin(
    "ci",
    dimension="Deployment",
    points=2,
    title="CI runs on every change",
    fix="A CI workflow (e.g. .github/workflows/ci.yml) running lint, types and tests.",
)
def _ci(ctx: Context) -> Outcome:
    if ctx.project_dir is None:
        return False, "no project folder given: audit(app, project_dir=...)"
    root = ctx.project_dir
    candidates = [
        *sorted((root / ".github" / "workflows").glob("*.y*ml")),
        root / ".gitlab-ci.yml",
        root / "Jenkinsfile",
        root / ".ci" / "run",
    ]
    for path in candidates:
        if path.is_file():
            return True, f"{path.relative_to(root).as_posix()}"
    return False, "no CI configuration found"


# --- running --------------------------------------------------------------------------------
def _run_one(check: Check, ctx: Context) -> Finding:
    try:
        passed, reason = check.run(ctx)
        passed = bool(passed)
        reason = str(reason)
    except Exception as exc:  # a broken check must not break the audit
        passed, reason = False, f"the check could not run: {type(exc).__name__}: {exc}"
    return Finding(
        check.id,
        check.title,
        check.dimension,
        passed,
        check.points if passed else 0,
        check.points,
        reason,
        check.fix,
        check.signal,
    )


def audit(
    app: Any,
    *,
    settings: Any = None,
    tests_dir: str | Path | None = None,
    project_dir: str | Path | None = None,
    checks: Sequence[Check] | None = None,
    extra_checks: Sequence[Check] = (),
    title: str | None = None,
) -> AuditReport:
    """Audit ``app`` and return the report. Never raises because of the app.

    ``settings`` defaults to ``app.state.settings``; ``tests_dir`` is the folder of the
    app's tests; ``project_dir`` holds Dockerfile, CI and migrations. ``checks`` replaces
    the built-in list; ``extra_checks`` adds to it.
    """
    chosen = [*(CHECKS if checks is None else checks), *extra_checks]
    ids = [c.id for c in chosen]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate check ids: {duplicates}")
    if settings is None:
        settings = getattr(getattr(app, "state", None), "settings", None)
    ctx = Context(
        app,
        settings,
        Path(tests_dir) if tests_dir is not None else None,
        Path(project_dir) if project_dir is not None else None,
    )
    try:
        findings = [_run_one(check, ctx) for check in chosen]
    finally:
        with suppress(Exception):  # a failing shutdown is not the audit's finding
            ctx.close()
    name = title or getattr(app, "title", None) or type(app).__name__
    return AuditReport(str(name), findings)


# --- command line ----------------------------------------------------------------------------
def load_app(target: str, *, factory: bool = False) -> Any:
    """Import ``"package.module:attribute"``; call it when ``factory`` (uvicorn's syntax)."""
    import importlib

    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{target!r}: write the app as 'package.module:attribute'")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found() if factory else found


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m coursekit.audit") -> int:
    """``python -m coursekit.audit course_app.main:create_app --factory --tests tests/app``.

    Exit status: 0 when the score reaches ``--min-score``, 1 when it does not, 2 when the
    app cannot be loaded."""
    import argparse
    import json
    import sys
    from dataclasses import asdict

    parser = argparse.ArgumentParser(prog=prog, description="Audit a FastAPI app for production.")
    parser.add_argument("app", help="the app as 'package.module:attribute'")
    parser.add_argument("--factory", action="store_true", help="the attribute builds the app")
    parser.add_argument("--tests", type=Path, default=None, help="the folder of its tests")
    parser.add_argument("--project", type=Path, default=None, help="Dockerfile, CI, migrations")
    parser.add_argument("--min-score", type=int, default=0, help="exit 1 below this score")
    parser.add_argument("--failed", action="store_true", help="list failed findings only")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        app = load_app(args.app, factory=args.factory)
    except Exception as exc:
        print(f"cannot load {args.app}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    report = audit(app, tests_dir=args.tests, project_dir=args.project)
    if args.json:
        document = {
            "title": report.title,
            "score": report.score,
            "max": report.max,
            "band": report.band,
            "health": report.health,
            "health_score": report.health_score,
            "findings": [asdict(finding) for finding in report.findings],
        }
        print(json.dumps(document, indent=2))
    else:
        print(report.table(only_failed=args.failed))
    return 0 if report.score >= args.min_score else 1


if __name__ == "__main__":
    raise SystemExit(main())
