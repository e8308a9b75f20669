"""The readers' journeys of issue 6, in Chromium, on the served site of each corpus."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from .conftest import (
    ARTIFACTS,
    AXE_JS,
    F2,
    NPM_HINT,
    A,
    Site,
    Tab,
    is_local,
    need,
    playwright_or_skip,
)
from .helpers import axe_violations, html_pages, sample_pages, search

playwright_or_skip()
from playwright.sync_api import Locator, Page, expect  # noqa: E402 (once it is known to be there)

pytestmark = pytest.mark.browser

OpenTab = Callable[..., Tab]


def press_tab_until(page: Page, selector: str, limit: int = 60) -> bool:
    """Press Tab, as a keyboard user does, until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return True
    return False


# 1
@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_search_finds_a_word_once_per_version_and_opens_it(
    site: Site, open_tab: OpenTab, viewport: str
) -> None:
    """Home → search a word → every version holding it, once → open one → the paragraph."""
    e = site.expect
    page = open_tab(viewport).page
    page.goto(site.url)

    results = search(page, e.search_word)

    versions = [r.path for r in results if r.path.startswith("/a/")]
    assert sorted(versions) == sorted(f"/a/{v}/" for v in e.word_hits), versions
    # Diffs quote the paragraphs of sibling versions: were they indexed, a version page
    # would also match through its "Versions" section.
    for result in results:
        if not result.path.startswith("/a/"):
            continue
        for href in result.links.evaluate_all("els => els.map(a => a.href)"):
            fragment = urlsplit(href).fragment
            assert fragment != "versions" and not fragment.startswith("diff-"), href

    opened = next(r for r in results if r.path.startswith("/a/"))
    opened.open(e.search_word)
    page.wait_for_url(re.compile(re.escape(site.at(opened.path.lstrip("/")))))
    paragraph = page.locator(".corpus-text .corpus-p", has_text=e.search_word).first
    expect(paragraph).to_be_in_viewport()
    # Material marks the searched word on the page it opens.
    expect(paragraph.locator("mark").first).to_have_text(re.compile(e.search_word, re.I))


# 2
def test_typing_a_version_id_finds_that_version_first(site: Site, open_tab: OpenTab) -> None:
    """An ID copied from a paper, typed into the search box: its version comes first."""
    e = site.expect
    page = open_tab().page
    page.goto(site.url)
    results = search(page, e.search_id)
    assert results, f"no result for {e.search_id}"
    assert results[0].path == f"/a/{e.search_id}/", [r.path for r in results]


# 3
def test_diff_shows_the_paragraphs_only_one_version_has_in_words(
    site: Site, open_tab: OpenTab
) -> None:
    """Version page → Versions → the diff names what only this version has; tabs by keys."""
    e = site.expect
    page = open_tab().page
    page.goto(site.at(f"a/{e.diff_page}/"))
    page.locator(".md-sidebar--secondary").get_by_role("link", name="Versions").click()
    expect(page).to_have_url(re.compile("#versions$"))
    show = page.locator(f'.corpus-sibling-list a[href="#diff-{e.diff_sibling}"]')
    expect(show).to_be_in_viewport()
    show.click()

    diff = page.locator(f"#diff-{e.diff_sibling}")
    expect(diff).to_be_in_viewport()
    inline = diff.locator(".corpus-diff-inline")
    side = diff.locator(".corpus-diff-side")
    expect(inline).to_be_visible()
    for text in e.diff_only_here:
        row = inline.locator(".corpus-d", has_text=text)
        expect(row).to_have_count(1)
        # Said in words a reader sees, not only by colour or strike-through.
        expect(row.locator(".corpus-d-what")).to_have_text(e.diff_label)
        expect(row.locator(".corpus-d-what")).to_be_visible()

    # The side-by-side tab, by keyboard: Tab to the tab set, then an arrow key.
    show.focus()
    assert press_tab_until(page, f"#diff-{e.diff_sibling} .tabbed-set > input"), (
        "the diff's tabs cannot be reached with the Tab key"
    )
    page.keyboard.press("ArrowRight")
    expect(side).to_be_visible()
    expect(inline).to_be_hidden()
    for text in e.diff_only_here:
        expect(side.locator("tr", has_text=text)).to_contain_text(e.diff_label)
    page.keyboard.press("ArrowLeft")
    expect(inline).to_be_visible()
    expect(side).to_be_hidden()


