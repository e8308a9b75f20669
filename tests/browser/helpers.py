"""What the browser tests do more than once: search, audit with axe, find pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .conftest import AXE_JS

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page


@dataclass(frozen=True)
class SearchResult:
    """One page in the search results."""

    path: str  # the page's path on the site ("/a/<id>/")
    links: Locator  # its links: the page, then the sections that matched

    def open(self, word: str) -> None:
        """Click the excerpt of the page's text that shows `word`, else the page itself."""
        # The first link is the page (its title and lead); the others are its sections.
        link = self.links.first
        for n in range(1, self.links.count()):
            section = self.links.nth(n)
            if word.lower() in (section.text_content() or "").lower():
                link = section
                break
        if not link.is_visible():
            # Further sections fold under "N more on this page".
            link.locator("xpath=ancestor::details[1]/summary").click()
        link.click()


# The results on screen answer the final query when the count line names it (data-query,
# set by overrides/assets/javascripts/corpus-search-count.js from the search worker's
# message) and Material has drawn the first of them (it draws 10, then more on scrolling).
RESULTS_READY = """(query) => {
  const meta = document.querySelector(".md-search-result__meta");
  if (!meta || meta.dataset.query !== query) return false;
  const shown = Number(meta.dataset.shown);
  const items = document.querySelectorAll(".md-search-result__item").length;
  if (shown === 0) return items === 0 && /^No matching/i.test(meta.textContent.trim());
  return items === Math.min(shown, 10) && /\\d+ matching document/i.test(meta.textContent);
}"""


def search(page: Page, query: str) -> list[SearchResult]:
    """Type `query` into the site's search box as a reader does; the results, best first.

    The one place that knows the search interface: Material's search box and result list,
    answered from Pagefind's index by overrides/assets/javascripts/corpus-search.js.
    """
    button = page.locator('label.md-header__button[for="__search"]')
    if button.is_visible():
        # On a phone the box hides behind the magnifier button of the header.
        button.click()
    box = page.locator(".md-search__input")
    box.click()
    box.fill("")
    # Key by key: Material searches on key events, not on a value set by script.
    box.press_sequentially(query)
    page.wait_for_function(RESULTS_READY, arg=query.strip())
    items = page.locator(".md-search-result__item")
    results = []
    for n in range(items.count()):
        links = items.nth(n).locator("a.md-search-result__link")
        href = links.first.get_attribute("href") or ""
        results.append(SearchResult(urlsplit(href).path, links))
    return results


def search_total(page: Page) -> int:
    """How many documents the last search matched in all (the list shows the best 20)."""
    return int(page.locator(".md-search-result__meta").get_attribute("data-total") or 0)


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core in the page; one line per element that violates a rule of `impacts`."""
    page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: {' '.join(node['target'])}: {node['html'][:200]}"
        for v in violations
        if v["impact"] in impacts
        for node in v["nodes"]
    ]


def html_pages(site_root: Path) -> list[str]:
    """Every HTML page of a built site, as paths for its URL ("", "a/<id>/", "404.html")."""
    pages = []
    for path in sorted(site_root.rglob("*.html")):
        rel = path.relative_to(site_root).as_posix()
        pages.append(rel.removesuffix("index.html"))
    return pages


# On a site of 1,000 versions a crawl from every page takes LinkChecker over 10 minutes on
# two cores; beyond this many pages the audits start from a sample (see sample_pages).
MAX_AUDITED_PAGES = 150


def sample_pages(
    pages: list[str], always: tuple[str, ...] = (), limit: int = MAX_AUDITED_PAGES
) -> list[str]:
    """All pages when there are at most `limit`; else every page that is not a version or
    group page (home, hubs and their pagers, about, 404), the pages in `always`, and an
    even spread of the version and group pages (at least 10)."""
    if len(pages) <= limit:
        return pages
    per_item = [p for p in pages if p.startswith(("a/", "g/"))]
    kept = {p for p in pages if not p.startswith(("a/", "g/"))} | set(always)
    step = max(1, len(per_item) // max(limit - len(kept), 10))
    return sorted(kept | set(per_item[::step]))


def tombstones(site_root: Path) -> list[str]:
    """Paths of the tombstone pages of withdrawn versions ("a/<id>/")."""
    found = []
    for page in sorted((site_root / "a").glob("*/index.html")):
        record = page.parent / "version.json"
        withdrawn = record.is_file() and json.loads(record.read_text("utf-8")).get("withdrawn")
        if withdrawn or 'class="corpus-tombstone"' in page.read_text("utf-8"):
            found.append(f"a/{page.parent.name}/")
    return found
