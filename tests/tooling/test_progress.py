"""`course progress`: phases x exercises from the learner's own labs, each run once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from coursekit import labrun
from coursekit.cli import main
from coursekit.labrun import ExerciseResult, LabRun


def _run(phase: int, statuses: list[str], error: str | None = None) -> LabRun:
    run = LabRun(Path(f"{phase:02d}_lab.ipynb"), phase, error=error)
    for number, status in enumerate(statuses, start=1):
        exercise_id = f"{phase}.{number}"
        run.exercises[exercise_id] = ExerciseResult(exercise_id, f"title {number}", status)
    return run


def test_progress_runs_each_lab_once_and_reports_json(
    course: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lab 01 is solved; lab 02 was damaged (corrupt JSON): a row saying so, no crash."""
    shutil.copy2(course / "solutions" / "01_architecture.ipynb", course / "exercises")
    (course / "exercises" / "02_configuration.ipynb").write_text("{oops", encoding="utf-8")
    assert main(["progress", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    first, second = document["labs"]
    assert first["lab"] == "01_architecture"
    assert [e["exercise_id"] for e in first["exercises"]] == ["1.1", "1.2", "1.3", "1.4"]
    assert all(e["status"] == "passed" for e in first["exercises"])
    assert first["exercises"][0]["title"] == "GET /version on the real app"
    assert second["lab"] == "02_configuration" and "not valid JSON" in second["error"]
    assert (document["passed"], document["total"]) == (4, 4)


def test_progress_table_shows_every_exercise_and_what_to_do_next(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = {
        1: _run(1, ["passed", "passed", "passed", "passed"]),
        2: _run(2, ["passed", "failed", "not started", "not run"], error="stopped at the limit"),
    }

    def run_lab(path: Path, *, phase: int, **_: Any) -> LabRun:
        return fake[phase]

    monkeypatch.setattr(labrun, "run_lab", run_lab)
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert "01_architecture" in out and "02_configuration" in out
    assert "4/4" in out and "1/4" in out
    assert "2.2 ✗" in out and "2.3 ·" in out and "2.1 ✓" in out
    assert "stopped at the limit" in out
    assert "5 of 8 exercises passed in 2 labs" in out
    assert "Next: exercise 2.2 (title 2); `course check 2`" in out


def test_progress_of_chosen_phases_only(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[int] = []

    def run_lab(path: Path, *, phase: int, **_: Any) -> LabRun:
        seen.append(phase)
        return _run(phase, ["passed"])

    monkeypatch.setattr(labrun, "run_lab", run_lab)
    assert main(["progress", "02"]) == 0
    assert seen == [2]
    assert "Every lab passes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["progress", "13"], "no phase 13 in this course; phases: 01, 02"),
        (["progress", "one"], "not a phase number"),
    ],
)
def test_progress_refuses_unknown_phases(
    course: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_progress_without_the_lab_file_says_how_to_get_it(
    course: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (course / "exercises" / "02_configuration.ipynb").unlink()
    assert main(["progress", "2"]) == 2
    assert "course reset N" in capsys.readouterr().err


def test_progress_with_no_labs_at_all(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coursekit import notebooks as nb

    monkeypatch.setattr(nb, "EXERCISES", course / "empty")
    assert main(["progress"]) == 2
    assert "no labs" in capsys.readouterr().err


def test_progress_timeout_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["progress", "--timeout", "0"])
    assert exit_info.value.code == 2
    assert "more than 0 seconds" in capsys.readouterr().err