# 4
@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_a_copied_paragraph_link_opens_on_that_paragraph(
    site: Site, open_tab: OpenTab, viewport: str
) -> None:
    """The ¶ beside a paragraph is its link; opened directly, it shows and marks it."""
    vid, n = site.expect.cited
    page = open_tab(viewport).page
    page.goto(site.at(f"a/{vid}/"))
    pilcrow = page.locator(f"#p{n} a.corpus-pilcrow")
    # The ¶ appears for the mouse and for the keyboard.
    if viewport == "desktop":
        page.locator(f"#p{n}").hover()
        expect(pilcrow).to_have_css("opacity", "1")
        page.mouse.move(0, 0)
    pilcrow.focus()
    expect(pilcrow).to_have_css("opacity", "1")
    copied = pilcrow.evaluate("a => a.href")
    assert copied == site.at(f"a/{vid}/#p{n}")

    # Pasted into a new window.
    page = open_tab(viewport).page
    page.goto(copied)
    target = page.locator(f"#p{n}")
    expect(target).to_be_in_viewport()
    # Below the sticky header, not under it.
    page.wait_for_function(
        """(n) => {
          const top = document.getElementById("p" + n).getBoundingClientRect().top;
          const header = document.querySelector(".md-header").getBoundingClientRect().bottom;
          return top >= header - 1 && top < window.innerHeight / 2;
        }""",
        arg=n,
    )
    target_bg = target.evaluate("el => getComputedStyle(el).backgroundColor")
    other_bg = page.locator(f".corpus-p:not(#p{n})").first.evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert target_bg not in ("rgba(0, 0, 0, 0)", "transparent", other_bg), target_bg


# 5
def test_group_alignment_links_land_on_paragraphs(site: Site, open_tab: OpenTab) -> None:
    """Group page → every cell of the alignment table links to a paragraph that exists."""
    page = open_tab().page
    group = site.at(f"g/{site.expect.group}/")
    page.goto(group)
    links = page.locator(".corpus-alignment td a")
    hrefs: list[str] = links.evaluate_all("els => els.map(a => a.href)")
    assert hrefs, "the alignment table has no paragraph links"
    wanted: dict[str, set[str]] = defaultdict(set)
    for href in hrefs:
        address, _, fragment = href.partition("#")
        assert re.fullmatch(r"p\d+", fragment), href
        wanted[address].add(fragment)
    for address, fragments in sorted(wanted.items()):
        page.goto(address)
        missing = page.evaluate(
            """(ids) => ids.filter((id) => {
              const el = document.getElementById(id);
              return !el || !el.matches(".corpus-p, .corpus-boilerplate");
            })""",
            sorted(fragments),
        )
        assert not missing, f"{address} has no paragraph {missing}"

    # And a click lands on one, in view.
    page.goto(group)
    link = links.nth(len(hrefs) // 2)
    fragment = link.evaluate("a => a.hash").lstrip("#")
    link.click()
    page.wait_for_url(re.compile(f"#{fragment}$"))
    expect(page.locator(f"#{fragment}")).to_be_in_viewport()


# 6
@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
def test_pages_fit_the_screen(site: Site, open_tab: OpenTab, viewport: str) -> None:
    """Screenshots of the home, a version and a group; on a phone nothing runs off the side."""
    e = site.expect
    page = open_tab(viewport).page
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for kind, path in (("home", ""), ("version", f"a/{e.version}/"), ("group", f"g/{e.group}/")):
        page.goto(site.at(path))
        page.wait_for_load_state("networkidle")
        page.screenshot(path=folder / f"{site.name}-{kind}-{viewport}.png", full_page=True)
        if viewport != "mobile":
            continue
        # Reading text: every block of the content lies within the screen.
        off_screen = page.evaluate(
            """() => [...document.querySelectorAll(
                ".md-content h1, .md-content h2, .md-content h3, .md-content p, .md-content li")]
              .filter((el) => !el.closest(".corpus-table-wrap, .md-typeset__scrollwrap"))
              .filter((el) => el.getClientRects().length > 0)
              .filter((el) => {
                const r = el.getBoundingClientRect();
                const overflow = Math.max(0, el.scrollWidth - el.clientWidth);
                return r.left < -1 || r.right + overflow > window.innerWidth + 1;
              })
              .map((el) => el.outerHTML.slice(0, 120))"""
        )
        assert not off_screen, f"{kind}: text wider than the screen: {off_screen}"
        # Tables: a wide one scrolls inside its own box, and the page does not move.
        tables = page.evaluate(
            """() => [...document.querySelectorAll(".md-content table")]
              .filter((t) => t.getClientRects().length > 0)
              .map((t) => {
                let box = t.parentElement;
                while (box && getComputedStyle(box).overflowX === "visible") {
                  box = box.parentElement;
                }
                const r = box.getBoundingClientRect();
                const wide = box.scrollWidth > box.clientWidth + 1;
                if (wide) box.scrollLeft = 40;
                return {
                  table: t.outerHTML.slice(0, 80),
                  box: box.className,
                  fits: r.left >= -1 && r.right <= window.innerWidth + 1,
                  scrolls: !wide || box.scrollLeft > 0,
                  page: window.scrollX === 0,
                };
              })"""
        )
        bad = [t for t in tables if not (t["fits"] and t["scrolls"] and t["page"])]
        assert not bad, f"{kind}: tables that do not scroll in their own box: {bad}"


# 7
def test_pages_load_from_this_machine_only_without_errors(site: Site, open_tab: OpenTab) -> None:
    """Every page of the site (a sample with every hub, at 1,000 versions): no request
    leaves 127.0.0.1, nothing on the console."""
    tab = open_tab()
    e = site.expect
    # Each page waits for the network to rest (half a second): a smaller sample than the
    # audits' on the 1,000-version site, the same kinds of page.
    pages = sample_pages(html_pages(site.root), (f"a/{e.version}/", f"g/{e.group}/"), limit=60)
    assert len(pages) >= 5, pages
    for path in pages:
        tab.page.goto(site.at(path))
        tab.page.wait_for_load_state("networkidle")
    outside = sorted({u for u in tab.requests if not is_local(u)})
    assert not outside, f"requests that left 127.0.0.1: {outside}"
    assert not tab.errors, f"console errors: {tab.errors}"
    assert not tab.dialogs, f"dialogs: {tab.dialogs}"


HOSTILE_TEXT = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[a link](javascript:alert(1))",
    "{{ jinja }} {% if true %}yes{% endif %}",
    "# heading",
    "<!-- a comment that must stay visible -->",
    "<style>body { display: none }</style>",
    '!!! danger "Not an admonition"',
    '<iframe src="http://tracker.invalid/frame"></iframe> &amp; &lt;b&gt;',
)


