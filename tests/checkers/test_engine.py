"""The checker engine itself: it never raises, enforces a time limit, explains failures."""

from __future__ import annotations

import time

import pytest

from coursekit.checking import Checker, check, exercise, run_check


@exercise("99.1", "double a number")
def _double(c: Checker, fn: object) -> None:
    assert callable(fn)
    c.equal("double(2)", lambda: fn(2), 4, hint="multiply by two")
    c.equal("double(-3)", lambda: fn(-3), -6, hint="negative numbers too")


@exercise("99.2", "raise on bad input")
def _raises(c: Checker, fn: object) -> None:
    assert callable(fn)
    c.raises("rejects -1", lambda: fn(-1), ValueError, hint="raise ValueError", match="negative")


@exercise("99.3", "a checker whose own code breaks")
def _broken(c: Checker, fn: object) -> None:
    raise KeyError("oops")


@exercise("99.4", "build, then use what was built")
def _steps(c: Checker, build: object) -> None:
    assert callable(build)
    built, value = c.run("build() returns a list", build, accept=lambda v: isinstance(v, list))
    if not built:
        return
    c.equal("it has two items", lambda: len(value), 2, hint="two")


def test_run_hands_back_the_value_for_later_cases() -> None:
    assert run_check("99.4", lambda: [1, 2]).passed
    wrong_type = run_check("99.4", lambda: "ab")
    assert [case.passed for case in wrong_type.cases] == [False]  # stopped after the step
    raised = run_check("99.4", lambda: 1 / 0)
    assert "ZeroDivisionError" in raised.report()
    assert len(raised.cases) == 1


def test_solution_passes_and_report_says_so() -> None:
    result = run_check("99.1", lambda x: x * 2)
    assert result.passed
    assert "✓ passed (2 checks)" in result.report()


def test_wrong_answer_lists_expected_got_and_hint() -> None:
    result = run_check("99.1", lambda x: x + 2)
    assert not result.passed
    text = result.report()
    assert "double(-3)" in text and "expected: -6" in text and "got:      -1" in text
    assert "hint:     negative numbers too" in text
    assert "✓ double(2)" in text  # the passing case is still shown


def test_exception_in_learner_code_is_reported_not_raised() -> None:
    def bad(x: int) -> int:
        return x // 0

    result = run_check("99.1", bad)
    assert not result.passed
    assert "ZeroDivisionError" in result.report()


def test_not_implemented_is_reported_as_not_started() -> None:
    def stub(x: int) -> int:
        raise NotImplementedError("your code here")

    result = run_check("99.1", stub)
    assert result.not_started
    assert "replace it with your code" in result.report()


def test_infinite_loop_is_stopped_by_the_time_limit() -> None:
    def spin(x: int) -> int:
        while True:
            x += 1

    started = time.monotonic()
    result = run_check("99.1", spin, time_limit=0.5)
    assert time.monotonic() - started < 5
    assert not result.passed
    assert "stopped after 0.5 s" in result.report()


def test_except_exception_in_learner_code_cannot_swallow_the_timeout() -> None:
    def stubborn(x: int) -> int:
        while True:
            try:
                while True:
                    x += 1
            except Exception:  # noqa: S112 - exactly what a learner might write
                continue

    result = run_check("99.1", stubborn, time_limit=0.3)
    assert result.error and "stopped" in result.error


def test_raises_case_passes_and_fails() -> None:
    def good(x: int) -> int:
        if x < 0:
            raise ValueError("negative input")
        return x

    assert run_check("99.2", good).passed
    result = run_check("99.2", lambda x: x)
    assert not result.passed and "returned -1" in result.report()
    result = run_check("99.2", lambda x: int("nope"))
    assert not result.passed  # wrong message: 'negative' not mentioned


def test_unknown_exercise_and_wrong_arity_are_readable() -> None:
    assert "no exercise '42.42'" in run_check("42.42", 1).report()
    assert "takes 1 object(s)" in run_check("99.1").report()
    assert "takes 1 object(s)" in run_check("99.1", 1, 2).report()


def test_wrong_type_of_object_is_readable() -> None:
    result = run_check("99.1", "not a function")
    assert not result.passed
    assert "could not run your code" in result.report()


def test_a_broken_checker_does_not_raise() -> None:
    result = run_check("99.3", print)
    assert not result.passed and "KeyError" in result.report()


def test_check_prints_and_returns_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert check("99.1", lambda x: x * 2) is None
    assert "✓ passed" in capsys.readouterr().out
    check("99.1", object())
    assert "✗" in capsys.readouterr().out


def test_check_survives_an_object_with_a_broken_repr(capsys: pytest.CaptureFixture[str]) -> None:
    class Weird:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

        def __eq__(self, other: object) -> bool:
            return False

        __hash__ = None  # type: ignore[assignment]

    check("99.1", lambda x: Weird())
    out = capsys.readouterr().out
    assert "unrepresentable Weird" in out


_released: list[str] = []


@exercise("99.5", "resources outlive the cases, then go")
def _resources(c: Checker, fn: object) -> None:
    from contextlib import contextmanager

    @contextmanager
    def resource() -> object:
        _released.append("opened")
        yield "handle"
        _released.append("closed")

    handle = c.enter_context(resource())
    c.callback(_released.append, "callback")
    c.equal("fn(handle)", lambda: fn(handle), "HANDLE", hint="upper-case it")  # type: ignore[operator]


def test_resources_are_released_in_reverse_order_even_when_a_case_fails() -> None:
    _released.clear()
    assert run_check("99.5", str.upper).passed
    assert _released == ["opened", "callback", "closed"]
    _released.clear()
    assert not run_check("99.5", str.lower).passed
    assert _released == ["opened", "callback", "closed"]
