"""The built site in a real browser: pages load cleanly and offline, notebooks show code,
outputs and plots, mermaid draws SVG from the vendored file, search finds lesson text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import support
from tests.browser.support import ServedSite, TrackedPage, Traffic

support.skip_without_browser()

NOTEBOOKS = support.site_notebooks()
LESSONS = [name for name in NOTEBOOKS if name.startswith("notebooks/")]
LABS = [name for name in NOTEBOOKS if name.startswith("exercises/")]
PAGES = {
    "home": "",
    "lesson": support.page_url(LESSONS[0]) if LESSONS else None,
    "lab": support.page_url(LABS[0]) if LABS else None,
}
TIMEOUT_MS = 20_000


def open_page(tracked: TrackedPage, site: ServedSite, path: str) -> None:
    tracked.page.goto(site.url + path, wait_until="networkidle", timeout=TIMEOUT_MS)


@pytest.mark.parametrize("kind", list(PAGES))
def test_page_loads_cleanly_and_offline(
    kind: str, built_site: ServedSite, tracked_page: TrackedPage, artifacts: Path
) -> None:
    path = PAGES[kind]
    if path is None:
        pytest.skip(f"no committed {kind} notebook")
    page = tracked_page.page
    open_page(tracked_page, built_site, path)
    support.screenshot(page, artifacts, f"site-{kind}")

    assert tracked_page.traffic.problems() == {}
    assert tracked_page.traffic.requested, "the page made no request at all"
    if kind == "home":
        assert page.locator("h1").first.inner_text().startswith("FastAPI in Production")
        first_lesson = page.locator(f'article a[href*="{support.page_url(LESSONS[0])}"]').first
        assert first_lesson.is_visible()
        return
    code = page.locator(".jp-CodeCell .jp-InputArea pre").first
    output = page.locator(".jp-OutputArea-output").first
    code.scroll_into_view_if_needed()
    assert code.is_visible() and code.inner_text().strip(), "no visible code"
    output.scroll_into_view_if_needed()
    assert output.is_visible() and output.inner_text().strip(), "no visible output"


@pytest.mark.parametrize("kind", ["lesson", "lab"])
def test_download_button_serves_the_notebook(
    kind: str, built_site: ServedSite, tracked_page: TrackedPage
) -> None:
    path = PAGES[kind]
    if path is None:
        pytest.skip(f"no committed {kind} notebook")
    open_page(tracked_page, built_site, path)
    button = tracked_page.page.locator("a.jp-DownloadNB")
    assert button.is_visible()
    href = button.get_attribute("href") or ""
    assert href.endswith(".ipynb")
    response = tracked_page.page.request.get(built_site.url + path + href)
    assert response.status == 200
    assert json.loads(response.body())["nbformat"] == 4


def _plot_pages() -> list[str]:
    with_plots = [
        name for name in NOTEBOOKS if '"image/png"' in (support.ROOT / name).read_text("utf-8")
    ]
    return [support.PLOT_FIXTURE, *with_plots]


@pytest.mark.parametrize("name", _plot_pages())
def test_plots_are_visible(name: str, built_site: ServedSite, tracked_page: TrackedPage) -> None:
    open_page(tracked_page, built_site, support.page_url(name))
    images = tracked_page.page.locator(".jp-OutputArea-output img")
    assert images.count() > 0, "no image output on the page"
    first = images.first
    first.scroll_into_view_if_needed()
    assert first.is_visible()
    width = first.evaluate("img => img.complete ? img.naturalWidth : 0")
    assert width > 50, "the plot did not decode"
    assert tracked_page.traffic.problems() == {}


def _shadow_svgs(node: dict[str, Any], in_mermaid: bool = False) -> Iterator[dict[str, Any]]:
    """SVG nodes inside the (closed) shadow roots of mermaid containers."""
    classes = dict(
        zip(node.get("attributes", [])[::2], node.get("attributes", [])[1::2], strict=True)
    )
    host = "mermaid" in classes.get("class", "").split()
    if in_mermaid and node.get("nodeName", "").lower() == "svg":
        yield node
    for root in node.get("shadowRoots", []):
        yield from _shadow_svgs(root, in_mermaid or host)
    for child in node.get("children", []):
        yield from _shadow_svgs(child, in_mermaid)


def test_mermaid_diagrams_render_to_svg_from_the_vendored_file(
    built_site: ServedSite, tracked_page: TrackedPage, artifacts: Path
) -> None:
    page = tracked_page.page
    open_page(tracked_page, built_site, "architecture/")
    # mkdocs-material replaces each <pre class="mermaid"> by a <div class="mermaid">
    # holding the drawing in a closed shadow root.
    page.wait_for_function(
        "() => !document.querySelector('pre.mermaid') && document.querySelector('div.mermaid')",
        timeout=TIMEOUT_MS,
    )
    diagrams = page.locator("div.mermaid")
    diagrams.first.scroll_into_view_if_needed()
    support.screenshot(page, artifacts, "site-architecture-mermaid")

    cdp = page.context.new_cdp_session(page)
    document = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})
    svgs = list(_shadow_svgs(document["root"]))
    assert len(svgs) == diagrams.count() >= 2
    drawn = [cdp.send("DOM.getOuterHTML", {"nodeId": svg["nodeId"]})["outerHTML"] for svg in svgs]
    assert any("reserve_stock" in svg for svg in drawn), "the request diagram is missing"
    assert not any("Syntax error" in svg for svg in drawn)
    for svg in svgs:
        box = cdp.send("DOM.getBoxModel", {"nodeId": svg["nodeId"]})["model"]
        assert box["width"] > 100 and box["height"] > 100
    mermaid_js = [url for url in tracked_page.traffic.requested if url.endswith("mermaid.min.js")]
    assert mermaid_js and all(url.startswith(built_site.url) for url in mermaid_js)
    assert tracked_page.traffic.problems() == {}


def _search(page: Any, term: str) -> Any:
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially(term, delay=20)
    meta = page.locator(".md-search-result__meta")
    meta.wait_for(state="visible", timeout=TIMEOUT_MS)
    return meta


def test_search_finds_a_word_that_only_a_lesson_contains(
    built_site: ServedSite, tracked_page: TrackedPage, artifacts: Path
) -> None:
    lesson = support.page_url(LESSONS[0])
    index = json.loads((built_site.root / "search" / "search_index.json").read_text("utf-8"))
    term = support.term_only_in(index, lesson)
    assert term, f"no word is unique to {lesson}"
    page = tracked_page.page
    open_page(tracked_page, built_site, "")
    _search(page, term)
    links = page.locator("a.md-search-result__link")
    links.first.wait_for(state="visible", timeout=TIMEOUT_MS)
    support.screenshot(page, artifacts, "site-search")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    assert lesson in hrefs[0], (term, hrefs)
    assert all(lesson in href for href in hrefs), (term, hrefs)


def test_search_for_an_absent_word_finds_nothing(
    built_site: ServedSite, tracked_page: TrackedPage
) -> None:
    page = tracked_page.page
    open_page(tracked_page, built_site, "")
    meta = _search(page, "qzxwvkjj")
    page.wait_for_function(
        "() => /no matching/i.test(document.querySelector('.md-search-result__meta').textContent)",
        timeout=TIMEOUT_MS,
    )
    assert page.locator("a.md-search-result__link").count() == 0
    assert "No matching" in meta.inner_text()


def test_dark_mode_toggle_switches_the_palette(
    built_site: ServedSite, tracked_page: TrackedPage
) -> None:
    page = tracked_page.page
    open_page(tracked_page, built_site, "")
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"
    page.locator("form[data-md-component=palette] label:visible").first.click()
    assert page.evaluate(scheme) == "slate"


def test_a_missing_page_is_caught_as_a_failed_request(
    built_site: ServedSite, tracked_page: TrackedPage
) -> None:
    tracked_page.page.goto(built_site.url + "notebooks/no-such-lesson/", timeout=TIMEOUT_MS)
    failed = tracked_page.traffic.problems().get("failed requests", [])
    assert any("no-such-lesson" in item and "(404)" in item for item in failed)


class _FakeRequest:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.mark.parametrize(
    ("url", "external"),
    [
        ("https://cdn.example.org/mermaid.min.js", True),
        ("http://localhost:8000/", True),  # only 127.0.0.1 is ours
        ("http://127.0.0.1:8000/assets/x.js", False),
        ("data:image/png;base64,AAAA", False),
    ],
)
def test_requests_that_leave_127_0_0_1_are_flagged(url: str, external: bool) -> None:
    traffic = Traffic()
    traffic.on_request(_FakeRequest(url))  # type: ignore[arg-type]
    assert (traffic.external == [url]) is external


def test_a_notebook_diagram_renders_offline(
    built_site: ServedSite, tracked_page: TrackedPage
) -> None:
    page = tracked_page.page
    open_page(tracked_page, built_site, support.page_url(support.PLOT_FIXTURE))
    page.wait_for_function(
        "() => !document.querySelector('pre.mermaid') && document.querySelector('div.mermaid')",
        timeout=TIMEOUT_MS,
    )
    cdp = page.context.new_cdp_session(page)
    document = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})
    svgs = list(_shadow_svgs(document["root"]))
    assert len(svgs) == 1
    drawn = cdp.send("DOM.getOuterHTML", {"nodeId": svgs[0]["nodeId"]})["outerHTML"]
    assert "notebook" in drawn and "site" in drawn
    assert tracked_page.traffic.problems() == {}
