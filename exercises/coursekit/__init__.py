"""coursekit: the exercise tooling of the course.

In a lab notebook::

    from coursekit import check
    check("1.1", make_settings)

``check`` never raises: it prints either a pass line or, for each failing case, what
was expected, what came back and a hint.
"""

from coursekit.checking import CaseResult, CheckResult, check, run_check

__all__ = ["CaseResult", "CheckResult", "check", "run_check"]
