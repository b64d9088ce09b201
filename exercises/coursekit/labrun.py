"""Run a lab notebook once, headless, and collect the result of every check in it.

Used by ``course check``, ``course progress`` and ``course grade``. The lab runs top to
bottom in a fresh kernel (the notebook file is never written back). A first, hidden cell
wraps ``coursekit.check`` so that, besides printing its usual report, every check also
publishes its structured result (each case, expected, got, hint) as a display output of
a private MIME type, tagged with a random token: the results are read from that one
execution, no learner cell runs twice.

Before running, the check cells are compared with the lab's own (from ``solutions/``): an
edited check cell is replaced by the original, a deleted one is appended at the end, each
with a note. That keeps a grade honest against casual edits; it is no sandbox against a
learner who sets out to cheat (their code runs in the same kernel, with your permissions).
"""

from __future__ import annotations

import ast
import json
import math
import re
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coursekit import notebooks as nb
from coursekit.runner import CHECK_CALL

MIME = "application/vnd.coursekit.check+json"
LAB_GLOB = "[0-9][0-9]_*.ipynb"
LAB_NAME = re.compile(r"[0-9]{2}_[A-Za-z0-9_]+\.ipynb$")
PHASE_IN_NAME = re.compile(r"(?<![0-9])([0-9]{2})_[A-Za-z]")

# statuses of one exercise, worst last
PASSED = "passed"
FAILED = "failed"
NOT_STARTED = "not started"
ERROR = "error"
NOT_RUN = "not run"

_HOOK = """\
def __coursekit_install(token):
    import coursekit
    import coursekit.checking as checking
    from IPython.display import display

    def check(exercise_id, *objects, time_limit=None):
        try:
            result = checking.run_check(exercise_id, *objects, time_limit=time_limit)
            text = result.report()
            data = {
                "token": token,
                "exercise_id": result.exercise_id,
                "title": result.title,
                "error": result.error,
                "passed": result.passed,
                "not_started": result.not_started,
                "cases": [dict(vars(case)) for case in result.cases],
                "report": text,
            }
        except BaseException as exc:
            text = f"Exercise {exercise_id}: the checker itself failed: {exc!r}"
            data = {"token": token, "exercise_id": str(exercise_id), "title": "",
                    "error": text, "passed": False, "not_started": False, "cases": [],
                    "report": text}
        print(text)
        display({%(mime)r: data}, raw=True)

    check.__doc__ = checking.check.__doc__
    coursekit.check = checking.check = check


__coursekit_install(%(token)r)
del __coursekit_install
"""


class LabFileError(ValueError):
    """A file that is not a readable lab notebook; the message is one line, for a person."""


@dataclass
class ExerciseResult:
    exercise_id: str
    title: str = ""
    status: str = NOT_RUN
    error: str | None = None
    cases: list[dict[str, Any]] = field(default_factory=list)
    report: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def failures(self) -> list[dict[str, Any]]:
        return [case for case in self.cases if not case.get("passed")]

    def summary(self) -> str:
        """One line: why this exercise is not passed (empty when it is)."""
        if self.status == PASSED:
            return ""
        if self.error:
            return self.error
        failed = self.failures()
        if self.status == NOT_STARTED:
            return "not started: the stub still raises NotImplementedError"
        if failed:
            first = failed[0]
            more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
            return f"{first.get('name', '')}: got {first.get('got', '')}{more}"
        return self.status


@dataclass
class LabRun:
    path: Path
    phase: int | None
    exercises: dict[str, ExerciseResult] = field(default_factory=dict)
    error: str | None = None  # the run stopped early (time limit, dead kernel, cannot start)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return sum(1 for e in self.exercises.values() if e.passed)

    @property
    def total(self) -> int:
        return len(self.exercises)

    @property
    def all_passed(self) -> bool:
        return self.error is None and self.total > 0 and self.passed == self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "phase": self.phase,
            "passed": self.passed,
            "total": self.total,
            "error": self.error,
            "notes": list(self.notes),
            "seconds": round(self.seconds, 2),
            "exercises": [
                {**asdict(e), "passed": e.passed, "summary": e.summary()}
                for e in self.exercises.values()
            ],
        }


