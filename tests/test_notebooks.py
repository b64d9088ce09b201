"""The notebooks as files: pairs in sync, labs generated from solutions, lessons shaped
the way the course promises. (Their *outputs* are verified by nbval in `make test`.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from coursekit import notebooks as nb

LESSONS = sorted(nb.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SOLVED = sorted(nb.SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
LABS = sorted(nb.EXERCISES.glob("[0-9][0-9]_*.ipynb"))
ALL = LESSONS + SOLVED + LABS
MAX_CELL_LINES = 40  # "no cell longer than a screen"


def ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


def test_every_tree_has_notebooks() -> None:
    assert LESSONS, "no lessons in notebooks/"
    assert SOLVED, "no solved labs in solutions/"
    assert LABS, "no labs in exercises/"


def test_every_lab_has_its_lesson_and_solution() -> None:
    lessons = {p.name[:2] for p in LESSONS}
    assert {p.name for p in LABS} == {p.name for p in SOLVED}
    assert {p.name[:2] for p in SOLVED} <= lessons


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_pair_is_in_sync(path: Path) -> None:
    drift = nb.pair_drift(path)
    assert drift is None, f"{drift}: edit one side, then run `course execute` or jupytext --sync"


@pytest.mark.parametrize("path", SOLVED, ids=ids(SOLVED))
def test_lab_is_generated_from_its_solution(path: Path) -> None:
    drift = nb.lab_drift(path)
    assert drift is None, f"{drift}: run `course generate {path.name[:2]}`"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_notebook_uses_the_course_kernel_and_was_executed(path: Path) -> None:
    notebook = nb.read(path)
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    assert code, "no code cells"
    unexecuted = [i for i, cell in enumerate(code) if cell.get("execution_count") is None]
    assert not unexecuted, f"code cells {unexecuted} were not executed: run `course execute`"
    errors = [
        i
        for i, cell in enumerate(code)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"code cells {errors} end in an error"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_no_cell_is_longer_than_a_screen(path: Path) -> None:
    long = [
        (i, len(cell.source.splitlines()))
        for i, cell in enumerate(nb.read(path).cells)
        if cell.cell_type == "code" and len(cell.source.splitlines()) > MAX_CELL_LINES
    ]
    assert not long, f"cells longer than {MAX_CELL_LINES} lines (index, lines): {long}"


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_lesson_opens_with_objectives_and_closes_with_a_summary(path: Path) -> None:
    markdown = [c.source for c in nb.read(path).cells if c.cell_type == "markdown"]
    opening = "\n".join(markdown[:2]).lower()
    for word in ("objective", "time", "prerequisite"):
        assert word in opening, f"the opening does not mention {word!r}"
    closing = "\n".join(markdown[-3:]).lower()
    assert "summary" in closing
    assert "checklist" in closing


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_lesson_explains_between_cells(path: Path) -> None:
    cells = nb.read(path).cells
    code = sum(cell.cell_type == "code" for cell in cells)
    prose = sum(cell.cell_type == "markdown" for cell in cells)
    assert prose >= code * 0.6, f"{prose} prose cells for {code} code cells"


@pytest.mark.parametrize("path", LABS, ids=ids(LABS))
def test_labs_contain_no_solution_and_every_stub_is_followed_by_a_check(path: Path) -> None:
    cells = [c for c in nb.read(path).cells if c.cell_type == "code"]
    assert not any("### BEGIN SOLUTION" in c.source for c in cells)
    stubs = [i for i, c in enumerate(cells) if "# YOUR CODE HERE" in c.source]
    assert len(stubs) >= 3
    for index in stubs:
        following = cells[index + 1].source if index + 1 < len(cells) else ""
        assert following.lstrip().startswith("check("), f"no check cell after code cell {index}"


# --- the generator itself --------------------------------------------------------------


def test_stub_source_keeps_indentation_and_uses_default_stub() -> None:
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    assert nb.stub_source(source) == (
        'def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError("your code here")'
    )


def test_stub_source_custom_stub_for_module_level_code() -> None:
    source = "### BEGIN SOLUTION stub: app = None\napp = make()\n### END SOLUTION\nprint(app)"
    assert nb.stub_source(source) == "# YOUR CODE HERE\napp = None\nprint(app)"


def test_solution_source_only_drops_markers() -> None:
    source = "x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION"
    assert nb.solution_source(source) == "x = 1\ny = 2"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
    ],
)
def test_bad_markers_are_reported_with_the_line(source: str, message: str) -> None:
    with pytest.raises(nb.MarkerError, match=message):
        nb.stub_source(source, where="lab cell 3")
