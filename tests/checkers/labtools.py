"""Run a solved lab in-process with one exercise swapped for a stub or a mutant.

The proof that a checker works is three-sided: it accepts the reference solution,
rejects the generated stub, and rejects plausible wrong answers (mutants). Each
mutant is the *body* that replaces the ``### BEGIN SOLUTION`` region of one exercise.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit import notebooks as nb
from coursekit.checking import CheckResult, run_check
from coursekit.runner import CHECK_CALL

STUB = object()  # sentinel: use the generated stub for this exercise


@dataclass(frozen=True)
class LabCell:
    source: str
    exercise_id: str | None  # set on exercise cells (those with solution markers)
    check_args: tuple[str, ...] | None  # set on check cells: the argument expressions


def solution_path(phase: int) -> Path:
    matches = sorted(nb.SOLUTIONS.glob(f"{phase:02d}_*.ipynb"))
    assert matches, f"no solved lab for phase {phase}"
    return matches[0]


def lab_cells(phase: int) -> list[LabCell]:
    """The code cells of a solved lab, each exercise cell tagged with its exercise id
    (taken from the first check cell after it)."""
    raw = [c.source for c in nb.read(solution_path(phase)).cells if c.cell_type == "code"]
    cells: list[LabCell] = []
    pending: list[int] = []
    for source in raw:
        match = CHECK_CALL.search(source)
        if match:
            call = ast.parse(source.strip()).body[0]
            assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
            args = tuple(ast.unparse(a) for a in call.value.args[1:])
            for index in pending:
                cells[index] = LabCell(cells[index].source, match.group(1), None)
            pending = []
            cells.append(LabCell(source, None, args))
        elif nb.has_solution(source):
            pending.append(len(cells))
            cells.append(LabCell(source, None, None))
        else:
            cells.append(LabCell(source, None, None))
    return cells


def replace_region(source: str, body: str) -> str:
    """Swap every solution region of ``source`` for ``body`` at the region's indent."""
    lines = textwrap.dedent(body).strip("\n").splitlines()
    return nb.replace_solutions(
        source, lambda indent, _stub: [indent + line if line else line for line in lines]
    )


def _strip_magics(source: str) -> str:
    return "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )


def _exec_cell(source: str, namespace: dict[str, Any], name: str) -> None:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(_strip_magics(source), name, "exec", flags=flags, dont_inherit=True)
    result = eval(code, namespace)  # noqa: S307 - our own lab cells
    if asyncio.iscoroutine(result):
        asyncio.run(result)


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_lab(phase: int, swaps: Mapping[str, object] | None = None) -> dict[str, Any]:
    """Execute the solved lab of ``phase`` with ``swaps`` ({exercise id: body or STUB});
    return the notebook's namespace. Check cells are skipped."""
    swaps = dict(swaps or {})
    namespace: dict[str, Any] = {"__name__": "__main__"}
    with _cwd(nb.SOLUTIONS):
        for index, cell in enumerate(lab_cells(phase)):
            if cell.check_args is not None:
                continue
            source = cell.source
            if cell.exercise_id is not None and cell.exercise_id in swaps:
                swap = swaps.pop(cell.exercise_id)
                source = (
                    nb.stub_source(source) if swap is STUB else replace_region(source, str(swap))
                )
            else:
                source = nb.solution_source(source)
            _exec_cell(source, namespace, f"<lab {phase:02d} cell {index}>")
    assert not swaps, f"no exercise cell for {sorted(swaps)} in lab {phase:02d}"
    return namespace


def check_with(phase: int, exercise_id: str, swap: object = None) -> CheckResult:
    """Run the lab (with ``exercise_id`` swapped, if ``swap`` is given) and check it."""
    namespace = run_lab(phase, {exercise_id: swap} if swap is not None else None)
    args = next(
        c.check_args
        for c in lab_cells(phase)
        if c.check_args is not None and _check_id(c.source) == exercise_id
    )
    objects = [eval(expr, namespace) for expr in args]  # noqa: S307 - our own lab cells
    return run_check(exercise_id, *objects)


def _check_id(source: str) -> str | None:
    match = CHECK_CALL.search(source)
    return match.group(1) if match else None


def exercise_ids(phase: int) -> list[str]:
    return [c.exercise_id for c in lab_cells(phase) if c.exercise_id is not None]
