"""mkdocs hooks: publish the course's notebooks without copying them into docs/.

The lessons, labs and solved labs live in ``notebooks/``, ``exercises/`` and
``solutions/`` at the repository root. These hooks add them to the site's files
(before mkdocs-jupyter turns them into pages), build the navigation by phase from what
is there, and write the tables that depend on the notebooks (the course table on the
home page, the workshop agendas in the instructor guide), so the site can never list a
lesson that does not exist, miss one that does, or quote a time a lesson does not state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
DOCS = Path(__file__).resolve().parent
SECTIONS = (
    ("Lessons", "notebooks"),
    ("Labs", "exercises"),
    ("Solved labs", "solutions"),
)
# How each folder's page is named inside its phase's section of the navigation (and in
# the page's title: mkdocs.yml sets ignore_h1_titles, because a lab and its solved lab
# share their first heading).
PAGE_LABELS = {"notebooks": "Lesson", "exercises": "Lab", "solutions": "Solved lab"}
# Pages of docs/ shown before the phases, and after them (when the file exists: the
# reference page is written by another tool, so its absence must not break the build).
GUIDE_PAGES = (
    ("Home", "index.md"),
    ("Instructor guide", "instructor.md"),
    ("Architecture", "architecture.md"),
)
REFERENCE_PAGES = (("The course command", "reference/course.md"),)


def _notebooks(folder: str) -> list[Path]:
    return sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))


def _read(path: Path) -> dict[str, Any]:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a notebook being written right now: mkdocs-jupyter reports it
    return notebook if isinstance(notebook, dict) else {}


def _markdown_lines(path: Path, cells: int | None = None) -> list[str]:
    markdown = [c for c in _read(path).get("cells", []) if c.get("cell_type") == "markdown"]
    lines: list[str] = []
    for cell in markdown[:cells]:
        source = cell.get("source", [])
        lines.extend(("".join(source) if isinstance(source, list) else str(source)).splitlines())
    return lines


PHASES = (
    ("01", "Architecture", "feature layout, app factory, lifespan, serving with uvicorn"),
    ("02", "Configuration", "pydantic-settings, SecretStr, fail-fast production config"),
    ("03", "Pydantic v2", "schemas, constraints, generics, v1 vs v2 measured"),
    ("04", "Errors", "one error envelope, an AppError hierarchy, 500s that leak nothing"),
    ("05", "Auth", "Argon2, OAuth2 password flow, PyJWT, RBAC, refresh tokens"),
    ("06", "Database", "async SQLAlchemy, repositories, N+1, Alembic"),
    ("07", "Testing", "async client, overrides, factories, schemathesis, coverage"),
    ("08", "Observability", "structlog, request ids, health vs readiness, metrics"),
    ("09", "Performance", "blocking vs async, pooling, caching, profiling, measured"),
    ("10", "Deployment", "Docker, workers, graceful shutdown, Kubernetes probes"),
    ("11", "Advanced patterns", "rate limiting, WebSockets, uploads, background work"),
    ("12", "Production readiness", "the /16 health check and 0-100 score as an audit"),
)
PHASE_NAMES = {number: name for number, name, _what in PHASES}


def phase_numbers() -> list[str]:
    """Every phase that has at least one notebook, in order (discovered, not listed)."""
    found = {p.name[:2] for _section, folder in SECTIONS for p in _notebooks(folder)}
    return sorted(found)


def phase_name(number: str) -> str:
    if number in PHASE_NAMES:
        return PHASE_NAMES[number]
    for _section, folder in SECTIONS:
        for path in _notebooks(folder):
            if path.name.startswith(f"{number}_"):
                return path.stem[3:].replace("_", " ").capitalize()
    return number


def build_nav(docs_dir: Path = DOCS) -> list[Any]:
    """Home and the guides, one section per phase (lesson, lab, solved lab), reference."""
    nav: list[Any] = [{title: page} for title, page in GUIDE_PAGES if (docs_dir / page).is_file()]
    for number in phase_numbers():
        pages = [
            {f"{PAGE_LABELS[folder]} {number}": f"{folder}/{path.name}"}
            for _section, folder in SECTIONS
            for path in _notebooks(folder)
            if path.name.startswith(f"{number}_")
        ]
        nav.append({f"{number} · {phase_name(number)}": pages})
    reference = [{t: p} for t, p in REFERENCE_PAGES if (docs_dir / p).is_file()]
    if reference:
        nav.append({"Reference": reference})
    return nav


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    config["nav"] = build_nav(Path(config["docs_dir"]))
    return config


def _link(folder: str, number: str, label: str) -> str:
    found = sorted((ROOT / folder).glob(f"{number}_*.ipynb"))
    return f"[{label}]({folder}/{found[0].name})" if found else "coming soon"


def course_table() -> str:
    rows = ["| # | phase | what you build | lesson | lab | solved |", "|---|---|---|---|---|---|"]
    for number, name, what in PHASES:
        rows.append(
            f"| {number} | {name} | {what} | {_link('notebooks', number, 'lesson')} "
            f"| {_link('exercises', number, 'lab')} | {_link('solutions', number, 'solved')} |"
        )
    return "\n".join(rows)


# --- workshop agendas ---------------------------------------------------------------

_TIME_LINE = re.compile(r"\*\*Time[^*]*:\*\*(?P<rest>.*)", re.IGNORECASE)
_MINUTES = re.compile(r"(\d+)\s*min")


def stated_minutes(path: Path) -> tuple[int, int] | None:
    """(lesson, lab) minutes from the lesson's opening ``**Time:** ... N minutes ...
    M minutes (lab)`` line; None when the lesson states no time."""
    for line in _markdown_lines(path, cells=3):
        match = _TIME_LINE.search(line)
        if match:
            numbers = [int(n) for n in _MINUTES.findall(match.group("rest"))]
            if len(numbers) >= 2:
                return numbers[0], numbers[1]
    return None


# Used only for a lesson that states no time (and flagged as such in the agenda).
DEFAULT_MINUTES = (45, 30)


@dataclass(frozen=True)
class Phase:
    number: str
    name: str
    lesson: int
    lab: int
    stated: bool

    @property
    def total(self) -> int:
        return self.lesson + self.lab


def workshop_phases() -> list[Phase]:
    """The phases a workshop can teach: those with a lesson notebook."""
    phases = []
    for path in _notebooks("notebooks"):
        minutes = stated_minutes(path)
        lesson, lab = minutes or DEFAULT_MINUTES
        number = path.name[:2]
        phases.append(Phase(number, phase_name(number), lesson, lab, minutes is not None))
    return phases


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _at(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


DAY_START, DAY_END = _at("09:00"), _at("17:00")
WRAP_UP = 15
# (name, minutes, earliest start, latest end of the block before it)
BREAKS = (
    ("Coffee break", 15, _at("10:15"), _at("11:00")),
    ("Lunch", 60, _at("12:00"), _at("13:00")),
    ("Coffee break", 15, _at("14:45"), _at("15:45")),
)


Row = tuple[int, str, int]  # start (minutes after midnight), block, minutes


@dataclass
class Day:
    """One workshop day being filled: the clock, its rows and the breaks taken."""

    now: int
    rows: list[Row]
    taken: frozenset[int] = frozenset()

    def add(self, title: str, minutes: int) -> Day:
        """This day with ``title`` appended, after any break it must not run past."""
        now, rows, taken = self.now, list(self.rows), set(self.taken)
        for index, (name, length, earliest, latest) in enumerate(BREAKS):
            if index not in taken and now >= earliest and now + minutes > latest:
                rows.append((now, name, length))
                now += length
                taken.add(index)
        rows.append((now, title, minutes))
        return Day(now + minutes, rows, frozenset(taken))


@dataclass
class Plan:
    days: list[list[Row]]
    homework: list[Phase]  # lesson taught in class, lab done afterwards
    left: list[Phase]  # neither fitted: self-study


def plan_days(phases: list[Phase], days: int) -> Plan:
    """Lay the phases out over ``days`` days: each phase's lesson then its lab, a break
    taken before the first block that would run past it, nothing running into the
    wrap-up. A day's last phase whose lab does not fit keeps its lesson, and its lab
    becomes homework; what does not fit at all is left for self-study."""
    queue = list(phases)
    plan = Plan([], [], [])
    for number in range(days):
        opening = (
            "Welcome; set-up check with `course doctor`"
            if number == 0
            else "Recap; where everyone is with `course progress`"
        )
        day = Day(DAY_START + 20, [(DAY_START, opening, 20)])
        while queue:
            phase = queue[0]
            note = "" if phase.stated else " (estimate: the lesson states no time)"
            lesson = day.add(f"Lesson {phase.number} · {phase.name}{note}", phase.lesson)
            both = lesson.add(
                f"Lab {phase.number}: the exercises and their `check` cells", phase.lab
            )
            if both.now <= DAY_END - WRAP_UP:
                day = both
            elif lesson.now <= DAY_END - WRAP_UP:
                day = lesson
                plan.homework.append(phase)
            else:
                break
            queue.pop(0)
            if day is lesson:
                break
        day.rows.append((day.now, "Wrap-up: `course progress`, questions", WRAP_UP))
        plan.days.append(day.rows)
    plan.left = queue
    return plan


def agenda(days: int) -> str:
    phases = workshop_phases()
    if not phases:
        return "*No lesson is published yet.*"
    plan = plan_days(phases, days)
    out: list[str] = []
    for day, rows in enumerate(plan.days, start=1):
        if days > 1:
            out.append(f"**Day {day}**\n")
        out.append("| time | block | minutes |\n|---|---|---|")
        out.extend(f"| {_clock(start)} | {title} | {length} |" for start, title, length in rows)
        out.append("")
    if plan.homework:
        listed = ", ".join(f"lab {p.number} ({p.lab} min)" for p in plan.homework)
        out.append(f"Homework, checked offline with `course check N`: {listed}.\n")
    if plan.left:
        listed = ", ".join(f"{p.number} · {p.name} ({p.lesson} + {p.lab} min)" for p in plan.left)
        out.append(f"Not in class, for self-study afterwards: {listed}.")
    else:
        out.append("Every published lesson is taught in class.")
    return "\n".join(out)


def phase_minutes_table() -> str:
    rows = ["| phase | lesson | lab | total |", "|---|---|---|---|"]
    for p in workshop_phases():
        mark = "" if p.stated else " (estimate)"
        rows.append(
            f"| {p.number} · {p.name} | {p.lesson} min{mark} | {p.lab} min | {p.total} min |"
        )
    return "\n".join(rows)


PLACEHOLDERS: dict[str, Callable[[], str]] = {
    "<!-- course-table -->": course_table,
    "<!-- phase-minutes -->": phase_minutes_table,
    "<!-- agenda:one-day -->": lambda: agenda(1),
    "<!-- agenda:two-day -->": lambda: agenda(2),
}


def on_page_markdown(markdown: str, page: Any, config: MkDocsConfig, files: Files) -> str:
    for placeholder, render in PLACEHOLDERS.items():
        if placeholder in markdown:
            markdown = markdown.replace(placeholder, render())
    for _title, target in REFERENCE_PAGES:
        if not (Path(config["docs_dir"]) / target).is_file():
            # not generated yet: keep the words, drop the link (a strict build fails on it)
            link = re.compile(r"\[([^\]]+)\]\((?:\.\./)*" + re.escape(target) + r"\)")
            markdown = link.sub(r"\1", markdown)
    return markdown


# nbconvert's page template imports mermaid (and its ELK layouts) from a CDN when a
# notebook's Markdown has a diagram; point it at the vendored global instead, which
# docs/overrides/main.html loads on such pages. The site must load no external URL.
_NB_MERMAID_IMPORT = re.compile(
    r"\(await import\(\"https://[^\"]*/mermaid\.esm\.min\.mjs\"\)\)\.default"
)
_NB_ELK_URL = re.compile(r"const elkUrl = \"https://[^\"]*\";")


def on_post_page(output: str, page: Any, config: MkDocsConfig) -> str:
    output = _NB_MERMAID_IMPORT.sub("window.mermaid", output)
    return _NB_ELK_URL.sub('const elkUrl = "";', output)


@event_priority(100)  # before mkdocs-jupyter wraps .ipynb files into pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for _section, folder in SECTIONS:
        for path in _notebooks(folder):
            files.append(
                File(
                    f"{folder}/{path.name}",
                    src_dir=str(ROOT),
                    dest_dir=config["site_dir"],
                    use_directory_urls=config["use_directory_urls"],
                )
            )
    return files
