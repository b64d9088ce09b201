"""Every checker is proven: it accepts the solution, rejects the generated stub and
rejects every mutant (plausible wrong answer) written for it in ``mutants_phaseNN.py``."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from coursekit import notebooks as nb
from coursekit.checking import registered
from tests.checkers.labtools import STUB, check_with, exercise_ids

PHASES = sorted(int(p.name[:2]) for p in nb.SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
MIN_EXERCISES = 3
MIN_MUTANTS = 2


def mutants(phase: int) -> dict[str, list[str]]:
    """The phase's mutants; none when its file is missing (then only the count test fails,
    instead of the whole module failing to collect)."""
    try:
        module = importlib.import_module(f"tests.checkers.mutants_phase{phase:02d}")
    except ModuleNotFoundError:
        return {}
    table: dict[str, list[str]] = module.MUTANTS
    return table


def all_exercises() -> list[tuple[int, str]]:
    return [(phase, ex) for phase in PHASES for ex in exercise_ids(phase)]


def all_mutants() -> list[tuple[int, str, int]]:
    return [
        (phase, ex, index)
        for phase in PHASES
        for ex, bodies in mutants(phase).items()
        for index in range(len(bodies))
    ]


def test_there_are_labs() -> None:
    assert PHASES, "no solved labs found"


@pytest.mark.parametrize("phase", PHASES)
def test_lab_has_enough_exercises_and_each_has_a_checker(phase: int) -> None:
    ids = exercise_ids(phase)
    assert len(ids) >= MIN_EXERCISES, f"lab {phase:02d} has {len(ids)} exercises"
    checkers = {spec.exercise_id for spec in registered(phase)}
    assert set(ids) == checkers, f"exercise cells {ids} vs checkers {sorted(checkers)}"


@pytest.mark.parametrize("phase", PHASES)
def test_every_exercise_has_mutants(phase: int) -> None:
    table = mutants(phase)
    for exercise_id in exercise_ids(phase):
        assert len(table.get(exercise_id, [])) >= MIN_MUTANTS, (
            f"exercise {exercise_id} needs at least {MIN_MUTANTS} mutants"
        )


@pytest.mark.parametrize(("phase", "exercise_id"), all_exercises())
def test_checker_accepts_the_solution(phase: int, exercise_id: str) -> None:
    result = check_with(phase, exercise_id)
    assert result.passed, result.report()


@pytest.mark.parametrize(("phase", "exercise_id"), all_exercises())
def test_checker_rejects_the_stub(phase: int, exercise_id: str) -> None:
    result = check_with(phase, exercise_id, STUB)
    assert not result.passed, result.report()
    assert result.not_started or result.error, result.report()
    assert "NotImplementedError" in result.report() or result.error


# a mutant may leave a coroutine un-awaited: that is the very mistake it plays
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
# a mutant may use the deprecated v1 API: that too is the mistake it plays (lab 03)
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")
@pytest.mark.parametrize(("phase", "exercise_id", "index"), all_mutants())
def test_checker_rejects_the_mutant(phase: int, exercise_id: str, index: int) -> None:
    body = mutants(phase)[exercise_id][index]
    result = check_with(phase, exercise_id, body)
    assert not result.passed, f"mutant {index} of {exercise_id} passed:\n{body}"
    report = result.report()
    assert "✗" in report
    # a failing case always tells the learner something to act on
    assert any(case.hint or case.got for case in result.cases if not case.passed) or result.error


def test_mutant_files_name_only_real_exercises() -> None:
    for phase in PHASES:
        unknown = set(mutants(phase)) - set(exercise_ids(phase))
        assert not unknown, f"mutants for unknown exercises in phase {phase}: {unknown}"


def test_solutions_folder_is_where_we_think() -> None:
    assert Path(nb.SOLUTIONS).is_dir()
