"""Fixtures of the browser tests: the built sites, served on 127.0.0.1, and a real Chromium.

Two sites are built once per session with the real command line (tests/conftest.py's
`make_project` and `Project.build`): the default corpus, and the fixture corpus of
tests/fixtures/browser_corpus/ (three dated editions of one made-up article, a file of
hostile text, and a version that is published once and then withdrawn). Every test that
takes `site` runs against both.

Tools that are not Python packages skip the tests that need them, with a message saying
how to install them; `REQUIRE_BROWSER=1` (set by .ci/run) turns each such skip into a
failure.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, Project, make_project, write_synthetic_corpus

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

HERE = Path(__file__).resolve().parent
FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "browser_corpus"
ARTIFACTS = ROOT / "test-artifacts"
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = HERE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
NPM_HINT = "run `npm ci --prefix tests/browser --ignore-scripts` (Node 18+), or `bash .ci/run`"

# Headless, and nothing of Chromium's own talking to the network (updates, sync, safe
# browsing): a page view is the only traffic, and it must stay on 127.0.0.1.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {
    "mobile": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
REQUIRE = os.environ.get("REQUIRE_BROWSER") == "1"


def need(found: object, what: str, how: str) -> None:
    """Skip the test when a tool is missing, or fail under REQUIRE_BROWSER=1."""
    if found:
        return
    message = f"{what} is not installed: {how}"
    if REQUIRE:
        pytest.fail(f"{message} (REQUIRE_BROWSER=1 makes this a failure)", pytrace=False)
    pytest.skip(message)


def playwright_or_skip() -> None:
    """Skip a test module when Playwright is not installed (fail under REQUIRE_BROWSER=1)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        message = 'Playwright for Python is not installed: run `pip install -e ".[test]"`'
        if REQUIRE:
            raise
        pytest.skip(message, allow_module_level=True)


def pytest_configure(config: pytest.Config) -> None:
    """Name the marker of these tests (`pytest -m "not browser"` leaves them out)."""
    config.addinivalue_line("markers", "browser: runs in a real browser against a built site")


def chromium_path() -> str | None:
    """Debian's Chromium (what .ci/run installs), else a `chromium` on the PATH."""
    debian = Path("/usr/bin/chromium")
    return str(debian) if debian.is_file() else shutil.which("chromium")


# What each site must show a reader; the journeys and audits read it from `site.expect`.
@dataclass(frozen=True)
class Expect:
    """What one corpus's site must show a reader."""

    search_word: str  # a word of the article text ...
    word_hits: frozenset[str]  # ... found on exactly these version pages
    search_id: str  # a version found first when its ID is typed
    diff_page: str  # a version page whose diff against diff_sibling ...
    diff_sibling: str
    diff_only_here: tuple[str, ...]  # ... shows these paragraphs as only on diff_page,
    diff_label: str  # labelled with these words
    cited: tuple[str, int]  # a version and a paragraph number a reader cites
    version: str  # the version page of the screenshots and audits
    group: str  # the group page of the screenshots and audits
    hostile: str | None = None  # a version made of hostile text


A, B = "a9b2f913ca9d78f5", "4d15c612d949296d"  # the default corpus: 000 and 001
F0, F1, F2 = "5e1f0c2a9b3d4e60", "6f20d13bac4e5f71", "7031e24cbd5f6082"  # the fixture's editions

EXPECT = {
    "default": Expect(
        search_word="Izvarino",
        word_hits=frozenset({A, B}),
        search_id=B,
        diff_page=A,
        diff_sibling=B,
        diff_only_here=(
            "A Kiev official confirmed on Sunday",
            "“Indeed, this took place,” Ukrainian minister of defense",
        ),
        diff_label="only in 000",
        cited=(B, 3),
        version=A,
        group=A,
    ),
    "fixture": Expect(
        search_word="Kestrelbrook",
        word_hits=frozenset({F0, F1, F2}),
        search_id=F1,
        diff_page=F2,
        diff_sibling=F0,
        diff_only_here=(
            "Fares stay the same, and tickets bought for cancelled crossings",
            "The remaining two pontoons will be replaced in the autumn",
        ),
        diff_label="added in the later version",
        cited=(F2, 3),
        version=F2,
        group=F0,
        hostile="hostile-markup",
    ),
}
# The same fixture among 999 made-up versions: the same expectations hold.
EXPECT["scale"] = EXPECT["fixture"]


@dataclass(frozen=True)
class Site:
    """A built site served on 127.0.0.1, and what it must show."""

    name: str
    root: Path  # the built site folder
    url: str  # where it is served, ending in "/"
    expect: Expect

    def at(self, path: str) -> str:
        """The address of a page of this site ("a/<id>/#p3")."""
        return self.url + path.lstrip("/")


