"""`course grade DIR`: every submission run once with a time limit; a CSV, a JSON and a
self-contained HTML report; broken submissions get a row saying why, never a crash."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from coursekit import grade
from coursekit import notebooks as nb
from coursekit.cli import main

SOLVED = sorted(nb.SOLUTIONS.glob("01_*.ipynb"))[0]
STUBS = sorted(nb.EXERCISES.glob("01_*.ipynb"))[0]
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook_of(path: Path, *cells: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(
        nbformat.v4.new_notebook(
            metadata={"kernelspec": KERNEL}, cells=[nbformat.v4.new_code_cell(c) for c in cells]
        ),
        path,
    )
    return path


@dataclass
class Graded:
    code: int
    out: str
    err: str
    rows: dict[str, dict[str, str]]  # by student
    header: list[str]
    html: str
    document: list[dict[str, object]]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """One grading run over a class of made-up students (3 notebooks actually execute)."""
    folder = tmp_path_factory.mktemp("submissions")
    (folder / "alice").mkdir()
    shutil.copy2(SOLVED, folder / "alice")
    shutil.copy2(SOLVED.with_suffix(".py"), folder / "alice")  # its twin: not a submission
    (folder / "bob").mkdir()
    shutil.copy2(STUBS, folder / "bob")
    (folder / "carol.txt").write_text("I did it all in my head", encoding="utf-8")
    (folder / "dave").mkdir()
    (folder / "erin_01_architecture.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "frank").mkdir()
    (folder / "frank" / "02_configuration.ipynb").write_bytes(b"")
    notebook_of(folder / "hank" / "notes.ipynb", "print('no lab here')")
    # a kernel name from the student's machine: the course kernel runs it anyway
    ivan = notebook_of(folder / "ivan" / "01_architecture.ipynb", "import os\nos._exit(3)")
    notebook = nbformat.read(ivan, as_version=4)
    notebook.metadata["kernelspec"]["name"] = "ivans-own-env"
    nbformat.write(notebook, ivan)
    (folder / "=HYPERLINK(1).ipynb").write_text("", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00")
    report_dir = folder / "_report"  # a report folder inside DIR is not a student
    report_dir.mkdir()
    (report_dir / "old.csv").write_text("x", encoding="utf-8")

    with pytest.MonkeyPatch.context() as patch:
        captured: dict[str, str] = {}
        import io
        import sys

        out, err = io.StringIO(), io.StringIO()
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        code = main(
            ["grade", str(folder), "--out", str(report_dir), "--timeout", "120", "--jobs", "2"]
        )
        captured["out"], captured["err"] = out.getvalue(), err.getvalue()
    with (report_dir / "grades.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    return Graded(
        code,
        captured["out"],
        captured["err"],
        rows,
        header,
        (report_dir / "report.html").read_text(encoding="utf-8"),
        json.loads((report_dir / "grades.json").read_text(encoding="utf-8")),
    )


def test_grading_succeeds_and_says_where_the_report_is(graded: Graded) -> None:
    assert graded.code == 0, graded.err
    assert "Graded 3 of 9 submissions from 9 students; 1 pass every exercise" in graded.out
    assert "grades.csv" in graded.out and "report.html" in graded.out


def test_one_row_per_submission_with_exercise_columns(graded: Graded) -> None:
    assert graded.header[:8] == [
        "student", "file", "lab", "status", "passed", "total", "score", "seconds"
    ]  # fmt: skip
    assert graded.header[-4:] == ["1.1", "1.2", "1.3", "1.4"]
    assert sorted(graded.rows) == sorted(
        ["'=HYPERLINK(1)", "alice", "bob", "carol", "dave", "erin", "frank", "hank", "ivan"]
    )


def test_a_solved_lab_scores_full_marks(graded: Graded) -> None:
    alice = graded.rows["alice"]
    assert (alice["status"], alice["passed"], alice["total"], alice["score"]) == (
        "graded", "4", "4", "100"
    )  # fmt: skip
    assert alice["file"] == "alice/01_architecture.ipynb"
    assert [alice[e] for e in ("1.1", "1.2", "1.3", "1.4")] == ["passed"] * 4


def test_an_untouched_lab_scores_zero_as_not_started(graded: Graded) -> None:
    bob = graded.rows["bob"]
    assert (bob["status"], bob["passed"], bob["score"]) == ("graded", "0", "0")
    assert bob["1.1"] == "not started"


@pytest.mark.parametrize(
    ("student", "status", "message"),
    [
        ("carol", "unreadable", "not a notebook (.txt)"),
        ("dave", "no submission", "folder is empty"),
        ("erin", "unreadable", "corrupt notebook: not valid JSON"),
        ("frank", "unreadable", "empty file"),
        ("hank", "unknown lab", "cannot tell which lab"),
        ("ivan", "stopped", "the kernel died"),
    ],
)
def test_a_broken_submission_gets_a_row_saying_why(
    graded: Graded, student: str, status: str, message: str
) -> None:
    row = graded.rows[student]
    assert row["status"] == status
    assert message in row["message"]


def test_a_dead_kernel_still_lists_the_exercises_not_reached(graded: Graded) -> None:
    ivan = graded.rows["ivan"]
    assert (ivan["passed"], ivan["total"]) == ("0", "4")
    assert ivan["1.1"] == "not run"


def test_csv_cells_cannot_become_spreadsheet_formulas(graded: Graded) -> None:
    row = graded.rows["'=HYPERLINK(1)"]
    assert row["file"] == "'=HYPERLINK(1).ipynb"


def test_the_json_has_every_case(graded: Graded) -> None:
    bob = next(d for d in graded.document if d["student"] == "bob")
    run = bob["run"]
    assert isinstance(run, dict)
    first = run["exercises"][0]
    assert first["exercise_id"] == "1.1" and first["status"] == "not started"
    assert any("NotImplementedError" in case["got"] for case in first["cases"])


def test_the_html_report_is_self_contained(graded: Graded) -> None:
    html = graded.html
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "Lab 01_architecture" in html and "Could not be graded" in html


def test_the_html_report_has_every_student_and_each_failure(graded: Graded) -> None:
    html = graded.html
    for student in ("alice", "bob", "carol", "dave", "erin", "frank", "hank", "ivan"):
        assert f'id="s-{student}"' in html
    assert "1.1 GET /version on the real app" in html  # bob's failure, with its title
    assert "NotImplementedError: your code here" in html
    assert "not a notebook (.txt)" in html


def test_grading_a_missing_folder_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "/no/such/folder"]) == 2
    err = capsys.readouterr().err
    assert err == "course grade: no such folder: /no/such/folder\n"


def test_grading_a_file_or_an_empty_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lone = tmp_path / "01_architecture.ipynb"
    lone.write_text("{}", encoding="utf-8")
    assert main(["grade", str(lone)]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["grade", str(empty)]) == 2
    first, second = capsys.readouterr().err.splitlines()
    assert "is a file: give the folder" in first
    assert "no submissions in" in second


def test_grading_needs_a_positive_time_limit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["grade", ".", "--timeout", "soon"])
    assert exit_info.value.code == 2
    assert "'soon' is not a number of seconds" in capsys.readouterr().err


def test_grading_needs_at_least_one_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "alice.txt").write_text("x", encoding="utf-8")
    assert main(["grade", str(tmp_path), "--jobs", "0"]) == 2
    assert "--jobs must be 1 or more" in capsys.readouterr().err


def test_an_infinite_loop_is_stopped_at_the_time_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Learner text is escaped in the report; an edited check cell is put back."""
    folder = tmp_path / "class"
    notebook_of(
        folder / "<gina>" / "01_architecture.ipynb",
        "from coursekit import check\ninclude_version = \"<script>alert('x')</script>\"",
        'check("1.1", include_version)  # I changed this line',
        "while True:\n    pass",
    )
    out = tmp_path / "report"
    assert main(["grade", str(folder), "--out", str(out), "--timeout", "5", "-q"]) == 0
    (row,) = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert row["status"] == "stopped"
    assert "time limit (5 s)" in row["message"]
    assert row["1.1"] == "failed" and row["1.2"] == "not run"
    assert "the check cell of 1.1 was edited" in row["notes"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;gina&gt;" in html
    assert "Graded 1 of 1" in capsys.readouterr().out


def test_student_names_from_file_names() -> None:
    assert grade.student_of_file(Path("alice_01_architecture.ipynb")) == "alice"
    assert grade.student_of_file(Path("01_architecture - Bob Smith.ipynb")) == "Bob Smith"
    assert grade.student_of_file(Path("01_architecture.ipynb")) == "01_architecture"
    assert grade.student_of_file(Path("carol.ipynb")) == "carol"


def test_discovery_skips_hidden_files_and_twins(
    tmp_path: Path, make_notebook: Callable[..., Path]
) -> None:
    make_notebook(tmp_path / "ann" / "01_architecture.ipynb", "x = 1")
    (tmp_path / "ann" / "01_architecture.py").write_text("# twin", encoding="utf-8")
    (tmp_path / "ann" / ".ipynb_checkpoints").mkdir()
    make_notebook(tmp_path / "ann" / ".ipynb_checkpoints" / "01_architecture-checkpoint.ipynb")
    (tmp_path / "ann" / "extra.py").write_text("print(1)", encoding="utf-8")
    (tmp_path / "__MACOSX").mkdir()
    found = grade.discover(tmp_path)
    assert [(s.student, s.path.name if s.path else None) for s in found] == [
        ("ann", "01_architecture.ipynb"),
        ("ann", "extra.py"),
    ]