@pytest.mark.parametrize("site", ["fixture"], indirect=True)
def test_hostile_text_stays_text(site: Site, open_tab: OpenTab) -> None:
    """Markup, Markdown and template syntax in a corpus file show as the letters they are."""
    vid = site.expect.hostile
    assert vid
    tab = open_tab()
    page = tab.page
    page.goto(site.at(f"a/{vid}/"))
    page.wait_for_load_state("networkidle")
    text = page.locator(".corpus-text")
    for literal in HOSTILE_TEXT:
        expect(text).to_contain_text(literal)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text(
        "Council </title><script>alert('title')</script> notice & {{ config.site_name }}"
    )
    assert "</title><script>" in page.title()
    content = page.locator(".md-content")
    expect(content.locator("script, img, iframe, style, table.admonition")).to_have_count(0)
    expect(page.locator('a[href^="javascript:" i]')).to_have_count(0)

    # The search results quote the text too.
    page.goto(site.url)
    results = search(page, "Wrenfold")
    assert f"/a/{vid}/" in [r.path for r in results]
    expect(page.locator(".md-search-result img, .md-search-result iframe")).to_have_count(0)
    page.wait_for_load_state("networkidle")

    outside = sorted({u for u in tab.requests if not is_local(u)})
    assert not outside, f"requests that left 127.0.0.1: {outside}"
    assert not tab.dialogs, f"a script of the corpus ran: {tab.dialogs}"


# What the side-by-side view of each site's diff (diff_page against diff_sibling, by
# diff_page) must show: a row, known by text in its column, and the words each column
# holds. The old version is the left column: 000 on the default site (undated: the page's
# own version comes first), the first edition on the fixture's (dated: in order of
# publication).
SIDE_BY_SIDE = {
    A: {
        "columns": ["000 (this version)", "001"],
        # Typography only: each column in its own quotes (000 is the curly one).
        "typography": ("Federal Security Service’s Rostov", "Federal Security Service's Rostov"),
        "deleted": ("A Kiev official confirmed on Sunday", "only in 000"),
        "inserted": None,
        "edited": None,
    },
    F2: {
        "columns": ["000", "002 (this version)"],
        "typography": None,
        "deleted": ("The shop on the quay said it had run out", "removed in the later version"),
        "inserted": ("The remaining two pontoons will be replaced", "added in the later version"),
        # An edited paragraph: (left text, its deleted words), (right text, its inserted words).
        "edited": (
            ("The first crossing leaves Port Alder", ["leaves", "12"]),
            ("The first crossing left Port Alder", ["left", "14"]),
        ),
    },
}


