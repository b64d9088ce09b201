"""The `course` command: generate, execute, check, list; bad input gets a clear message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from coursekit import notebooks as nb
from coursekit.cli import main
from coursekit.runner import check_lab


def test_list_shows_every_exercise(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "1.1" in out
    assert "2.1" in out


def test_generate_check_reports_no_drift(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--check"]) == 0
    assert "labs in sync" in capsys.readouterr().out


def test_generate_check_detects_a_drifted_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    solutions = tmp_path / "solutions"
    exercises = tmp_path / "exercises"
    shutil.copytree(nb.SOLUTIONS, solutions)
    shutil.copytree(nb.EXERCISES, exercises, ignore=shutil.ignore_patterns("coursekit"))
    lab = sorted(exercises.glob("[0-9][0-9]_*.ipynb"))[0]
    notebook = nb.read(lab)
    notebook.cells[0].source += "\n(edited by hand)"
    nb.write_with_pair(notebook, lab)
    monkeypatch.setattr(nb, "SOLUTIONS", solutions)
    monkeypatch.setattr(nb, "EXERCISES", exercises)
    assert main(["generate", "--check"]) == 1
    assert "drift:" in capsys.readouterr().out


def test_generate_rejects_broken_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    notebook = nb.read(sorted(nb.SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))[0])
    notebook.cells.append(nb.nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1"))
    nb.nbformat.write(notebook, solutions / "01_broken.ipynb")
    monkeypatch.setattr(nb, "SOLUTIONS", solutions)
    monkeypatch.setattr(nb, "EXERCISES", tmp_path)
    assert main(["generate", "--no-execute"]) == 1
    assert "never closed" in capsys.readouterr().err


def test_execute_refuses_what_is_not_a_notebook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["execute", "README.md", "no/such.ipynb"]) == 1
    assert capsys.readouterr().err.count("not an existing .ipynb") == 2


def test_check_on_the_solved_lab_passes_and_on_the_stub_lab_fails() -> None:
    solved = check_lab(sorted(nb.SOLUTIONS.glob("01_*.ipynb"))[0])
    assert solved.all_passed, solved.text()
    stub = check_lab(sorted(nb.EXERCISES.glob("01_*.ipynb"))[0])
    assert not stub.all_passed
    assert len(stub.results) >= 3
    assert "NotImplementedError" in stub.text()


def test_check_command_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    lab = sorted(nb.SOLUTIONS.glob("02_*.ipynb"))[0]
    assert main(["check", "2", "--lab", str(lab)]) == 0
    out = capsys.readouterr().out
    assert "✓ passed" in out
    assert "4 of 4 exercises passed" in out
    assert main(["check", "02"]) == 1  # the pristine lab is all stubs
    out = capsys.readouterr().out
    assert "NotImplementedError" in out
    assert "0 of 4 exercises passed" in out


@pytest.mark.parametrize(
    ("phase", "message"),
    [("13", "no phase 13 in this course; phases: 01"), ("x", "'x' is not a phase number")],
)
def test_check_rejects_a_phase_the_course_does_not_have(
    capsys: pytest.CaptureFixture[str], phase: str, message: str
) -> None:
    assert main(["check", phase]) == 2
    err = capsys.readouterr().err
    assert err.startswith("course check: ") and message in err
    assert err.count("\n") == 1


def test_check_on_an_unreadable_lab_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "01_bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["check", "1", "--lab", str(bad)]) == 2
    assert main(["check", "1", "--lab", str(tmp_path / "missing.ipynb")]) == 2
    first, second = capsys.readouterr().err.splitlines()
    assert "corrupt notebook: not valid JSON" in first
    assert "missing.ipynb: no such file" in second


def test_check_refuses_the_lab_of_another_phase(capsys: pytest.CaptureFixture[str]) -> None:
    lab = sorted(nb.SOLUTIONS.glob("02_*.ipynb"))[0]
    assert main(["check", "1", "--lab", str(lab)]) == 2
    assert "is lab 02 (by its check cells), not 01" in capsys.readouterr().err


def test_check_without_the_lab_file_says_how_to_get_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(nb, "EXERCISES", tmp_path)
    assert main(["check", "1"]) == 2
    assert "course reset 1" in capsys.readouterr().err


def test_check_on_an_unreadable_lab_is_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "01_bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    report = check_lab(bad)
    assert not report.all_passed
    assert report.error is not None
    assert "cannot read" in report.error


def test_an_unexpected_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coursekit import doctor

    def broken(**_: object) -> int:
        raise OSError("disk on fire")

    monkeypatch.setattr(doctor, "doctor_command", broken)
    assert main(["doctor"]) == 1
    err = capsys.readouterr().err
    assert "course doctor: unexpected error: OSError: disk on fire" in err
    assert "Traceback" not in err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("doctor", "progress", "check", "reset", "grade", "generate", "list"):
        assert command in out


def test_audit_scores_course_app(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "course_app.main:create_app", "--factory", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 < report["score"] <= 100


def test_audit_of_an_app_that_cannot_load_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "no_such_module:app"]) == 2
    assert "cannot load no_such_module:app" in capsys.readouterr().err


def test_audit_below_the_minimum_score_is_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "course_app.main:create_app", "--factory", "--min-score", "101"]) == 1