class _Handler(SimpleHTTPRequestHandler):
    """Static files of one folder, without a log line per request."""

    def end_headers(self) -> None:
        # LinkChecker waits 0.1-0.6 s between two requests to one host, unless the host
        # sends this header (then `maxrequestspersecond` of its config applies).
        self.send_header("LinkChecker", "local test server")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 at a free port; yield its URL; stop the server after."""
    handler = functools.partial(_Handler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def build_fixture(where: Path, synthetic_articles: int = 0) -> Project:
    """The fixture corpus (plus `synthetic_articles` made-up articles of three versions
    each) built twice, the second time without withdrawn/: a tombstone."""
    project = make_project(where / "project")
    # An empty permalink ledger, whatever make_project copies: the only URL that leaves is
    # the one this fixture withdraws.
    (project.root / "permalinks.json").unlink(missing_ok=True)
    corpus = where / "corpus"
    shutil.copytree(FIXTURE_CORPUS / "corpus", corpus)
    if synthetic_articles:
        # Their words appear in no fixture file: the fixture's expectations still hold.
        write_synthetic_corpus(corpus / "synthetic", synthetic_articles)
    withdrawn = sorted((FIXTURE_CORPUS / "withdrawn").glob("*.txt"))
    for path in withdrawn:
        shutil.copy(path, corpus / path.name)
    assert project.build(corpus, "-q") == 0
    for path in withdrawn:
        (corpus / path.name).unlink()
    assert project.build(corpus, "-q") == 0
    return project


@pytest.fixture(scope="session")
def fixture_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The fixture corpus, with a tombstone."""
    return build_fixture(tmp_path_factory.mktemp("browser-fixture"))


# 333 made-up articles of three versions each, with the fixture corpus: a site of 1,000
# versions, where hubs are paginated and a common word matches more than the 20 results
# the search box shows.
SCALE_ARTICLES = 333


@pytest.fixture(scope="session")
def scale_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The fixture corpus among 999 made-up versions: every test again, at 1,000 versions."""
    return build_fixture(tmp_path_factory.mktemp("browser-scale"), SCALE_ARTICLES)


SITE_PROJECTS = {"default": "default_site", "fixture": "fixture_project", "scale": "scale_project"}


@pytest.fixture(scope="session", params=sorted(EXPECT))
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """Each built site in turn, served on 127.0.0.1 until the session (or its turn) ends."""
    name: str = request.param
    project: Project = request.getfixturevalue(SITE_PROJECTS[name])
    with serve(project.site) as url:
        yield Site(name, project.site, url, EXPECT[name])


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright; one for the whole session."""
    path = chromium_path()
    need(
        path,
        "Chromium",
        "on Debian or Ubuntu `apt-get install -y chromium` (Playwright's own browser "
        "download is not used), or run `bash .ci/run`",
    )
    need(find_spec("playwright"), "Playwright for Python", 'run `pip install -e ".[test]"`')
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def is_local(url: str) -> bool:
    """True for an address on this machine's loopback, or inline data."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname == "127.0.0.1"


@dataclass
class Tab:
    """A browser page and what it did: every request, console error and dialog."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _stay_local(route: Route) -> None:
    """Let loopback requests through; stop any other before it leaves (it is recorded)."""
    if is_local(route.request.url):
        route.continue_()
    else:
        route.abort("blockedbyclient")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item, so a fixture can see a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def open_tab(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Tab]]:
    """Open a page in a fresh browser context ("mobile" or "desktop"); close it after.

    A failing test leaves a screenshot of each of its pages in test-artifacts/failures/.
    """
    tabs: list[Tab] = []

    def open_(viewport: str = "desktop") -> Tab:
        mobile = viewport == "mobile"
        context = chromium.new_context(
            viewport=VIEWPORTS[viewport], is_mobile=mobile, has_touch=mobile
        )
        # A step that does not happen fails the test instead of waiting 30 s.
        context.set_default_timeout(15_000)
        context.route("**/*", _stay_local)
        tab = Tab(context.new_page())
        context.on("request", lambda r: tab.requests.append(r.url))
        tab.page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        tab.page.on("pageerror", lambda e: tab.errors.append(f"uncaught: {e}"))

        def dialog(d: Any) -> None:
            tab.dialogs.append(d.message)
            d.dismiss()

        tab.page.on("dialog", dialog)
        tabs.append(tab)
        return tab

    yield open_
    report = getattr(request.node, "report_call", None)
    for n, tab in enumerate(tabs):
        if report is not None and report.failed:
            name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
            folder = ARTIFACTS / "failures"
            folder.mkdir(parents=True, exist_ok=True)
            tab.page.screenshot(path=folder / f"{name}-{n}.png", full_page=True)
        tab.page.context.close()
