"""``course check N`` and ``course progress``: run the learner's own labs and show the checks.

Each lab runs once, top to bottom, in a fresh kernel; the result of every check comes from
that one execution (see :mod:`coursekit.labrun`). Nothing is written back to the lab.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from coursekit import labrun, ui
from coursekit import notebooks as nb
from coursekit.labrun import ExerciseResult, LabFileError, LabRun


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(nb.ROOT))
    except ValueError:
        return str(path)


def resolve_phase(text: str, command: str) -> int | None:
    """The phase number of ``text`` when the course has it; else print why and give None."""
    try:
        phase = labrun.parse_phase(text)
    except ValueError as exc:
        ui.error(str(exc), command)
        return None
    phases = labrun.known_phases()
    if phase not in phases:
        ui.error(
            f"no phase {phase:02d} in this course; phases: {labrun.describe_phases(phases)}",
            command,
        )
        return None
    return phase


# -- course check N ------------------------------------------------------------------------------
def check_command(phase_text: str, lab: str | None, *, timeout: float, quiet: bool) -> int:
    phase = resolve_phase(phase_text, "check")
    if phase is None:
        return ui.USAGE
    if lab:
        path = Path(lab)
    else:
        found = labrun.phase_files(nb.EXERCISES).get(phase)
        if found is None:
            ui.error(
                f"no lab for phase {phase:02d} in {_shown(nb.EXERCISES)}/: "
                f"run `course reset {phase}` to get a fresh copy",
                "check",
            )
            return ui.USAGE
        path = found
    try:
        notebook = labrun.load_notebook(path)
    except LabFileError as exc:
        ui.error(f"{_shown(path)}: {exc}", "check")
        return ui.USAGE
    found_phase, _note = labrun.detect_phase(path, notebook)
    if found_phase is not None and found_phase != phase:
        ui.error(
            f"{_shown(path)} is lab {found_phase:02d} (by its check cells), not {phase:02d}: "
            f"run `course check {found_phase} --lab {path}`",
            "check",
        )
        return ui.USAGE
    print(f"Checking {_shown(path)} (runs top to bottom in a fresh kernel)")
    with ui.progress_bar(quiet=quiet) as bar:
        task = bar.add_task(f"running {escape(path.name)}", total=None)
        run = labrun.run_lab(
            notebook,
            path=path,
            phase=phase,
            timeout=timeout,
            on_cell=lambda done, total: bar.update(task, completed=done, total=total),
            on_result=lambda r: print(r.report or r.error or ""),
        )
    for result in run.exercises.values():
        if result.status == labrun.NOT_RUN:
            print(f"Exercise {result.exercise_id}: {result.error}")
    for note in run.notes:
        print(f"note: {note}")
    if run.error:
        print(f"error: {run.error}")
    print(f"{path.name}: {run.passed} of {run.total} exercises passed")
    return ui.OK if run.all_passed else ui.NOT_OK


# -- course progress -----------------------------------------------------------------------------
def _cell(result: ExerciseResult) -> str:
    return f"{result.exercise_id} {ui.SYMBOL.get(result.status, '?')}"


def progress_table(runs: list[tuple[str, LabRun | None, str | None]]) -> Table:
    width = max((run.total for _, run, _ in runs if run is not None), default=1)
    table = Table(title="Your progress", title_justify="left")
    table.add_column("Lab", no_wrap=True)
    for number in range(1, width + 1):
        table.add_column(f"#{number}", justify="center", no_wrap=True)
    table.add_column("Passed", justify="right", no_wrap=True)
    for name, run, _problem in runs:
        if run is None:
            table.add_row(escape(name), *([""] * width), "[yellow]unreadable[/]")
            continue
        cells = [_cell(r) for r in run.exercises.values()]
        cells += [""] * (width - len(cells))
        style = "green" if run.all_passed else ""
        table.add_row(escape(name), *cells, f"{run.passed}/{run.total}", style=style)
    return table


def next_step(runs: list[tuple[str, LabRun | None, str | None]]) -> str:
    for _name, run, _ in runs:
        if run is None:
            continue
        for result in run.exercises.values():
            if not result.passed:
                title = f" ({result.title})" if result.title else ""
                phase = run.phase if run.phase is not None else result.exercise_id.split(".")[0]
                return f"Next: exercise {result.exercise_id}{title}; `course check {phase}`."
    return "Every lab passes. Well done."


def progress_command(phase_texts: list[str], *, as_json: bool, timeout: float, quiet: bool) -> int:
    labs = labrun.phase_files(nb.EXERCISES)
    if phase_texts:
        wanted = []
        for text in phase_texts:
            phase = resolve_phase(text, "progress")
            if phase is None:
                return ui.USAGE
            wanted.append(phase)
        missing = [p for p in wanted if p not in labs]
        if missing:
            listed = ", ".join(f"{p:02d}" for p in missing)
            ui.error(
                f"no lab in {_shown(nb.EXERCISES)}/ for phase {listed}: "
                f"`course reset N` restores one",
                "progress",
            )
            return ui.USAGE
        labs = {p: labs[p] for p in wanted}
    if not labs:
        ui.error(f"no labs (NN_topic.ipynb) in {_shown(nb.EXERCISES)}/", "progress")
        return ui.USAGE

    runs: list[tuple[str, LabRun | None, str | None]] = []
    with ui.progress_bar(quiet=quiet) as bar:
        overall = bar.add_task("labs", total=len(labs))
        for phase, path in sorted(labs.items()):
            bar.update(overall, description=f"running {escape(path.name)}")
            try:
                finished = labrun.run_lab(path, phase=phase, timeout=timeout)
            except LabFileError as exc:
                runs.append((path.stem, None, str(exc)))
            else:
                runs.append((path.stem, finished, None))
            bar.advance(overall)

    passed = sum(r.passed for _, r, _ in runs if r is not None)
    total = sum(r.total for _, r, _ in runs if r is not None)
    if as_json:
        document: dict[str, Any] = {
            "passed": passed,
            "total": total,
            "labs": [
                {"lab": name, **(run.to_dict() if run else {"error": problem})}
                for name, run, problem in runs
            ],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return ui.OK
    console = ui.stdout()
    console.print(progress_table(runs))
    console.print(f"[dim]{ui.LEGEND}[/]")
    for name, run, problem in runs:
        if problem:
            print(f"{name}: {problem}")
        if run is not None:
            if run.error:
                print(f"{name}: {run.error}")
            for note in run.notes:
                print(f"{name}: note: {note}")
    print(
        f"{passed} of {total} exercises passed in {len(runs)} lab"
        f"{'s' if len(runs) != 1 else ''}. {next_step(runs)}"
    )
    return ui.OK
