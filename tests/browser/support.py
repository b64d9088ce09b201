"""Helpers of the real-browser tests (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Request, Response

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL_HOSTS = {"127.0.0.1"}
SAVED: list[Path] = []  # screenshots taken in this run, listed at its end


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    if shutil.which("chromium") is None:
        return "no `chromium` on PATH (Debian: apt-get install chromium chromium-driver)"
    return None


def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER") == "1"


def skip_without_browser() -> None:
    """Call at module level: skip the whole module when no browser can run (unless
    REQUIRE_BROWSER=1, where the ``browser`` fixture then fails with the reason)."""
    reason = browser_missing()
    if reason and not browser_required():
        pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)


def screenshot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    SAVED.append(path)
    return path


@dataclass
class Traffic:
    """What a page did: console errors, uncaught exceptions, failed and external requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def on_request(self, request: Request) -> None:
        self.requested.append(request.url)
        url = urlsplit(request.url)
        if url.scheme not in ("data", "blob") and url.hostname not in LOCAL_HOSTS:
            self.external.append(request.url)

    def on_failed(self, request: Request) -> None:
        self.failed.append(f"{request.url} ({request.failure})")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} ({response.status})")

    def problems(self) -> dict[str, list[str]]:
        found = {
            "console errors": self.console_errors,
            "page errors": self.page_errors,
            "failed requests": self.failed,
            "requests that left 127.0.0.1": self.external,
        }
        return {kind: items for kind, items in found.items() if items}


@dataclass(frozen=True)
class ServedSite:
    url: str  # ends with "/"
    root: Path


@dataclass
class TrackedPage:
    page: Page
    traffic: Traffic


# --- the site's sources ---------------------------------------------------------------

NOTEBOOK_FOLDERS = ("notebooks", "exercises", "solutions")
PLOT_FIXTURE = "notebooks/99_plot_fixture.ipynb"


def site_notebooks(root: Path = ROOT) -> list[str]:
    """The notebooks to publish, relative to the repository: the committed ones when this
    is a git work tree (lessons other people are still writing stay out), else all."""
    pattern = re.compile(r"^(notebooks|exercises|solutions)/[0-9][0-9]_[^/]*\.ipynb$")
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--", *NOTEBOOK_FOLDERS],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        listed = [
            str(path.relative_to(root))
            for folder in NOTEBOOK_FOLDERS
            for path in (root / folder).glob("[0-9][0-9]_*.ipynb")
        ]
    return sorted(name for name in listed if pattern.match(name) and (root / name).is_file())


def plot_notebook() -> dict[str, Any]:
    """A notebook with a mermaid diagram in Markdown and a real matplotlib PNG output: the
    site must draw both, offline, even while no committed lesson has either."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 3), dpi=80)
    axes.bar(["bare", "stack"], [1.0, 1.3], color=["#26a69a", "#ef6c00"])
    axes.set_title("plot fixture")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "cells": [
            {"cell_type": "markdown", "id": "title", "metadata": {}, "source": ["# Plot fixture"]},
            {
                "cell_type": "markdown",
                "id": "diagram",
                "metadata": {},
                "source": ["```mermaid\n", "flowchart LR\n", "    notebook --> site\n", "```"],
            },
            {
                "cell_type": "code",
                "id": "plot",
                "metadata": {},
                "execution_count": 1,
                "source": ["plt.bar(...)"],
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/png": png, "text/plain": ["<Figure>"]},
                    }
                ],
            },
        ],
    }


def copy_site_sources(target: Path, root: Path = ROOT) -> Path:
    """mkdocs.yml, docs/ and the published notebooks copied to ``target``, plus the plot
    fixture; the build then reads nothing that another process may be writing."""
    shutil.copy2(root / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(root / "docs", target / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    for name in site_notebooks(root):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)
    fixture = target / PLOT_FIXTURE
    fixture.parent.mkdir(parents=True, exist_ok=True)
    fixture.write_text(json.dumps(plot_notebook()), encoding="utf-8")
    return target


def page_url(name: str) -> str:
    """``notebooks/01_x.ipynb`` -> ``notebooks/01_x/`` (directory URLs)."""
    return name.removesuffix(".ipynb") + "/"


# --- search ---------------------------------------------------------------------------


def term_only_in(index: dict[str, Any], location: str, prefix: int = 6) -> str | None:
    """A word of the page at ``location`` whose first ``prefix`` letters appear on no
    other page (so no prefix or fuzzy match elsewhere can outrank it), the page's most
    frequent such word; None when there is none."""
    mine: list[str] = []
    others: list[str] = []
    for doc in index["docs"]:
        text = f"{doc.get('title', '')} {doc.get('text', '')}".lower()
        (mine if doc["location"].split("#")[0] == location else others).append(text)
    elsewhere = " ".join(others)
    counts = Counter(word for text in mine for word in re.findall(r"[a-z]{8,}", text))
    unique = [(n, word) for word, n in counts.items() if word[:prefix] not in elsewhere]
    return max(unique, key=lambda item: (item[0], item[1]))[1] if unique else None


# --- notebooks run in JupyterLab -----------------------------------------------------


def without_outputs(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook with every output and execution count cleared, so that a count seen
    after the run can only come from this run."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return notebook


def run_problems(notebook: dict[str, Any]) -> list[str]:
    """Each code cell of a saved notebook that did not run, or ended in an error."""
    problems = []
    code = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    for number, cell in enumerate(code, start=1):
        source = "".join(cell.get("source", []))[:60].replace("\n", " ")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"code cell {number} raised {output.get('ename')}: {source}")
        if cell.get("execution_count") is None:
            problems.append(f"code cell {number} did not run: {source}")
    return problems
