"""``course reset N``: put a fresh copy of lab N in place, keeping the learner's as a backup.

The fresh copy is what ``course generate`` makes from ``solutions/NN_topic.ipynb`` (stubs in
place, no outputs): the lab as the learner first got it. When the solved lab is not there
(a course handed out without ``solutions/``), the version committed to git is used instead.
The learner's ``.ipynb`` and its ``.py`` twin are first copied to ``backups/`` with a
timestamp in the name; nothing is ever overwritten or deleted.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from coursekit import labrun, ui
from coursekit import notebooks as nb


def backup_dir() -> Path:
    """``backups/`` beside ``exercises/`` (outside the trees nbval and the site walk)."""
    return nb.EXERCISES.parent / "backups"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(nb.ROOT))
    except ValueError:
        return str(path)


class ResetError(RuntimeError):
    pass


def pristine(phase: int) -> tuple[Any, str]:
    """The fresh lab of ``phase`` and a description of where it came from."""
    solution = labrun.phase_files(nb.SOLUTIONS).get(phase)
    problem = ""
    if solution is not None:
        try:
            return nb.exercise_from_solution(nb.read(solution), solution.name), (
                f"generated from {_shown(solution)}"
            )
        except Exception as exc:  # a broken solved lab: try the committed version
            problem = f"{_shown(solution)} cannot be read ({exc}); "
    lab = labrun.phase_files(nb.EXERCISES).get(phase)
    if lab is not None:
        committed = _committed(lab)
        if committed is not None:
            return committed, f"the version of {_shown(lab)} committed to git"
    raise ResetError(
        f"{problem}no solved lab for phase {phase:02d} in {_shown(nb.SOLUTIONS)}/ and no "
        "committed version in git to restore from"
    )


def _committed(lab: Path) -> Any | None:
    import nbformat

    git = shutil.which("git")
    if git is None:
        return None
    try:
        relative = lab.resolve().relative_to(nb.ROOT)
    except ValueError:
        return None
    try:
        shown = subprocess.run(  # noqa: S603 - fixed git command, path from our own tree
            [git, "-C", str(nb.ROOT), "show", f"HEAD:{relative.as_posix()}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if shown.returncode != 0:
        return None
    try:
        notebook = nbformat.reads(shown.stdout, as_version=4)
    except Exception:
        return None
    for cell in notebook.cells:  # fresh: no outputs
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def _unchanged(target: Path, fresh: Any) -> bool:
    """The learner's lab has exactly the fresh cells (nothing of theirs to keep)."""
    twin = target.with_suffix(".py")
    try:
        if nb.cell_signature(nb.read(target)) != nb.cell_signature(fresh):
            return False
        if twin.exists():
            import jupytext

            twin_cells = nb.cell_signature(jupytext.read(twin, fmt=nb.PAIR_FORMAT))
            return twin_cells == nb.cell_signature(fresh)
    except Exception:  # unreadable: treat as the learner's work and back it up
        return False
    return True


def backup_names(stem: str, now: datetime | None = None) -> tuple[Path, Path]:
    """Free ``backups/<stem>.<YYYYmmdd-HHMMSS>[-n].ipynb`` and ``.py`` paths."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = backup_dir()
    suffix = ""
    number = 1
    while True:
        notebook = folder / f"{stem}.{stamp}{suffix}.ipynb"
        if not notebook.exists() and not notebook.with_suffix(".py").exists():
            return notebook, notebook.with_suffix(".py")
        number += 1
        suffix = f"-{number}"


def reset_command(phase_text: str, *, dry_run: bool) -> int:
    from coursekit.progress import resolve_phase

    phase = resolve_phase(phase_text, "reset")
    if phase is None:
        return ui.USAGE
    try:
        fresh, origin = pristine(phase)
    except ResetError as exc:
        ui.error(str(exc), "reset")
        return ui.NOT_OK
    existing = labrun.phase_files(nb.EXERCISES).get(phase)
    solution = labrun.phase_files(nb.SOLUTIONS).get(phase)
    target = existing or nb.EXERCISES / (solution.name if solution else f"{phase:02d}_lab.ipynb")
    twin = target.with_suffix(".py")
    mine = [p for p in (target, twin) if p.exists()]

    if mine and not _unchanged(target, fresh):
        notebook_copy, twin_copy = backup_names(target.stem)
        if not dry_run:
            try:
                notebook_copy.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    shutil.copy2(target, notebook_copy)
                if twin.exists():
                    shutil.copy2(twin, twin_copy)
            except OSError as exc:
                ui.error(f"cannot back up your lab ({exc}); nothing was changed", "reset")
                return ui.NOT_OK
        copies = [(c, p) for c, p in ((notebook_copy, target), (twin_copy, twin)) if p.exists()]
        print(
            f"{'Would back' if dry_run else 'Backed'} up your lab to "
            + " and ".join(_shown(c) for c, _ in copies)
        )
        restore_hint = " && ".join(f"cp {_shown(c)} {_shown(p)}" for c, p in copies)
    else:
        restore_hint = ""
        if mine:
            print("Your lab has no changes of yours: no backup needed.")

    if not dry_run:
        try:
            nb.write_with_pair(fresh, target)
        except OSError as exc:
            ui.error(f"cannot write {_shown(target)} ({exc}); your backup is safe", "reset")
            return ui.NOT_OK
    print(
        f"{'Would restore' if dry_run else 'Restored'} {_shown(target)} and "
        f"{twin.name}: {origin} (stubs in place, no outputs)"
    )
    if dry_run:
        print("Dry run: nothing was changed.")
        return ui.OK
    print("If the lab is open in JupyterLab: File > Reload Notebook from Disk.")
    if restore_hint:
        print(f"To get your version back: {restore_hint}")
    return ui.OK
