"""``course``: the command line of the course.

course generate [NN ...] [--check] [--no-execute]   build exercises/ from solutions/
course execute PATH...                     re-run notebooks in place, keep pairs in sync
course check N [--lab PATH]                run phase N's checks on your lab
course list                                every exercise, by phase
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from coursekit import notebooks as nb


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it, else as given."""
    try:
        return str(path.relative_to(nb.ROOT))
    except ValueError:
        return str(path)


def _generate(args: argparse.Namespace) -> int:
    solutions = sorted(nb.SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    if args.names:
        wanted = {Path(name).stem for name in args.names}
        solutions = [p for p in solutions if p.stem in wanted or p.stem[:2] in wanted]
    if not solutions:
        print("no solved labs found in solutions/", file=sys.stderr)
        return 1
    if args.check:
        drifts = [d for d in (nb.lab_drift(p) for p in solutions) if d]
        for drift in drifts:
            print(f"drift: {_shown(drift.path)}: {drift.reason}")
        print(f"{len(solutions) - len(drifts)} of {len(solutions)} labs in sync")
        return 1 if drifts else 0
    for path in solutions:
        try:
            lab = nb.exercise_from_solution(nb.read(path), path.name)
        except nb.MarkerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        target = nb.EXERCISES / path.name
        nb.write_with_pair(lab, target)
        line = f"generated {_shown(target)}"
        if not args.no_execute:
            line += f" (executed in {nb.execute(target):.1f} s)"
        print(line, flush=True)
    return 0


def _execute(args: argparse.Namespace) -> int:
    status = 0
    for raw in args.paths:
        path = Path(raw).resolve()
        if path.suffix != ".ipynb" or not path.exists():
            print(f"skip {raw}: not an existing .ipynb", file=sys.stderr)
            status = 1
            continue
        try:
            seconds = nb.execute(path, timeout=args.timeout)
        except Exception as exc:  # report and go on with the next notebook
            print(f"FAILED {raw}: {type(exc).__name__}: {str(exc)[:500]}", file=sys.stderr)
            status = 1
            continue
        print(f"executed {raw} in {seconds:.1f} s", flush=True)
    return status


def _check(args: argparse.Namespace) -> int:
    from coursekit.runner import check_lab

    if args.lab:
        lab = Path(args.lab)
    else:
        matches = sorted(nb.EXERCISES.glob(f"{args.phase:02d}_*.ipynb"))
        if not matches:
            print(f"no lab for phase {args.phase} in exercises/", file=sys.stderr)
            return 2
        lab = matches[0]
    report = check_lab(lab)
    print(report.text())
    return 0 if report.all_passed else 1


def _list(_args: argparse.Namespace) -> int:
    from coursekit.checking import registered

    for spec in registered():
        print(f"{spec.exercise_id:>6}  {spec.title}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description="FastAPI in Production course tools"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="build exercises/ from solutions/")
    gen.add_argument("names", nargs="*", help="only these labs (e.g. 01 or 01_architecture)")
    gen.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    gen.add_argument("--no-execute", action="store_true", help="do not execute the generated labs")
    gen.set_defaults(func=_generate)

    exe = sub.add_parser("execute", help="execute notebooks in place (fresh kernel each)")
    exe.add_argument("paths", nargs="+")
    exe.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    exe.set_defaults(func=_execute)

    chk = sub.add_parser("check", help="run one phase's checks on your lab")
    chk.add_argument("phase", type=int, choices=range(1, 13), metavar="N")
    chk.add_argument("--lab", help="path of the lab notebook (default: exercises/NN_*.ipynb)")
    chk.set_defaults(func=_check)

    lst = sub.add_parser("list", help="list every exercise")
    lst.set_defaults(func=_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
