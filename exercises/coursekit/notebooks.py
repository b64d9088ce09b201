"""Notebook plumbing: locate the course trees, turn solved labs into exercises,
keep ``.ipynb``/``.py`` pairs in sync, execute notebooks in place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
TREES = (NOTEBOOKS, EXERCISES, SOLUTIONS)
PAIR_FORMAT = "py:percent"

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?:[ \t]+stub:[ \t]*(?P<stub>.*))?$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
DEFAULT_STUB = 'raise NotImplementedError("your code here")'


class MarkerError(ValueError):
    """A solution cell whose markers do not pair up."""


def replace_solutions(
    source: str, replacement: Callable[[str, str | None], list[str]], *, where: str = "cell"
) -> str:
    """Swap every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region of ``source`` for
    ``replacement(indent, stub)``: the region's indentation and the text after ``stub:``
    on its BEGIN line (or None). Unpaired markers raise :class:`MarkerError`."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise MarkerError(f"{where}: nested BEGIN SOLUTION at line {number}")
            inside = True
            out.extend(replacement(begin.group("indent"), begin.group("stub")))
            continue
        if END.match(line):
            if not inside:
                raise MarkerError(f"{where}: END SOLUTION without BEGIN at line {number}")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: BEGIN SOLUTION is never closed")
    return "\n".join(out)


def stub_source(source: str, *, where: str = "cell") -> str:
    """The lab version of a solved cell: each region becomes ``# YOUR CODE HERE`` and then
    either the text after ``stub:`` on the BEGIN line, or ``raise NotImplementedError(...)``,
    at the region's indentation."""

    def stub(indent: str, text: str | None) -> list[str]:
        return [f"{indent}# YOUR CODE HERE", indent + (text or DEFAULT_STUB).strip()]

    return replace_solutions(source, stub, where=where)


def solution_source(source: str) -> str:
    """The solved code without markers (what the solutions notebook runs)."""
    return "\n".join(
        line for line in source.splitlines() if not BEGIN.match(line) and not END.match(line)
    )


def has_solution(source: str) -> bool:
    return any(BEGIN.match(line) for line in source.splitlines())


def read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def write_with_pair(notebook: Any, path: Path) -> None:
    """Write ``path`` (.ipynb) and its ``py:percent`` twin."""
    notebook.metadata.setdefault("jupytext", {})["formats"] = f"ipynb,{PAIR_FORMAT}"
    nbformat.write(notebook, path)
    jupytext.write(notebook, path.with_suffix(".py"), fmt=PAIR_FORMAT)


def exercise_from_solution(solution: Any, name: str = "") -> Any:
    """The lab notebook generated from a solved one: stubs in place, no outputs."""
    lab = nbformat.v4.new_notebook(metadata=dict(solution.metadata))
    for index, cell in enumerate(solution.cells):
        source = cell.source
        if cell.cell_type == "code":
            source = stub_source(source, where=f"{name} cell {index}")
            new = nbformat.v4.new_code_cell(source, metadata=dict(cell.metadata))
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source, metadata=dict(cell.metadata))
        else:
            new = nbformat.v4.new_raw_cell(source, metadata=dict(cell.metadata))
        if "id" in cell:
            new["id"] = cell["id"]
        lab.cells.append(new)
    return lab


def cell_signature(notebook: Any) -> list[tuple[str, str]]:
    """What must match between two notebooks: cell types and sources."""
    return [(cell.cell_type, cell.source.rstrip()) for cell in notebook.cells]


@dataclass(frozen=True)
class Drift:
    path: Path
    reason: str


def pair_drift(path: Path) -> Drift | None:
    """Compare an ``.ipynb`` with its ``.py`` twin, cell by cell."""
    twin = path.with_suffix(".py")
    if not twin.exists():
        return Drift(path, f"missing pair {twin.name}")
    left = cell_signature(read(path))
    right = cell_signature(jupytext.read(twin, fmt=PAIR_FORMAT))
    if left != right:
        for index, (a, b) in enumerate(zip(left, right, strict=False)):
            if a != b:
                return Drift(path, f"cell {index} differs from {twin.name}")
        return Drift(path, f"{len(left)} cells in .ipynb, {len(right)} in {twin.name}")
    return None


def lab_drift(solution_path: Path) -> Drift | None:
    """Is ``exercises/<name>.ipynb`` exactly what ``solutions/<name>.ipynb`` generates?"""
    lab_path = EXERCISES / solution_path.name
    if not lab_path.exists():
        return Drift(lab_path, "missing: run `course generate`")
    expected = cell_signature(exercise_from_solution(read(solution_path), solution_path.name))
    actual = cell_signature(read(lab_path))
    if expected != actual:
        for index, (a, b) in enumerate(zip(expected, actual, strict=False)):
            if a != b:
                return Drift(lab_path, f"cell {index} differs from the generated version")
        return Drift(lab_path, "cell count differs from the generated version")
    return None


def notebooks_in(trees: Iterable[Path] = TREES) -> list[Path]:
    found: list[Path] = []
    for tree in trees:
        found.extend(
            p
            for p in sorted(tree.glob("[0-9][0-9]_*.ipynb"))
            if ".ipynb_checkpoints" not in p.parts
        )
    return found


def execute(path: Path, *, timeout: int = 300, kernel_name: str = "") -> float:
    """Execute a notebook in place in a fresh kernel (cwd = its folder); return seconds."""
    import time

    from nbclient import NotebookClient

    notebook = read(path)
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=kernel_name or notebook.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    elapsed = time.perf_counter() - started
    write_with_pair(notebook, path)
    return elapsed
