"""Real-browser fixtures: Debian's chromium driven by Playwright (never `playwright install`).

Every browser test module calls ``support.skip_without_browser()`` at import: without
playwright or a ``chromium`` on the PATH the module is skipped with the reason, unless
``REQUIRE_BROWSER=1`` (CI), where the ``browser`` fixture fails instead.

Screenshots go to ``$BROWSER_ARTIFACTS`` (default ``<repo>/.artifacts/screenshots/``) and
are listed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import support

if TYPE_CHECKING:
    from playwright.sync_api import Browser


# "package": Playwright's sync API keeps an event loop running in the main thread while it
# is open; it must close with the last browser test, or every later test that calls
# asyncio.run() fails with "cannot be called from a running event loop".
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    reason = support.browser_missing()
    if reason:
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=support.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def artifacts() -> Path:
    default = support.ROOT / ".artifacts" / "screenshots"
    folder = Path(os.environ.get("BROWSER_ARTIFACTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if support.SAVED:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in support.SAVED:
            terminalreporter.write_line(str(path))


@pytest.fixture
def tracked_page(browser: Browser) -> Iterator[support.TrackedPage]:
    """A fresh page in a fresh context, with everything it does recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    traffic = support.Traffic()
    context.on("request", traffic.on_request)
    context.on("requestfailed", traffic.on_failed)
    context.on("response", traffic.on_response)
    page = context.new_page()
    page.on("console", traffic.on_console)
    page.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
    yield support.TrackedPage(page, traffic)
    context.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="package")
def serve_static() -> Iterator[Callable[[Path], support.ServedSite]]:
    """Serve folders over HTTP on 127.0.0.1 (a free port each), in threads."""
    servers: list[ThreadingHTTPServer] = []

    def start(root: Path) -> support.ServedSite:
        handler = partial(_QuietHandler, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return support.ServedSite(f"http://127.0.0.1:{server.server_address[1]}/", root)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="package")
def built_site(
    browser: Browser,  # first: no build when the browser tests cannot run
    tmp_path_factory: pytest.TempPathFactory,
    serve_static: Callable[[Path], support.ServedSite],
) -> support.ServedSite:
    """The site, built once (strictly) from a copy of its sources, served on 127.0.0.1."""
    sources = support.copy_site_sources(tmp_path_factory.mktemp("site-src"))
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [
            *(sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"),
            *("--config-file", str(sources / "mkdocs.yml"), "--site-dir", str(out)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return serve_static(out)
