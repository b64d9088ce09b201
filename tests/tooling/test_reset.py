"""`course reset N`: a fresh lab in place, the learner's .ipynb and .py kept as backups."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jupytext
import pytest

from coursekit import notebooks as nb
from coursekit import reset
from coursekit.cli import main


def _work_on(lab: Path, code: str) -> None:
    """What a learner does: write code in the first stub, save (both files, paired)."""
    notebook = nb.read(lab)
    cell = next(
        c for c in notebook.cells if c.cell_type == "code" and "# YOUR CODE HERE" in c.source
    )
    cell.source += f"\n{code}"
    nb.write_with_pair(notebook, lab)


def _generated(course: Path, name: str) -> list[tuple[str, str]]:
    solved = nb.read(course / "solutions" / name)
    return nb.cell_signature(nb.exercise_from_solution(solved, name))


def test_reset_keeps_both_files_of_the_learner_and_restores_the_lab(
    course: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = course / "exercises" / "01_architecture.ipynb"
    _work_on(lab, "pass  # my precious work")
    assert main(["reset", "1"]) == 0
    out = capsys.readouterr().out
    backups = sorted((course / "backups").iterdir())
    assert [p.suffix for p in backups] == [".ipynb", ".py"]
    assert all(p.name.startswith("01_architecture.") for p in backups)
    assert "my precious work" in backups[0].read_text(encoding="utf-8")
    assert "my precious work" in backups[1].read_text(encoding="utf-8")
    assert "Backed up your lab" in out and "To get your version back: cp" in out
    # the lab is the generated one again, without outputs, and its twin agrees
    assert nb.cell_signature(nb.read(lab)) == _generated(course, lab.name)
    assert all(not c.get("outputs") for c in nb.read(lab).cells if c.cell_type == "code")
    assert nb.pair_drift(lab) is None
    assert "my precious work" not in lab.with_suffix(".py").read_text(encoding="utf-8")


def test_a_second_reset_never_overwrites_the_first_backup(course: Path) -> None:
    lab = course / "exercises" / "02_configuration.ipynb"
    _work_on(lab, "pass  # first try")
    assert main(["reset", "02"]) == 0
    _work_on(lab, "pass  # second try")
    assert main(["reset", "02_configuration"]) == 0
    texts = sorted(p.read_text(encoding="utf-8") for p in (course / "backups").glob("*.ipynb"))
    assert len(texts) == 2
    assert any("first try" in t for t in texts) and any("second try" in t for t in texts)


def test_backup_names_are_free_even_within_one_second(course: Path) -> None:
    now = datetime(2026, 11, 22, 9, 30, 5)
    first, first_twin = reset.backup_names("01_architecture", now)
    assert first.name == "01_architecture.20261122-093005.ipynb"
    assert first_twin.name == "01_architecture.20261122-093005.py"
    first.parent.mkdir()
    first_twin.write_text("only the twin was backed up", encoding="utf-8")
    second, _ = reset.backup_names("01_architecture", now)
    assert second.name == "01_architecture.20261122-093005-2.ipynb"


def test_an_untouched_lab_needs_no_backup(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reset", "1"]) == 0
    assert not (course / "backups").exists()
    assert "no backup needed" in capsys.readouterr().out


def test_a_deleted_lab_comes_back(course: Path) -> None:
    lab = course / "exercises" / "01_architecture.ipynb"
    lab.unlink()
    lab.with_suffix(".py").unlink()
    assert main(["reset", "1"]) == 0
    assert nb.cell_signature(nb.read(lab)) == _generated(course, lab.name)
    assert nb.pair_drift(lab) is None


def test_a_lone_edited_twin_is_backed_up_too(course: Path) -> None:
    twin = course / "exercises" / "01_architecture.py"
    twin.write_text(twin.read_text(encoding="utf-8") + "\n# edited in my editor\n", "utf-8")
    assert main(["reset", "1"]) == 0
    (backup,) = (course / "backups").glob("*.py")
    assert "edited in my editor" in backup.read_text(encoding="utf-8")


def test_dry_run_changes_nothing(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lab = course / "exercises" / "01_architecture.ipynb"
    _work_on(lab, "pass  # keep me")
    before = lab.read_text(encoding="utf-8")
    assert main(["reset", "1", "--dry-run"]) == 0
    assert lab.read_text(encoding="utf-8") == before
    assert not (course / "backups").exists()
    out = capsys.readouterr().out
    assert "Would back up" in out and "nothing was changed" in out


@pytest.mark.parametrize(
    ("phase", "message"), [("13", "no phase 13"), ("architecture", "not a phase number")]
)
def test_reset_refuses_a_phase_that_does_not_exist(
    course: Path, capsys: pytest.CaptureFixture[str], phase: str, message: str
) -> None:
    assert main(["reset", phase]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (course / "backups").exists()


def test_without_a_solved_lab_or_git_there_is_nothing_to_restore(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = course / "exercises" / "01_architecture.ipynb"
    _work_on(lab, "pass  # still here")
    (course / "solutions" / "01_architecture.ipynb").unlink()
    assert main(["reset", "1"]) == 1  # the tmp copy is not in git
    assert "no committed version in git to restore from" in capsys.readouterr().err
    assert "still here" in lab.read_text(encoding="utf-8")
    assert not (course / "backups").exists()


def test_the_committed_version_is_the_fallback() -> None:
    committed = reset._committed(sorted(nb.EXERCISES.glob("01_*.ipynb"))[0])
    assert committed is not None
    twin = jupytext.read(sorted(nb.EXERCISES.glob("01_*.py"))[0], fmt=nb.PAIR_FORMAT)
    assert len(committed.cells) == len(twin.cells)
    assert all(not c.get("outputs") for c in committed.cells if c.cell_type == "code")


def test_a_lab_that_no_longer_opens_is_backed_up_and_replaced(course: Path) -> None:
    lab = course / "exercises" / "01_architecture.ipynb"
    lab.write_text('{"cells": [ half a notebook', encoding="utf-8")
    assert main(["reset", "1"]) == 0
    (backup,) = (course / "backups").glob("*.ipynb")
    assert backup.read_text(encoding="utf-8") == '{"cells": [ half a notebook'
    assert nb.cell_signature(nb.read(lab)) == _generated(course, lab.name)
