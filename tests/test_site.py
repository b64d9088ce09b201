"""The site builds strictly and shows every notebook with its committed outputs."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coursekit import notebooks as nb

ROOT = nb.ROOT


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def notebooks() -> list[Path]:
    return nb.notebooks_in()


def test_home_page_links_every_lesson(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    for path in notebooks():
        assert f"{path.parent.name}/{path.stem}/" in home, path


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_page_shows_outputs_and_offers_a_download(site: Path, path: Path) -> None:
    page_dir = site / path.parent.name / path.stem
    html = (page_dir / "index.html").read_text(encoding="utf-8")
    assert "jp-OutputArea" in html or "output_area" in html, "no rendered outputs"
    assert f'href="{path.name}"' in html, "no download link"
    copied = page_dir / path.name
    assert copied.read_bytes() == path.read_bytes(), "the downloadable notebook differs"


def test_search_index_covers_the_lessons(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    for path in nb.notebooks_in([nb.NOTEBOOKS]):
        assert f"notebooks/{path.stem}/" in locations


def test_site_has_no_cdn_only_assets(site: Path) -> None:
    # the theme's own assets are bundled: the site renders offline
    assert any((site / "assets" / "stylesheets").glob("main.*.css"))
    assert any((site / "assets" / "javascripts").glob("bundle.*.js"))


# --- offline, navigation, diagrams, agenda ------------------------------------------------

HOOKS_PATH = ROOT / "docs" / "hooks.py"


def load_hooks() -> Any:
    spec = importlib.util.spec_from_file_location("site_hooks", HOOKS_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


hooks = load_hooks()

# Everything a browser fetches by itself: scripts, styles, icons, images, frames, ES imports.
LOADED = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*?\ssrc=\"(?P<src>[^\"]*)\""
    r"|<link\b(?=[^>]*\srel=\"(?!canonical|alternate|next|prev)[^\"]*\")[^>]*?\shref=\"(?P<href>[^\"]*)\""
    r"|import\(\s*[\"'](?P<imp>[^\"']*)[\"']"
    r"|url\(\s*[\"']?(?P<url>https?:[^)\"']*)"
)


def external_loads(html: str) -> list[str]:
    found = []
    for match in LOADED.finditer(html):
        url = next(value for value in match.groups() if value is not None)
        if url.startswith(("http:", "https:", "//")):
            found.append(url)
    return found


def test_external_loads_are_detected() -> None:
    html = (
        '<script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/css">'
        '<link rel="canonical" href="https://example.org/page/">'
        '<a href="https://example.org/">a link is not a load</a>'
        '<script>const m = await import("https://cdn.example.org/m.mjs")</script>'
        '<script src="../assets/local.js"></script>'
    )
    assert external_loads(html) == [
        "https://cdn.example.org/x.js",
        "//fonts.example.org/css",
        "https://cdn.example.org/m.mjs",
    ]


def test_no_page_loads_an_external_url(site: Path) -> None:
    offenders = {
        str(page.relative_to(site)): found
        for page in site.rglob("*.html")
        if (found := external_loads(page.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_navigation_groups_each_phase(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    labels = {"notebooks": "Lesson", "exercises": "Lab", "solutions": "Solved lab"}
    for path in notebooks():
        number = path.name[:2]
        assert f"{number} · {hooks.phase_name(number)}" in home
        assert f"{labels[path.parent.name]} {number}" in home, path
    for page in ("instructor/", "architecture/"):
        assert f'href="{page}"' in home


def test_mermaid_is_vendored_and_loaded_only_with_a_diagram(site: Path) -> None:
    vendored = site / "assets" / "vendor" / "mermaid" / "mermaid.min.js"
    assert vendored.stat().st_size > 1_000_000
    architecture = (site / "architecture" / "index.html").read_text(encoding="utf-8")
    assert architecture.count('<pre class="mermaid">') >= 2
    assert 'src="../assets/vendor/mermaid/mermaid.min.js"' in architecture
    assert "mermaid.min.js" not in (site / "index.html").read_text(encoding="utf-8")
    assert not (site / "assets" / "vendor" / "mermaid" / "README").exists()


def test_instructor_agenda_quotes_the_lessons_own_times(site: Path) -> None:
    page = (site / "instructor" / "index.html").read_text(encoding="utf-8")
    assert "course doctor" in page
    first = nb.notebooks_in([nb.NOTEBOOKS])[0]
    stated = hooks.stated_minutes(first)
    assert stated is not None, f"{first.name} states no time"
    assert f"Lesson {first.name[:2]} · {hooks.phase_name(first.name[:2])}" in page
    assert f"{stated[0]} min" in page and f"{stated[1]} min" in page


def _notebook(tmp_path: Path, name: str, first_cell: str) -> Path:
    path = tmp_path / name
    cell = {"cell_type": "markdown", "metadata": {}, "source": [first_cell]}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}}), encoding="utf-8")
    return path


def test_stated_minutes_reads_the_time_line(tmp_path: Path) -> None:
    text = "# 09 · X\n\n**Time estimate:** about 50 minutes (lesson) + 40 minutes (lab)."
    assert hooks.stated_minutes(_notebook(tmp_path, "09_x.ipynb", text)) == (50, 40)


@pytest.mark.parametrize(
    "first_cell",
    ["# 09 · X\n\nNo time here.", "**Time:** soon", "**Time:** about 45 minutes"],
    ids=["no-line", "no-number", "one-number"],
)
def test_stated_minutes_is_none_without_both_times(tmp_path: Path, first_cell: str) -> None:
    assert hooks.stated_minutes(_notebook(tmp_path, "09_x.ipynb", first_cell)) is None


def test_stated_minutes_survives_a_broken_notebook(tmp_path: Path) -> None:
    broken = tmp_path / "09_x.ipynb"
    broken.write_text("{ not json", encoding="utf-8")
    assert hooks.stated_minutes(broken) is None


def test_agenda_leaves_what_does_not_fit_for_self_study() -> None:
    phases = [hooks.Phase(f"{n:02d}", f"P{n}", 60, 45, True) for n in range(1, 13)]
    plan = hooks.plan_days(phases, 2)
    assert len(plan.days) == 2 and plan.left, "12 phases of 105 min cannot fit in two days"
    taught = [t for day in plan.days for _start, t, _m in day if t.startswith("Lesson")]
    labs = [t for day in plan.days for _start, t, _m in day if t.startswith("Lab")]
    assert len(taught) + len(plan.left) == 12
    assert len(labs) + len(plan.homework) == len(taught)
    for day in plan.days:
        last_start, _title, minutes = day[-1]
        assert last_start + minutes <= hooks.DAY_END, "a day runs past its end"
        starts = [start for start, _t, _m in day]
        assert starts == sorted(starts)
        assert sum(1 for _s, title, _m in day if title == "Lunch") <= 1


def test_agenda_without_lessons_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "workshop_phases", list)
    assert hooks.agenda(1) == "*No lesson is published yet.*"


def test_reference_page_is_optional(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("# Home\n", encoding="utf-8")
    titles = [next(iter(entry)) for entry in hooks.build_nav(tmp_path)]
    assert titles[0] == "Home" and "Reference" not in titles
    link = "See the [command reference](reference/course.md)."
    config = {"docs_dir": str(tmp_path)}
    assert hooks.on_page_markdown(link, None, config, None) == "See the command reference."
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "course.md").write_text("# course\n", encoding="utf-8")
    assert "Reference" in [next(iter(entry)) for entry in hooks.build_nav(tmp_path)]
    assert hooks.on_page_markdown(link, None, config, None) == link


def test_notebook_mermaid_import_is_pointed_at_the_vendored_copy() -> None:
    page = (
        'const mermaid = (await import("https://cdnjs.example/mermaid/11.10.0/'
        'mermaid.esm.min.mjs")).default;\n'
        'const elkUrl = "https://cdnjs.example/elk.esm.min.mjs";'
    )
    out = hooks.on_post_page(page, None, {})
    assert out == 'const mermaid = window.mermaid;\nconst elkUrl = "";'
    assert external_loads(f"<script>{out}</script>") == []