# -- the course's phases and labs ------------------------------------------------------------
def phase_files(folder: Path) -> dict[int, Path]:
    """``{phase: path}`` of the ``NN_topic.ipynb`` notebooks in ``folder``."""
    found: dict[int, Path] = {}
    if folder.is_dir():
        # a lab's own name first: not "01_architecture-Copy1.ipynb", which JupyterLab's
        # Duplicate makes and which sorts before it
        for path in sorted(folder.glob(LAB_GLOB), key=lambda p: (not LAB_NAME.match(p.name), p)):
            found.setdefault(int(path.name[:2]), path)
    return found


def known_phases() -> list[int]:
    """Every phase that has a lab (solved or generated), discovered from the files."""
    return sorted(set(phase_files(nb.SOLUTIONS)) | set(phase_files(nb.EXERCISES)))


def describe_phases(phases: Iterable[int]) -> str:
    listed = ", ".join(f"{p:02d}" for p in phases)
    return listed or "none (no NN_topic.ipynb in solutions/ or exercises/)"


def parse_phase(text: str) -> int:
    """``"3"``, ``"03"`` or ``"03_pydantic"`` -> 3; anything else raises ValueError."""
    match = re.fullmatch(r"\s*([0-9]{1,2})(?:_[A-Za-z0-9_]*)?(?:\.ipynb)?\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a phase number (use e.g. 1, 01 or 01_architecture)")
    return int(match.group(1))


def pristine_lab(phase: int) -> Path | None:
    """Where the lab's original check cells come from: the solved lab, else the generated."""
    return phase_files(nb.SOLUTIONS).get(phase) or phase_files(nb.EXERCISES).get(phase)


def check_cells(notebook: Any) -> dict[str, str]:
    """``{exercise id: source}`` of the check cells of a notebook, in order."""
    found: dict[str, str] = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for match in CHECK_CALL.finditer(cell.source):
                found.setdefault(match.group(1), cell.source)
    return found


def canonical_checks(phase: int) -> dict[str, str]:
    path = pristine_lab(phase)
    if path is None:
        return {}
    try:
        return check_cells(nb.read(path))
    except Exception:  # a half-written lab of the course itself: use the learner's cells
        return {}


