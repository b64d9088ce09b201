"""coursekit.labrun without a kernel: reading submissions, telling their lab, preparing them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from coursekit import labrun
from coursekit import notebooks as nb
from coursekit.labrun import MIME, LabFileError


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"  \n\t ", "empty file"),
        (b"{not json", "not valid JSON (line 1, column 2"),
        (b"[1, 2, 3]", "has no cells"),
        (b'{"cells": "nope", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "not a valid"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
    ],
    ids=["empty", "blank", "corrupt-json", "json-list", "invalid-notebook", "binary"],
)
def test_a_bad_file_is_one_line_saying_why(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "01_architecture.ipynb"
    path.write_bytes(content)
    with pytest.raises(LabFileError) as caught:
        labrun.load_notebook(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_what_is_not_an_ipynb_is_refused_by_its_kind(tmp_path: Path) -> None:
    text = tmp_path / "answers.txt"
    text.write_text("my answers", encoding="utf-8")
    with pytest.raises(LabFileError, match=r"not a notebook \(\.txt\)"):
        labrun.load_notebook(text)
    with pytest.raises(LabFileError, match="no such file"):
        labrun.load_notebook(tmp_path / "missing.ipynb")
    with pytest.raises(LabFileError, match="a folder"):
        labrun.load_notebook(tmp_path)


def test_a_committed_lab_loads() -> None:
    notebook = labrun.load_notebook(sorted(nb.SOLUTIONS.glob("01_*.ipynb"))[0])
    assert list(labrun.check_cells(notebook)) == ["1.1", "1.2", "1.3", "1.4"]


@pytest.mark.parametrize(
    ("text", "phase"), [("1", 1), ("01", 1), ("07_testing", 7), ("12", 12), (" 3 ", 3)]
)
def test_parse_phase_accepts_the_usual_spellings(text: str, phase: int) -> None:
    assert labrun.parse_phase(text) == phase


@pytest.mark.parametrize("text", ["x", "", "1.1", "-1", "100", "01-architecture"])
def test_parse_phase_rejects_the_rest(text: str) -> None:
    with pytest.raises(ValueError, match="not a phase number"):
        labrun.parse_phase(text)


def test_phases_are_discovered_from_the_files(course: Path) -> None:
    assert labrun.known_phases() == [1, 2]
    (course / "solutions" / "09_performance.ipynb").write_text("{}", encoding="utf-8")
    assert labrun.known_phases() == [1, 2, 9]
    assert labrun.describe_phases([1, 9]) == "01, 09"


def test_a_duplicated_lab_is_not_taken_for_the_lab(course: Path) -> None:
    lab = course / "exercises" / "01_architecture.ipynb"
    (course / "exercises" / "01_architecture-Copy1.ipynb").write_bytes(lab.read_bytes())
    assert labrun.phase_files(course / "exercises")[1] == lab


def test_phase_comes_from_check_cells_then_the_name(
    tmp_path: Path, make_notebook: Callable[..., Path]
) -> None:
    by_cells = make_notebook(tmp_path / "alice.ipynb", 'check("2.1", A)', 'check("2.2", b)')
    assert labrun.detect_phase(by_cells, nb.read(by_cells)) == (2, None)
    by_name = make_notebook(tmp_path / "bob_03_pydantic.ipynb", "x = 1")
    assert labrun.detect_phase(by_name, nb.read(by_name)) == (3, None)
    nothing = make_notebook(tmp_path / "notes.ipynb", "x = 1")
    assert labrun.detect_phase(nothing, nb.read(nothing)) == (None, None)


def test_a_misnamed_submission_is_graded_by_its_check_cells(
    tmp_path: Path, make_notebook: Callable[..., Path]
) -> None:
    path = make_notebook(tmp_path / "01_architecture.ipynb", 'check("2.1", ShopSettings)')
    phase, note = labrun.detect_phase(path, nb.read(path))
    assert phase == 2
    assert note is not None and "lab 01" in note and "graded as lab 02" in note


def test_prepare_restores_edited_and_missing_check_cells(course: Path) -> None:
    notebook = nb.read(course / "exercises" / "01_architecture.ipynb")
    edited = next(c for c in notebook.cells if c.source.startswith('check("1.1"'))
    edited.source = 'check("1.1", lambda app: None)'
    notebook.cells = [c for c in notebook.cells if not c.source.startswith('check("1.3"')]
    prepared, expected, notes = labrun.prepare(notebook, 1, "tok")
    assert expected == ["1.1", "1.2", "1.3", "1.4"]
    assert "coursekit-hook" in prepared.cells[0].metadata["tags"]
    assert "'tok'" in prepared.cells[0].source and MIME in prepared.cells[0].source
    sources = [c.source for c in prepared.cells]
    assert 'check("1.1", include_version)' in sources
    assert 'check("1.1", lambda app: None)' not in sources
    assert sources[-1].startswith('check("1.3"')
    assert any("1.1 was edited" in n for n in notes)
    assert any("1.3 was missing" in n for n in notes)


def test_learner_code_around_a_check_is_never_replaced(course: Path) -> None:
    notebook = nb.read(course / "exercises" / "01_architecture.ipynb")
    mine = 'def include_version(app):\n    pass  # mine\n\ncheck("1.1", include_version)'
    notebook.cells = [c for c in notebook.cells if not c.source.startswith('check("1.1"')]
    notebook.cells.append(nbformat.v4.new_code_cell(mine))
    prepared, _expected, notes = labrun.prepare(notebook, 1, "tok")
    sources = [c.source for c in prepared.cells]
    assert mine in sources
    assert sources[-1] == 'check("1.1", include_version)'  # the lab's own, last: it counts
    assert any("1.1 is inside a cell of other code" in n for n in notes)


def test_results_need_the_run_token() -> None:
    forged = {"token": "guess", "exercise_id": "1.1", "passed": True}
    real = {"token": "secret", "exercise_id": "1.2", "passed": False, "cases": []}
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={MIME: forged}),
        nbformat.v4.new_output("display_data", data={MIME: json.dumps(real)}),
        nbformat.v4.new_output("stream", name="stdout", text="✓ passed"),
    ]
    found = labrun._results_of(cell, "secret")
    assert [r["exercise_id"] for r in found] == ["1.2"]


def test_an_exercise_result_explains_itself() -> None:
    result = labrun._exercise_from(
        {
            "exercise_id": "1.1",
            "title": "t",
            "passed": False,
            "not_started": False,
            "error": None,
            "cases": [
                {"name": "GET /version", "passed": False, "got": "404"},
                {"name": "body", "passed": False, "got": "{}"},
                {"name": "ok", "passed": True},
            ],
        }
    )
    assert result.status == labrun.FAILED
    assert result.summary() == "GET /version: got 404 (+1 more)"
    stopped = labrun._exercise_from({"exercise_id": "1.2", "error": "stopped after 20 s"})
    assert stopped.status == labrun.ERROR
    assert stopped.summary() == "stopped after 20 s"


def test_a_kernel_without_the_checks_is_reported_not_crashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_notebook: Callable[..., Path]
) -> None:
    """The hook cannot load (another environment's kernel): each check cell's own error
    and a note say so. (Runs one small notebook.)"""
    monkeypatch.setattr(
        labrun, "_HOOK", "raise ImportError('no coursekit here')  # %(mime)s%(token)s"
    )
    lab = make_notebook(tmp_path / "01_architecture.ipynb", 'check("1.1", None)')
    run = labrun.run_lab(lab, phase=1, timeout=60)
    assert run.error is None
    assert any("cannot load the course's checks: ImportError: no coursekit" in n for n in run.notes)
    first = run.exercises["1.1"]
    assert first.status == labrun.ERROR
    assert first.error == "the check cell raised NameError: name 'check' is not defined"
    assert run.exercises["1.2"].status == labrun.ERROR  # appended at the end, raised the same
