"""``course grade DIR``: run every submitted lab in a folder, write a CSV and an HTML report.

``DIR`` holds one sub-folder per student (any lab notebooks inside), or one file per
student directly (``alice.ipynb``, ``alice_01_architecture.ipynb``, ...). Each notebook runs
in a fresh kernel, in an empty temporary folder, with a time limit for the whole notebook.
Its lab (phase) comes from its check cells, else from ``NN_`` in its file name. Anything
that is not a gradable lab (empty, corrupt, a .txt, an empty folder) gets a row saying why.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.markup import escape

from coursekit import labrun, ui
from coursekit import notebooks as nb
from coursekit.labrun import LabFileError, LabRun

SKIPPED_NAMES = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", "Thumbs.db", "desktop.ini"}

# status of one submission
GRADED = "graded"
STOPPED = "stopped"  # time limit or dead kernel: the checks reached so far count
UNREADABLE = "unreadable"
UNKNOWN_LAB = "unknown lab"
NOTHING = "no submission"


@dataclass
class Submission:
    student: str
    path: Path | None  # None: a student folder with nothing gradable in it
    problem: str | None = None


@dataclass
class Graded:
    student: str
    file: str
    phase: int | None = None
    lab: str = ""
    status: str = GRADED
    message: str = ""
    run: LabRun | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.run.passed if self.run else 0

    @property
    def total(self) -> int:
        return self.run.total if self.run else 0

    @property
    def score(self) -> float | None:
        return round(100 * self.passed / self.total, 1) if self.total else None


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_NAMES


def _lab_stems() -> list[str]:
    stems = {p.stem for p in labrun.phase_files(nb.SOLUTIONS).values()}
    stems |= {p.stem for p in labrun.phase_files(nb.EXERCISES).values()}
    return sorted(stems, key=len, reverse=True)


def student_of_file(path: Path) -> str:
    """``alice_01_architecture.ipynb`` -> ``alice``; a name without a lab in it is kept."""
    stem = path.stem
    for lab in _lab_stems():
        if lab in stem:
            rest = re.sub(r"^[\s_.-]+|[\s_.-]+$", "", stem.replace(lab, " ")).strip()
            return rest or stem
    return stem


def discover(folder: Path, *, exclude: Path | None = None) -> list[Submission]:
    """Every submission in ``folder``, sorted by student then file."""
    found: list[Submission] = []
    excluded = exclude.resolve() if exclude else None
    for entry in sorted(folder.iterdir(), key=lambda p: p.name.lower()):
        if _skipped(entry.name) or (excluded and entry.resolve() == excluded):
            continue
        if entry.is_dir():
            files = [
                p
                for p in sorted(entry.rglob("*"), key=lambda p: str(p).lower())
                if p.is_file() and not any(_skipped(part) for part in p.relative_to(entry).parts)
            ]
            notebooks = {p.with_suffix("") for p in files if p.suffix == ".ipynb"}
            # a .py beside its .ipynb is the jupytext twin, not a second submission
            files = [p for p in files if not (p.suffix == ".py" and p.with_suffix("") in notebooks)]
            if not files:
                found.append(Submission(entry.name, None, "the student's folder is empty"))
            found.extend(Submission(entry.name, p) for p in files)
        elif entry.is_file():
            if entry.suffix == ".py" and entry.with_suffix(".ipynb").exists():
                continue
            found.append(Submission(student_of_file(entry), entry))
    return found


def grade_one(submission: Submission, folder: Path, *, timeout: float) -> Graded:
    """Grade one submission. Never raises."""
    if submission.path is None:
        return Graded(submission.student, "", status=NOTHING, message=submission.problem or "")
    path = submission.path
    shown = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
    graded = Graded(submission.student, shown)
    try:
        notebook = labrun.load_notebook(path)
    except LabFileError as exc:
        graded.status, graded.message = UNREADABLE, str(exc)
        return graded
    phase, note = labrun.detect_phase(path, notebook)
    if phase is None:
        graded.status = UNKNOWN_LAB
        graded.message = "cannot tell which lab this is: no check cells and no NN_ in its name"
        return graded
    graded.phase = phase
    lab = labrun.pristine_lab(phase)
    graded.lab = lab.stem if lab else f"{phase:02d}"
    if lab is None:
        graded.status = UNKNOWN_LAB
        graded.message = (
            f"lab {phase:02d} is not part of this course "
            f"(phases: {labrun.describe_phases(labrun.known_phases())})"
        )
        return graded
    try:
        with tempfile.TemporaryDirectory(prefix="course-grade-") as workdir:
            run = labrun.run_lab(
                notebook, path=path, phase=phase, timeout=timeout, cwd=Path(workdir)
            )
    except Exception as exc:  # the last line of defence: one submission never stops the rest
        graded.status, graded.message = UNREADABLE, f"could not run: {_one_line(exc)}"
        return graded
    graded.run = run
    graded.notes = ([note] if note and note not in run.notes else []) + run.notes
    if run.error:
        graded.status, graded.message = STOPPED, run.error
    return graded


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


# -- the outputs ---------------------------------------------------------------------------------
def exercise_columns(rows: list[Graded]) -> list[str]:
    ids = {e for row in rows if row.run for e in row.run.exercises}
    return sorted(ids, key=lambda i: tuple(int(p) for p in i.split(".") if p.isdigit()))


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (learner-controlled text)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(rows: list[Graded], target: Path) -> None:
    columns = exercise_columns(rows)
    head = ["student", "file", "lab", "status", "passed", "total", "score", "seconds"]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*head, "message", "notes", *columns])
        for row in rows:
            results = row.run.exercises if row.run else {}
            writer.writerow(
                [
                    _cell(row.student),
                    _cell(row.file),
                    row.lab,
                    row.status,
                    row.passed if row.run else "",
                    row.total if row.run else "",
                    "" if row.score is None else f"{row.score:g}",
                    f"{row.run.seconds:.1f}" if row.run else "",
                    _cell(row.message),
                    _cell("; ".join(row.notes)),
                    *(results[c].status if c in results else "" for c in columns),
                ]
            )


def write_json(rows: list[Graded], target: Path) -> None:
    document: list[dict[str, Any]] = [
        {
            "student": row.student,
            "file": row.file,
            "lab": row.lab,
            "phase": row.phase,
            "status": row.status,
            "message": row.message,
            "notes": row.notes,
            "passed": row.passed,
            "total": row.total,
            "score": row.score,
            "run": row.run.to_dict() if row.run else None,
        }
        for row in rows
    ]
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")


def grade_all(
    submissions: list[Submission], folder: Path, *, timeout: float, jobs: int, quiet: bool
) -> list[Graded]:
    """Grade every submission (``jobs`` at a time), in the order given, with a progress bar.

    Several at a time means several *processes*: each notebook's kernel is started and
    driven from the main thread of a fresh interpreter, as nbclient expects (starting
    kernels from several threads of one process failed now and then)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ui.progress_bar(quiet=quiet) as bar:
        task = bar.add_task("grading", total=len(submissions))
        if jobs <= 1:
            rows = []
            for submission in submissions:
                label = submission.student
                if submission.path is not None:
                    label += f" · {submission.path.name}"
                bar.update(task, description=f"grading {escape(label)}")
                rows.append(grade_one(submission, folder, timeout=timeout))
                bar.advance(task)
            return rows
        bar.update(task, description=f"grading, {jobs} at a time")
        context = multiprocessing.get_context("spawn")  # no inherited threads or sockets
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {
                pool.submit(grade_one, submission, folder, timeout=timeout): index
                for index, submission in enumerate(submissions)
            }
            done: dict[int, Graded] = {}
            for future in as_completed(futures):
                done[futures[future]] = future.result()  # grade_one never raises
                bar.advance(task)
        return [done[index] for index in range(len(submissions))]


