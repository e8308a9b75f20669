"""The search box at scale, in Chromium: Pagefind's results in Material's list.

The readers' journeys (test_journeys.py) search on every site; these tests add what only a
larger corpus shows (more matches than the list shows, an index in many parts) and the
keyboard path through the results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Project

from .conftest import Site, Tab, playwright_or_skip, serve
from .helpers import RESULTS_READY, search, search_total

playwright_or_skip()
from playwright.sync_api import expect  # noqa: E402 (once it is known to be there)

pytestmark = pytest.mark.browser

OpenTab = Callable[..., Tab]

# A word of the made-up articles (tests/conftest.py's SYNTHETIC_WORDS), found in many.
COMMON = "reservoir"


@pytest.fixture(scope="module")
def scale_url(scale_project: Project) -> Iterator[str]:
    """The 1,000-version site, served on 127.0.0.1."""
    with serve(scale_project.site) as url:
        yield url


def versions_with(word: str, corpus: Path) -> int:
    """How many corpus files hold `word` (as a word, in any case)."""
    pattern = re.compile(rf"\b{word}\b", re.IGNORECASE)
    return sum(1 for p in corpus.rglob("*.txt") if pattern.search(p.read_text("utf-8")))


def test_a_common_word_shows_the_best_20_and_counts_every_match(
    scale_project: Project, scale_url: str, open_tab: OpenTab
) -> None:
    expected = versions_with(COMMON, scale_project.root.parent / "corpus")
    assert expected > 20, "the made-up corpus should hold the word in many versions"
    page = open_tab().page
    page.goto(scale_url)
    results = search(page, COMMON)
    assert search_total(page) == expected
    meta = page.locator(".md-search-result__meta")
    expect(meta).to_have_text(f"The best 20 of {expected:,} matching documents")
    # Material draws the first 10 and the rest as the list is scrolled.
    assert len(results) == 10
    items = page.locator(".md-search-result__item")
    box = page.locator(".md-search__scrollwrap")
    for _ in range(10):  # four more each time the end of the list comes into view
        if items.count() >= 20:
            break
        box.evaluate("box => { box.scrollTop = 0; }")
        page.wait_for_timeout(100)
        box.evaluate("box => { box.scrollTop = box.scrollHeight; }")
        page.wait_for_timeout(200)
    expect(items).to_have_count(20)
    for n in range(10):
        item = page.locator(".md-search-result__item").nth(n)
        expect(item.locator("mark").first).to_have_text(re.compile(COMMON, re.I))
        expect(item.locator("a").first).to_have_attribute("href", re.compile(r"/a/[0-9a-f]{16}/"))


def test_a_search_downloads_a_small_part_of_the_index(
    scale_project: Project, scale_url: str, open_tab: OpenTab
) -> None:
    """Material's one-file index made every reader download the whole corpus; Pagefind's
    parts are fetched as a query needs them."""
    bundle = scale_project.site / "pagefind"
    whole = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    tab = open_tab()
    sizes: dict[str, int] = {}
    tab.page.on(
        "requestfinished",
        lambda r: sizes.__setitem__(r.url, r.sizes()["responseBodySize"]),
    )
    tab.page.goto(scale_url)
    search(tab.page, COMMON)
    fetched = sum(n for url, n in sizes.items() if "/pagefind/" in url)
    assert 0 < fetched < whole / 10, (fetched, whole)
    assert not any(url.endswith("search_index.json") and n > 1000 for url, n in sizes.items())


def test_results_are_reached_and_opened_with_the_keyboard(site: Site, open_tab: OpenTab) -> None:
    """ "/" opens the search box, arrows move through the results, Enter opens one, and the
    word found is marked on the page opened; Escape closes the box."""
    e = site.expect
    page = open_tab().page
    page.goto(site.url)
    page.keyboard.press("/")
    expect(page.locator(".md-search__input")).to_be_focused()
    expect(page.locator("#__search")).to_be_checked()
    page.keyboard.type(e.search_word)
    page.wait_for_function(RESULTS_READY, arg=e.search_word)
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.getAttribute('href')")
    assert focused and re.search(r"/a/[0-9a-f]{16}/", focused), focused
    page.keyboard.press("Escape")
    expect(page.locator("#__search")).not_to_be_checked()

    search(page, e.search_word)
    page.keyboard.press("Enter")  # the best result
    page.wait_for_url(re.compile(r"/a/[0-9a-f]{16}/"))
    expect(page.locator(".corpus-text mark").first).to_have_text(re.compile(e.search_word, re.I))
