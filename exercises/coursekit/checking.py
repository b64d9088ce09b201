"""The checker engine: registry, sandboxed execution with a time limit, reports.

A checker is a function decorated with :func:`exercise`. It receives a
:class:`Checker` and the learner's objects, and records *cases*::

    @exercise("1.1", "A liveness endpoint")
    def _(c: Checker, app: object) -> None:
        client = c.client(app)
        c.equal("GET /health answers 200", lambda: client.get("/health").status_code, 200,
                hint="Register the route on the app you return.")

Every case is evaluated lazily (pass a callable) so one exception in learner code
fails that case with a readable message instead of killing the whole check. The
whole checker runs in a worker thread with a time limit; an infinite loop in
learner code is interrupted and reported.
"""

from __future__ import annotations

import ctypes
import importlib
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

DEFAULT_TIME_LIMIT = 20.0
_MISSING: Any = object()
T = TypeVar("T")


class CheckTimeout(BaseException):
    """Injected into a runaway learner thread. A BaseException, so ``except Exception``
    in learner code cannot swallow it."""


class _CaseFailedError(Exception):
    pass


@dataclass
class CaseResult:
    name: str
    passed: bool
    expected: str = ""
    got: str = ""
    hint: str = ""
    not_started: bool = False


@dataclass
class CheckResult:
    exercise_id: str
    title: str
    cases: list[CaseResult] = field(default_factory=list)
    error: str | None = None  # the checker could not run at all (time limit, bad input)

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.cases) and all(c.passed for c in self.cases)

    @property
    def not_started(self) -> bool:
        return any(c.not_started for c in self.cases)

    def report(self) -> str:
        head = f"Exercise {self.exercise_id}: {self.title}"
        if self.error is not None:
            return f"{head}\n  ✗ {self.error}"
        if self.passed:
            return f"{head}\n  ✓ passed ({len(self.cases)} checks)"
        failed = [c for c in self.cases if not c.passed]
        lines = [f"{head}\n  ✗ {len(failed)} of {len(self.cases)} checks failing"]
        if self.not_started:
            lines.append(
                "    (the stub still raises NotImplementedError: replace it with your code)"
            )
        for case in self.cases:
            if case.passed:
                lines.append(f"  ✓ {case.name}")
                continue
            lines.append(f"  ✗ {case.name}")
            if case.expected:
                lines.append(f"      expected: {case.expected}")
            lines.append(f"      got:      {case.got}")
            if case.hint:
                lines.append(f"      hint:     {case.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def short_repr(value: object, limit: int = 160) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a learner object with a broken __repr__
        text = f"<unrepresentable {type(value).__name__}: {exc}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """One line a learner can act on: the type, the message, and where in *their* code."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    for frame in reversed(frames):
        if "coursekit" not in frame.filename and "site-packages" not in frame.filename:
            where = f" (line {frame.lineno} of {frame.name})"
            break
    message = str(exc)
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"


class Checker:
    """Collects the cases of one check. Handed to every checker function."""

    def __init__(self) -> None:
        self.cases: list[CaseResult] = []
        self._stack = ExitStack()

    # -- evaluation --------------------------------------------------------------
    def _evaluate(self, name: str, compute: Callable[[], T] | T) -> T:
        """Run ``compute``; an exception fails the case named ``name`` and is re-raised
        as ``_CaseFailedError`` so the caller records nothing twice."""
        if not callable(compute):
            return compute
        try:
            return compute()
        except CheckTimeout:
            raise
        except NotImplementedError as exc:
            self.cases.append(
                CaseResult(name, False, got=describe_exception(exc), not_started=True)
            )
            raise _CaseFailedError from exc
        except Exception as exc:
            self.cases.append(CaseResult(name, False, got=f"raised {describe_exception(exc)}"))
            raise _CaseFailedError from exc

    def equal(
        self,
        name: str,
        got: Any,
        expected: Any,
        *,
        hint: str = "",
        show: Callable[[Any], str] = short_repr,
    ) -> bool:
        """Case passes when ``got`` (or ``got()``) equals ``expected``."""
        try:
            value = self._evaluate(name, got)
        except _CaseFailedError:
            self.cases[-1].expected = show(expected)
            self.cases[-1].hint = hint
            return False
        ok = bool(value == expected)
        self.cases.append(
            CaseResult(name, ok, expected=show(expected), got=show(value), hint="" if ok else hint)
        )
        return ok

    def that(
        self,
        name: str,
        got: Any,
        predicate: Callable[[Any], bool],
        *,
        expected: str,
        hint: str = "",
        show: Callable[[Any], str] = short_repr,
    ) -> bool:
        """Case passes when ``predicate(got)`` is true; ``expected`` describes it in words."""
        ok, _value = self.run(name, got, accept=predicate, expected=expected, hint=hint, show=show)
        return ok

    def run(
        self,
        name: str,
        got: Any,
        *,
        accept: Callable[[Any], bool] | None = None,
        expected: str = "runs without an exception",
        hint: str = "",
        show: Callable[[Any], str] = short_repr,
    ) -> tuple[bool, Any]:
        """A step later cases build on: evaluate ``got`` (or ``got()``), record a case that
        passes when it did not raise and ``accept(value)`` holds, and hand back
        ``(passed, value)`` so the checker can go on with the value (or stop)."""
        try:
            value = self._evaluate(name, got)
        except _CaseFailedError:
            self.cases[-1].expected = expected
            self.cases[-1].hint = hint
            return False, None
        try:
            ok = accept is None or bool(accept(value))
            shown = show(value)
        except Exception as exc:
            ok, shown = False, f"<{describe_exception(exc)}>"
        self.cases.append(
            CaseResult(name, ok, expected=expected, got=shown, hint="" if ok else hint)
        )
        return ok, value

    def raises(
        self,
        name: str,
        action: Callable[[], object],
        exception: type[BaseException] | tuple[type[BaseException], ...],
        *,
        hint: str = "",
        match: str | None = None,
    ) -> bool:
        """Case passes when ``action()`` raises ``exception`` (optionally containing ``match``)."""
        names = (
            " or ".join(e.__name__ for e in exception)
            if isinstance(exception, tuple)
            else exception.__name__
        )
        expected = f"raises {names}" + (f" mentioning {match!r}" if match else "")
        try:
            value = action()
        except CheckTimeout:
            raise
        except NotImplementedError as exc:
            if isinstance(exception, type) and issubclass(NotImplementedError, exception):
                pass
            else:
                self.cases.append(
                    CaseResult(name, False, expected, describe_exception(exc), hint, True)
                )
                return False
            value = exc
            got_exc: BaseException | None = exc
        except BaseException as exc:
            got_exc = exc
        else:
            self.cases.append(
                CaseResult(name, False, expected, f"returned {short_repr(value)}", hint)
            )
            return False
        assert got_exc is not None
        ok = isinstance(got_exc, exception) and (match is None or match in str(got_exc))
        self.cases.append(
            CaseResult(name, ok, expected, describe_exception(got_exc), "" if ok else hint)
        )
        return ok

    # -- resources -----------------------------------------------------------------
    def client(self, app: Any) -> Any:
        """A Starlette ``TestClient`` with the app's lifespan running; closed after the check.

        Raises ``_CaseFailedError`` (recorded as a case) when ``app`` is not an ASGI app or
        its start-up fails."""
        from starlette.testclient import TestClient

        def start() -> Any:
            if not callable(app):
                raise TypeError(f"expected a FastAPI app, got {type(app).__name__}")
            return self._stack.enter_context(TestClient(app, raise_server_exceptions=False))

        return self._evaluate("the app starts (lifespan runs)", start)

    def enter_context(self, manager: AbstractContextManager[T]) -> T:
        """Enter ``manager`` now and exit it when the check ends (after the clients it
        opened are closed: resources are released in reverse order)."""
        return self._stack.enter_context(manager)

    def callback(self, function: Callable[..., object], /, *args: object) -> None:
        """Call ``function(*args)`` when the check ends, even when it fails or times out."""
        self._stack.callback(function, *args)

    def close(self) -> None:
        self._stack.close()


@dataclass(frozen=True)
class Exercise:
    exercise_id: str
    title: str
    function: Callable[..., None]
    arity: int
    time_limit: float


_REGISTRY: dict[str, Exercise] = {}


def exercise(
    exercise_id: str, title: str, *, arity: int = 1, time_limit: float = DEFAULT_TIME_LIMIT
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a checker for ``exercise_id`` (``"<phase>.<n>"``)."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        if exercise_id in _REGISTRY:
            raise ValueError(f"exercise {exercise_id} registered twice")
        _REGISTRY[exercise_id] = Exercise(exercise_id, title, function, arity, time_limit)
        return function

    return register


def _load_phase(exercise_id: str) -> None:
    phase = exercise_id.split(".", 1)[0]
    if phase.isdigit():
        module = f"coursekit.checks.phase{int(phase):02d}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a phase module that exists but fails to import is a bug
                raise


def registered(phase: int | None = None) -> list[Exercise]:
    """All exercises (of one phase), in order."""
    if phase is not None:
        _load_phase(f"{phase}.0")
    else:
        for number in range(1, 13):
            _load_phase(f"{number}.0")
    found = [
        e for e in _REGISTRY.values() if phase is None or e.exercise_id.startswith(f"{phase}.")
    ]
    return sorted(found, key=lambda e: tuple(int(p) for p in e.exercise_id.split(".")))


def _async_raise(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    ident = thread.ident
    if ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc_type))


@contextmanager
def _quiet_threads() -> Iterator[None]:
    """Do not print 'Exception in thread' noise for the runaway thread we interrupt."""
    original = threading.excepthook
    threading.excepthook = lambda args: None
    try:
        yield
    finally:
        threading.excepthook = original


def run_check(
    exercise_id: object, *objects: object, time_limit: float | None = None
) -> CheckResult:
    """Run a checker and return its result. Never raises."""
    key = str(exercise_id).strip()
    _load_phase(key)
    spec = _REGISTRY.get(key)
    if spec is None:
        known = ", ".join(e.exercise_id for e in registered()) or "none"
        return CheckResult(key, "unknown exercise", error=f"no exercise {key!r}; known: {known}")
    result = CheckResult(spec.exercise_id, spec.title)
    if len(objects) != spec.arity:
        result.error = (
            f"check({key!r}, ...) takes {spec.arity} object(s) after the id, got {len(objects)}; "
            "pass exactly what the check cell passes"
        )
        return result

    checker = Checker()
    outcome: dict[str, BaseException] = {}

    def target() -> None:
        try:
            spec.function(checker, *objects)
        except _CaseFailedError:
            pass  # already recorded; remaining cases depend on the failed one
        except CheckTimeout as exc:
            outcome["timeout"] = exc
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            try:
                checker.close()
            except BaseException as exc:
                outcome.setdefault("error", exc)

    limit = spec.time_limit if time_limit is None else time_limit
    thread = threading.Thread(target=target, name=f"check-{key}", daemon=True)
    with _quiet_threads():
        thread.start()
        thread.join(limit)
        if thread.is_alive():
            _async_raise(thread, CheckTimeout)
            thread.join(2.0)
            result.cases = list(checker.cases)
            result.error = (
                f"stopped after {limit:g} s: your code did not finish "
                "(an infinite loop, or a call that waits forever?)"
            )
            return result
    result.cases = list(checker.cases)
    if "timeout" in outcome:
        result.error = f"stopped after {limit:g} s: your code did not finish"
    elif "error" in outcome:
        exc = outcome["error"]
        if isinstance(exc, NotImplementedError):
            result.cases.append(
                CaseResult("your code runs", False, got=describe_exception(exc), not_started=True)
            )
        else:
            result.error = f"the check could not run your code: {describe_exception(exc)}"
    elif not result.cases:
        result.error = "the checker recorded no cases (a bug in the checker: please report it)"
    return result


def check(exercise_id: object, *objects: object, time_limit: float | None = None) -> None:
    """Check an exercise and print the result. Never raises; returns nothing."""
    try:
        result = run_check(exercise_id, *objects, time_limit=time_limit)
        text = result.report()
    except BaseException as exc:  # the last line of defence: the kernel must survive
        text = f"Exercise {exercise_id}: the checker itself failed: {describe_exception(exc)}"
    print(text)