# 8
@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_side_by_side_tab_shows_each_version_in_its_column(
    site: Site, open_tab: OpenTab, viewport: str
) -> None:
    """Version page → a diff's "Side by side" tab → the old text left, the new text right,
    deleted words only on the left, inserted only on the right; on a phone too."""
    e = site.expect
    want = SIDE_BY_SIDE[e.diff_page]
    tab = open_tab(viewport)
    page = tab.page
    page.goto(site.at(f"a/{e.diff_page}/#diff-{e.diff_sibling}"))
    diff = page.locator(f"#diff-{e.diff_sibling}")
    inline = diff.locator(".corpus-diff-inline")
    side = diff.locator(".corpus-diff-side")
    # The page carries the texts once, in the inline view; the table is made when asked for.
    expect(side.locator("table")).to_have_count(0)
    # Deleted and inserted text is announced to screen readers (CSS generated content).
    deleted_line = inline.locator(".corpus-d", has_text=want["deleted"][0])
    # (A regular expression of the snapshot's YAML: "\s", as ": " would start a mapping.)
    expect(deleted_line.locator("del")).to_match_aria_snapshot(
        f"- deletion: /\\[deleted:\\s{want['deleted'][0]}.*\\]/"
    )

    diff.get_by_text("Side by side", exact=True).click()
    expect(side).to_be_visible()
    expect(inline).to_be_hidden()
    expect(side.locator("thead th")).to_have_text(want["columns"])
    rows = side.locator("tbody tr")
    expect(rows).to_have_count(inline.locator(".corpus-d").count())

    def columns(text: str, column: int) -> tuple[Locator, Locator]:
        row = rows.filter(has=page.locator(f"td:nth-child({column + 1})", has_text=text))
        expect(row).to_have_count(1)
        return row.locator("td").nth(0), row.locator("td").nth(1)

    text, label = want["deleted"]
    left, right = columns(text, 0)
    expect(left.locator("del")).to_contain_text(text)
    expect(left.locator(".corpus-d-what")).to_have_text(f"− {label}")
    expect(right).to_have_text("absent")  # for screen readers; an empty cell to the eye
    if want["inserted"]:
        text, label = want["inserted"]
        left, right = columns(text, 1)
        expect(left).to_have_text("absent")
        expect(right.locator("ins")).to_contain_text(text)
        expect(right.locator(".corpus-d-what")).to_have_text(f"+ {label}")
    if want["typography"]:
        old, new = want["typography"]
        left, right = columns(old, 0)
        expect(left).to_contain_text(old)
        expect(right).to_contain_text(new)
        expect(left.locator(".corpus-d-what")).to_have_text("~ typography only")
        # The new typography is marked, and says what it was.
        expect(right.locator(".corpus-typo").first).to_have_attribute(
            "title", re.compile("^typography only, was: ")
        )
    if want["edited"]:
        (old, deleted), (new, inserted) = want["edited"]
        left, right = columns(old, 0)
        expect(right).to_contain_text(new)
        expect(left.locator("del")).to_have_text(deleted)
        expect(right.locator("ins")).to_have_text(inserted)
    # Deleted words only on the left, inserted ones only on the right.
    expect(side.locator("td:nth-child(2) del")).to_have_count(0)
    expect(side.locator("td:nth-child(1) ins")).to_have_count(0)
    expect(side.locator("td:nth-child(1) del")).to_have_count(inline.locator("del").count())
    expect(side.locator("td:nth-child(2) ins")).to_have_count(inline.locator("ins").count())

    if viewport == "mobile":
        # The table scrolls inside its own box; the page itself does not move sideways.
        fits = page.evaluate(
            """(box) => {
              const r = box.getBoundingClientRect();
              return r.left >= -1 && r.right <= window.innerWidth + 1
                && document.documentElement.scrollWidth <= window.innerWidth + 1;
            }""",
            side.element_handle(),
        )
        assert fits, "the side-by-side table runs off the screen"
    # The table JavaScript made passes the same accessibility bar as the rest of the page.
    need(AXE_JS.is_file(), "axe-core", NPM_HINT)
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)
    # And back: the inline view is still the whole diff.
    diff.get_by_text("Inline", exact=True).click()
    expect(inline).to_be_visible()
    expect(side).to_be_hidden()
    assert not tab.errors, f"console errors: {tab.errors}"
