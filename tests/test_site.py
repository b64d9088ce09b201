"""The site builds strictly and shows every notebook with its committed outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
