"""``course``: the command line of the course.

For learners and instructors:

course doctor [--json]                      is this machine ready for the workshop?
course progress [N ...] [--json]            phases x exercises: what passes in your labs
course check N [--lab PATH]                 run phase N's checks on your lab
course reset N [--dry-run]                  a fresh lab N; yours is kept in backups/
course grade DIR [--out DIR] [--timeout S] [--jobs N]   grade a folder of labs: CSV + HTML

For maintainers:

course generate [NN ...] [--check] [--no-execute]   build exercises/ from solutions/
course execute PATH...                     re-run notebooks in place, keep pairs in sync
course list                                every exercise, by phase

Exit codes: 0 success; 1 not right yet (a failing check, a machine problem, nothing to
restore from); 2 bad input (unknown phase, missing folder, unreadable notebook, bad option);
130 interrupted.
"""

from __future__ import annotations

import argparse
import os
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
    from coursekit.progress import check_command

    return check_command(args.phase, args.lab, timeout=args.timeout, quiet=args.quiet)


def _progress(args: argparse.Namespace) -> int:
    from coursekit.progress import progress_command

    return progress_command(
        args.phases, as_json=args.json, timeout=args.timeout, quiet=args.quiet or args.json
    )


def _doctor(args: argparse.Namespace) -> int:
    from coursekit.doctor import doctor_command

    return doctor_command(as_json=args.json, quiet=args.quiet or args.json)


def _reset(args: argparse.Namespace) -> int:
    from coursekit.reset import reset_command

    return reset_command(args.phase, dry_run=args.dry_run)


def _grade(args: argparse.Namespace) -> int:
    from coursekit.grade import grade_command

    return grade_command(
        args.folder, out=args.out, timeout=args.timeout, quiet=args.quiet, jobs=args.jobs
    )


def _audit(args: argparse.Namespace) -> int:
    from coursekit.audit import main as audit_main

    return audit_main(args.rest, prog="course audit")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _list(_args: argparse.Namespace) -> int:
    from coursekit.checking import registered

    for spec in registered():
        print(f"{spec.exercise_id:>6}  {spec.title}")
    return 0


EXIT_CODES = """exit codes:
  0    done: checks pass, machine ready, lab restored, report written
  1    not right yet: a failing check, a machine problem, nothing to restore from
  2    bad input: unknown phase, missing folder, unreadable notebook, bad option
  130  interrupted (Ctrl-C)

reference: docs/reference/course.md"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="FastAPI in Production course tools",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar (never shown in a pipe)"
    )

    doc = sub.add_parser("doctor", parents=[quiet], help="is this machine ready for the workshop?")
    doc.add_argument("--json", action="store_true", help="print the checks as JSON")
    doc.set_defaults(func=_doctor)

    prg = sub.add_parser(
        "progress", parents=[quiet], help="table of phases x exercises from your own labs"
    )
    prg.add_argument("phases", nargs="*", metavar="N", help="only these phases (default: all)")
    prg.add_argument("--json", action="store_true", help="print the results as JSON")
    prg.add_argument("--timeout", type=_seconds, default=300, help="seconds per lab (default 300)")
    prg.set_defaults(func=_progress)

    chk = sub.add_parser("check", parents=[quiet], help="run one phase's checks on your lab")
    chk.add_argument("phase", metavar="N", help="the phase: 1, 01 or 01_architecture")
    chk.add_argument("--lab", help="path of the lab notebook (default: exercises/NN_*.ipynb)")
    chk.add_argument(
        "--timeout", type=_seconds, default=300, help="seconds for the whole lab (default 300)"
    )
    chk.set_defaults(func=_check)

    rst = sub.add_parser("reset", help="restore lab N to a fresh copy; yours is kept in backups/")
    rst.add_argument("phase", metavar="N", help="the phase: 1, 01 or 01_architecture")
    rst.add_argument("--dry-run", action="store_true", help="say what would happen, change nothing")
    rst.set_defaults(func=_reset)

    grd = sub.add_parser(
        "grade", parents=[quiet], help="grade a folder of submitted labs (CSV + HTML report)"
    )
    grd.add_argument("folder", metavar="DIR", help="one sub-folder or notebook per student")
    grd.add_argument("--out", help="where to write the report (default: ./grade-report)")
    grd.add_argument(
        "--timeout",
        type=_seconds,
        default=300,
        help="seconds per notebook, for the whole notebook (default 300)",
    )
    grd.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="notebooks run at the same time (default 1; at most one per CPU core)",
    )
    grd.set_defaults(func=_grade)

    aud = sub.add_parser(
        "audit", add_help=False, help="score a FastAPI app for production (0-100 and /16)"
    )
    aud.add_argument(
        "rest",
        nargs=argparse.REMAINDER,
        help="module:app [--factory] [--tests DIR] [--project DIR] [--min-score N] [--json]",
    )
    aud.set_defaults(func=_audit)

    gen = sub.add_parser("generate", help="build exercises/ from solutions/")
    gen.add_argument("names", nargs="*", help="only these labs (e.g. 01 or 01_architecture)")
    gen.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    gen.add_argument("--no-execute", action="store_true", help="do not execute the generated labs")
    gen.set_defaults(func=_generate)

    exe = sub.add_parser("execute", help="execute notebooks in place (fresh kernel each)")
    exe.add_argument("paths", nargs="+")
    exe.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    exe.set_defaults(func=_execute)

    lst = sub.add_parser("list", help="list every exercise")
    lst.set_defaults(func=_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["audit"]:  # its own parser: options pass through untouched
        return _audit(argparse.Namespace(rest=arguments[1:]))
    args = build_parser().parse_args(arguments)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for a person; the traceback on request
        if os.environ.get("COURSE_DEBUG"):
            raise
        lines = str(exc).strip().splitlines()
        detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        print(
            f"course {args.command}: unexpected error: {detail} "
            "(run again with COURSE_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
