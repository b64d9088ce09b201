"""Terminal output shared by the commands: rich consoles, progress bars, one-line errors.

Tables go to stdout; progress and errors go to stderr. Progress bars only appear on a
terminal (never in a pipe, a log or a test) and never with ``--quiet``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

# exit codes of every command (documented in docs/reference/course.md)
OK = 0
NOT_OK = 1  # what was checked is not right yet: a failing check, a machine problem
USAGE = 2  # bad input: unknown phase, missing folder, unreadable notebook, bad option
INTERRUPTED = 130

SYMBOL = {
    "passed": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "not started": "[dim]·[/]",
    "error": "[yellow]![/]",
    "not run": "[dim]-[/]",
}
LEGEND = "✓ passed   ✗ failing   · not started   ! error   - not run"


def stdout() -> Console:
    """A console on the *current* sys.stdout (tests capture it)."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=False)


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False)


def error(message: str, command: str = "") -> None:
    """One clear line on stderr."""
    prefix = f"course {command}: " if command else "course: "
    print(f"{prefix}{message}", file=sys.stderr)


def interactive() -> bool:
    """Both streams on a terminal. (While a bar is live, rich routes prints through it to
    stderr: with stdout redirected to a file, the bar stays off so the file gets them.)"""
    try:
        return sys.stdout.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def new_progress(*, quiet: bool = False) -> Progress:
    console = stderr()
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet or not interactive(),
    )


@contextmanager
def progress_bar(*, quiet: bool = False) -> Iterator[Progress]:
    progress = new_progress(quiet=quiet)
    with progress:
        yield progress