def grade_command(
    folder_text: str, *, out: str | None, timeout: float, quiet: bool, jobs: int = 1
) -> int:
    from coursekit.report import write_html

    folder = Path(folder_text)
    if not folder.exists():
        ui.error(f"no such folder: {folder}", "grade")
        return ui.USAGE
    if not folder.is_dir():
        ui.error(f"{folder} is a file: give the folder that holds the submissions", "grade")
        return ui.USAGE
    if timeout <= 0:
        ui.error("--timeout must be a positive number of seconds", "grade")
        return ui.USAGE
    if jobs < 1:
        ui.error("--jobs must be 1 or more", "grade")
        return ui.USAGE
    target = Path(out) if out else Path("grade-report")
    folder = folder.resolve()
    submissions = discover(folder, exclude=target)
    if not submissions:
        ui.error(
            f"no submissions in {folder} (expected a folder or a notebook per student)", "grade"
        )
        return ui.USAGE
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        ui.error(f"cannot create the report folder {target}: {exc.strerror or exc}", "grade")
        return ui.USAGE

    rows = grade_all(submissions, folder, timeout=timeout, jobs=jobs, quiet=quiet)

    csv_path, html_path, json_path = (
        target / "grades.csv",
        target / "report.html",
        target / "grades.json",
    )
    write_csv(rows, csv_path)
    write_json(rows, json_path)
    write_html(rows, html_path, folder=folder, timeout=timeout, when=datetime.now())

    graded = [r for r in rows if r.run is not None]
    full = sum(1 for r in graded if r.total and r.passed == r.total)
    console = ui.stdout()
    console.print(
        f"Graded {len(graded)} of {len(rows)} submissions from {len(set(r.student for r in rows))}"
        f" students; {full} pass every exercise; "
        f"{len(rows) - len(graded)} could not be graded (see the report).",
        markup=False,
    )
    for path in (csv_path, html_path, json_path):
        console.print(f"wrote {path}", markup=False)
    return ui.OK
