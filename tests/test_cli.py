"""The `course` command: generate, execute, check, list; bad input gets a clear message."""

from __future__ import annotations

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
    assert "passed" in capsys.readouterr().out
    assert main(["check", "2"]) == 1  # the pristine lab is all stubs


def test_check_rejects_a_phase_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "13"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_check_on_an_unreadable_lab_is_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "01_bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    report = check_lab(bad)
    assert not report.all_passed
    assert report.error is not None
    assert "cannot read" in report.error