# -- reading a submission ------------------------------------------------------------------------
def load_notebook(path: Path) -> Any:
    """Read ``path`` as a notebook or raise :class:`LabFileError` saying why in one line."""
    import nbformat

    if not path.exists():
        raise LabFileError("no such file")
    if path.is_dir():
        raise LabFileError("a folder, not a notebook")
    if path.suffix.lower() != ".ipynb":
        kind = path.suffix or "no extension"
        raise LabFileError(f"not a notebook ({kind}): submit the .ipynb file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LabFileError(f"cannot read the file: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise LabFileError("empty file (0 bytes of notebook)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise LabFileError("not a notebook: the file is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise LabFileError(
            f"corrupt notebook: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(data, dict) or "cells" not in data:
        raise LabFileError("not a notebook: valid JSON, but it has no cells")
    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LabFileError(f"not a valid notebook: {message[:200]}") from exc
    return notebook


def detect_phase(path: Path, notebook: Any) -> tuple[int | None, str | None]:
    """The phase of a submission: from its check cells, else from ``NN_`` in its file name.
    Returns ``(phase, note)``; the note says when the two disagree."""
    ids = list(check_cells(notebook))
    by_cells = Counter(int(i.split(".")[0]) for i in ids).most_common(1)
    match = PHASE_IN_NAME.search(path.name)
    by_name = int(match.group(1)) if match else None
    if by_cells:
        phase = by_cells[0][0]
        if by_name is not None and by_name != phase:
            return phase, (
                f"named like lab {by_name:02d} but its check cells are lab {phase:02d}'s: "
                f"graded as lab {phase:02d}"
            )
        return phase, None
    return by_name, None


# -- running -------------------------------------------------------------------------------------
def _only_checks(source: str) -> bool:
    """The cell is nothing but ``check(...)`` calls (comments aside)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "check"
        for node in body
    )


def prepare(notebook: Any, phase: int | None, token: str) -> tuple[Any, list[str], list[str]]:
    """The notebook to execute: the hook cell first, the lab's own check cells restored.

    An edited check cell (only ``check(...)`` in it) is replaced by the original; a check
    the learner deleted, or wrote inside a cell of their own code (which is never
    replaced), is run from the original cell at the end. Returns ``(notebook, expected
    exercise ids in order, notes)``."""
    import nbformat

    canonical = canonical_checks(phase) if phase is not None else {}
    notes: list[str] = []
    cells = []
    seen: set[str] = set()
    mixed: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            ids = [m.group(1) for m in CHECK_CALL.finditer(cell.source)]
            if ids and not _only_checks(cell.source):
                mixed.update(ids)
            elif len(ids) == 1 and ids[0] in canonical:
                original = canonical[ids[0]]
                if cell.source.strip() != original.strip():
                    notes.append(f"the check cell of {ids[0]} was edited: ran the lab's own")
                    cell = nbformat.v4.new_code_cell(original)
                seen.add(ids[0])
            else:
                seen.update(ids)
        cells.append(cell)
    for exercise_id, source in canonical.items():
        if exercise_id in seen:
            continue
        if exercise_id in mixed:
            notes.append(
                f"the check of {exercise_id} is inside a cell of other code: "
                "ran the lab's own check cell at the end"
            )
        else:
            notes.append(f"the check cell of {exercise_id} was missing: ran it at the end")
        cells.append(nbformat.v4.new_code_cell(source))
    hook = nbformat.v4.new_code_cell(_HOOK % {"mime": MIME, "token": token})
    hook.metadata["tags"] = ["coursekit-hook"]
    prepared = nbformat.v4.new_notebook(metadata=dict(notebook.metadata), cells=[hook, *cells])
    expected = list(canonical) or list(check_cells(prepared))
    return prepared, expected, notes


def _cell_error(cell: Any) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = str(out.get("evalue", "")).strip().splitlines()
            text = f"{out.get('ename', 'Error')}: {value[0]}" if value else out.get("ename", "")
            return str(text)[:300]
    return None


def _results_of(cell: Any, token: str) -> list[dict[str, Any]]:
    found = []
    for out in cell.get("outputs", []):
        if out.get("output_type") != "display_data":
            continue
        data = out.get("data", {}).get(MIME)
        if isinstance(data, str):  # some nbformat versions keep JSON as text
            try:
                data = json.loads(data)
            except ValueError:
                continue
        if isinstance(data, dict) and data.get("token") == token:
            found.append(dict(data))
    return found


def _exercise_from(data: dict[str, Any]) -> ExerciseResult:
    result = ExerciseResult(str(data.get("exercise_id", "?")), str(data.get("title", "")))
    result.cases = [dict(c) for c in data.get("cases", []) if isinstance(c, dict)]
    result.error = data.get("error") or None
    result.report = str(data.get("report", ""))
    if data.get("passed"):
        result.status = PASSED
    elif result.error:
        result.status = ERROR
    elif data.get("not_started"):
        result.status = NOT_STARTED
    else:
        result.status = FAILED
    return result


def _titles(phase: int | None) -> dict[str, str]:
    if phase is None:
        return {}
    try:
        from coursekit.checking import registered

        return {spec.exercise_id: spec.title for spec in registered(phase)}
    except Exception:  # a checker module being written right now: titles are optional
        return {}


def course_kernel(phase: int | None) -> str:
    """The kernel the course's own lab of ``phase`` names; ``python3`` by default."""
    path = pristine_lab(phase) if phase is not None else None
    if path is not None:
        try:
            name = nb.read(path).metadata.get("kernelspec", {}).get("name")
        except Exception:
            name = None
        if name:
            return str(name)
    return "python3"


def run_lab(
    source: Path | Any,
    *,
    phase: int | None = None,
    path: Path | None = None,
    timeout: float = 600.0,
    cwd: Path | None = None,
    on_cell: Callable[[int, int], None] | None = None,
    on_result: Callable[[ExerciseResult], None] | None = None,
    kernel_name: str | None = None,
) -> LabRun:
    """Execute a lab once and collect its checks. Never raises for a bad notebook: an
    unreadable file raises :class:`LabFileError` before anything runs; everything that
    goes wrong while running is in ``LabRun.error``.

    ``source`` is a path or an already loaded notebook (then pass ``path`` for reports).
    ``timeout`` is the limit for the whole notebook, in seconds. The kernel is the course's
    (the one the lab itself names), whatever kernel the learner's copy names.
    ``on_cell(done, total)`` and ``on_result(exercise)`` report progress as cells finish."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if isinstance(source, Path):
        path = source
        notebook = load_notebook(source)
    else:
        notebook = source
    where = path or Path("notebook.ipynb")
    if phase is None:
        phase, note = detect_phase(where, notebook)
    else:
        note = None
    token = secrets.token_hex(16)
    prepared, expected, notes = prepare(notebook, phase, token)
    if note:
        notes.insert(0, note)
    titles = _titles(phase)
    run = LabRun(where, phase, notes=notes)
    for exercise_id in expected:
        run.exercises[exercise_id] = ExerciseResult(exercise_id, titles.get(exercise_id, ""))

    total_cells = sum(1 for c in prepared.cells if c.cell_type == "code" and c.source.strip())
    started = time.monotonic()
    deadline = started + timeout
    done = 0

    def cell_timeout(_cell: Any) -> int:
        return max(1, math.ceil(deadline - time.monotonic()))

    def executed(cell: Any, cell_index: int, **_: Any) -> None:
        nonlocal done
        if cell.cell_type != "code" or not cell.source.strip():
            return
        if cell_index == 0:  # the hook: without coursekit in the kernel, no check can run
            problem = _cell_error(cell)
            if problem:
                run.notes.append(f"the kernel cannot load the course's checks: {problem}")
            return
        done += 1
        if on_cell is not None:
            on_cell(done, total_cells)
        ids = [m.group(1) for m in CHECK_CALL.finditer(cell.source)]
        results = _results_of(cell, token)
        for data in results:
            result = _exercise_from(data)
            if not result.title:
                result.title = titles.get(result.exercise_id, "")
            run.exercises[result.exercise_id] = result
            if on_result is not None:
                on_result(result)
        reported = {str(d.get("exercise_id")) for d in results}
        for exercise_id in ids:
            if exercise_id in reported:
                continue
            raised = _cell_error(cell)
            result = ExerciseResult(exercise_id, titles.get(exercise_id, ""), ERROR)
            result.error = (
                f"the check cell raised {raised}"
                if raised
                else "the check cell printed no result (is `check` still coursekit's?)"
            )
            result.report = f"Exercise {exercise_id}: {result.error}"
            run.exercises[exercise_id] = result
            if on_result is not None:
                on_result(result)

    workdir = cwd or (path.parent if path is not None else None)
    with tempfile.TemporaryFile("w+") as kernel_log:
        client = NotebookClient(
            prepared,
            timeout_func=cell_timeout,
            kernel_name=kernel_name or course_kernel(phase),
            allow_errors=True,
            interrupt_on_timeout=False,
            resources={"metadata": {"path": str(workdir.resolve())}} if workdir else {},
            on_cell_executed=executed,
        )
        try:
            client.execute(stderr=kernel_log)
        except CellTimeoutError:
            run.error = f"stopped at the time limit ({timeout:g} s): a cell did not finish"
        except DeadKernelError:
            kernel_log.seek(0)
            tail = " ".join(kernel_log.read().strip().splitlines()[-1:])
            run.error = "the kernel died while running the notebook" + (
                f" ({tail[:200]})" if tail else ""
            )
        except Exception as exc:  # kernel cannot start, missing kernelspec, ...
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            run.error = f"could not run the notebook: {type(exc).__name__}: {message[:300]}"
    run.seconds = time.monotonic() - started
    if run.error:
        for result in run.exercises.values():
            if result.status == NOT_RUN and not result.error:
                result.error = "not reached: the notebook stopped before this check"
    else:
        for result in run.exercises.values():
            if result.status == NOT_RUN and not result.error:
                result.error = "no check cell for this exercise ran"
    return run
