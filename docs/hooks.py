"""mkdocs hooks: publish the course's notebooks without copying them into docs/.

The lessons, labs and solved labs live in ``notebooks/``, ``exercises/`` and
``solutions/`` at the repository root. These hooks add them to the site's files
(before mkdocs-jupyter turns them into pages) and build the navigation from what is
there, so the site can never list a lesson that does not exist or miss one that does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    ("Lessons", "notebooks"),
    ("Labs", "exercises"),
    ("Solved labs", "solutions"),
)


def _notebooks(folder: str) -> list[Path]:
    return sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))


def _title(path: Path) -> str:
    """The notebook's first Markdown heading, or its file name."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for line in "".join(cell.get("source", [])).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem.replace("_", " ")


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    nav: list[Any] = [{"Home": "index.md"}]
    for section, folder in SECTIONS:
        pages = [{_title(p): f"{folder}/{p.name}"} for p in _notebooks(folder)]
        if pages:
            nav.append({section: pages})
    config["nav"] = nav
    return config


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


def on_page_markdown(markdown: str, page: Any, config: MkDocsConfig, files: Files) -> str:
    return markdown.replace("<!-- course-table -->", course_table())


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
