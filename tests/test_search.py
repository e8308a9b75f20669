"""The search index of the built site: Pagefind's, read back from its own files.

Pagefind keeps, for every page it indexed, a fragment file: the page's URL, the text it
indexed, its metadata and the anchors in it (gzipped JSON). Reading the fragments tells
exactly what a query can find on which page. The browser tests search through the real
search box; these tests pin down what is and is not in the index.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import Project, make_project, tree, write_synthetic_corpus
from hostile_corpus import make_hostile_corpus

from corpus_site import search
from corpus_site.errors import BuildError
from corpus_site.search import index_site, search_copy

A, B = "a9b2f913ca9d78f5", "4d15c612d949296d"
OVERRIDES = Path(__file__).resolve().parent.parent / "overrides"


def fragments(site: Path) -> dict[str, dict]:
    """{page URL: what Pagefind indexed of it} for every indexed page."""
    found = {}
    for path in sorted((site / "pagefind" / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes()).decode("utf-8")
        record = json.loads(data.removeprefix("pagefind_dcd"))
        found[record["url"]] = record
    return found


def test_version_pages_are_indexed_by_title_id_and_text_only(default_site: Project) -> None:
    pages = fragments(default_site.site)
    # Version pages and hand-written pages; not the group page, hubs or redirects.
    assert set(pages) == {"/", "/about/", f"/a/{A}/", f"/a/{B}/"}
    for vid in (A, B):
        page = pages[f"/a/{vid}/"]
        assert page["meta"] == {"title": "Kiev soldiers desert to Russia", "version": vid}
        assert vid in page["content"].split()
        assert "Izvarino" in page["content"]
        # Paragraph anchors: a result links to the paragraph that holds the hit.
        assert any(a["id"] == "p1" and a["element"] == "p" for a in page["anchors"])
        # Not indexed: the citation block, the diffs, the metadata labels, the ¶ links.
        for absent in ("Cite this version", "BibTeX", "Show the differences", "SHA-256", "¶"):
            assert absent not in page["content"], (vid, absent)
    # Each version's ID only on its own page; the paragraph only 000 has only on 000.
    assert B not in pages[f"/a/{A}/"]["content"] and A not in pages[f"/a/{B}/"]["content"]
    assert "A Kiev official" in pages[f"/a/{A}/"]["content"]
    assert "A Kiev official" not in pages[f"/a/{B}/"]["content"]
    # Boilerplate is set apart on the page and left out of search.
    assert "Read more" not in pages[f"/a/{A}/"]["content"]


def test_hand_written_pages_are_indexed_without_the_corpus_listing(
    default_site: Project,
) -> None:
    home = fragments(default_site.site)["/"]
    assert "publishes a corpus of news articles" in home["content"]
    # The listing of versions the home page includes is not the home page's own text.
    assert "Kiev soldiers" not in home["content"]
    assert "matching" not in fragments(default_site.site)["/about/"]["content"]


def test_materials_own_index_ships_no_documents(default_site: Project) -> None:
    """Material's one-file index is what every reader would download: it stays empty."""
    index = json.loads((default_site.site / "search" / "search_index.json").read_text())
    assert index["docs"] == []
    # Its config is what Material's highlighter of found words reads on the page opened.
    assert index["config"]["separator"]


def test_the_search_box_talks_to_the_pagefind_worker(default_site: Project) -> None:
    page = (default_site.site / "a" / A / "index.html").read_text()
    config = json.loads(re.search(r'<script id="__config"[^>]*>(.*?)</script>', page, re.S)[1])
    assert config["search"] == "../../assets/javascripts/corpus-search.js"
    assert (default_site.site / "assets" / "javascripts" / "corpus-search.js").is_file()
    assert "assets/javascripts/corpus-search-count.js" in page
    assert (default_site.site / "pagefind" / "pagefind.js").is_file()


def test_config_block_is_materials_but_for_the_worker() -> None:
    """overrides/main.html copies Material's config block; on an upgrade of Material that
    changes the block, this fails until the copy is made again."""
    import material

    base = (Path(material.__file__).parent / "templates" / "base.html").read_text()
    ours = (OVERRIDES / "main.html").read_text()

    def block(text: str) -> list[str]:
        body = text[text.index("{% block config %}") :]
        body = body[: body.index("{% endblock %}")]
        return [line.strip() for line in body.splitlines() if line.strip()]

    theirs, mine = block(base), block(ours)
    assert len(theirs) == len(mine)
    differ = [(t, m) for t, m in zip(theirs, mine, strict=True) if t != m]
    assert len(differ) == 1, differ
    assert differ[0][0].startswith('"search": "assets/javascripts/workers/search.')
    assert differ[0][1] == '"search": "assets/javascripts/corpus-search.js" | url,'


def test_a_site_that_cannot_be_indexed_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-site-here"
    with pytest.raises(BuildError, match="no-site-here"):
        index_site(missing)


def test_pagefind_reads_every_mark_without_a_warning_and_reports_its_steps(
    default_site: Project, tmp_path: Path
) -> None:
    """Pagefind warns on a mark it does not understand (a bare data-pagefind-ignore inside
    Markdown is written as data-pagefind-ignore="data-pagefind-ignore"); progress follows
    the steps it announces."""
    import shutil

    site = tmp_path / "site"
    shutil.copytree(default_site.site, site, ignore=shutil.ignore_patterns("pagefind"))
    steps: list[str] = []

    def progress(items, total, what):  # type: ignore[no-untyped-def]
        for item in items:
            steps.append(what)
            yield item
        assert len(steps) == total

    report = index_site(site, progress)
    assert "not valid" not in report.output, report.output
    assert report.pages > 0 and len(steps) == 6  # cutting the pages, then Pagefind's five


def test_the_index_of_the_cut_pages_is_the_index_of_the_whole_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pagefind reads each indexed page cut to what it indexes (search.cut_pages): the
    index is the one Pagefind makes of the whole pages, every file byte for byte."""
    corpus = tmp_path / "corpus"
    make_hostile_corpus(corpus)  # markup, scripts and odd characters in the articles
    ids = write_synthetic_corpus(corpus, 12)
    cut: list[tuple[int, int]] = []  # (page, copy) sizes

    def counted(html: str) -> str | None:
        copy = search_copy(html)
        if copy is not None:
            cut.append((len(html), len(copy)))
        return copy

    monkeypatch.setattr(search, "search_copy", counted)
    project = make_project(tmp_path / "project")
    # 1: the hostile files that cannot be published are reported; the others are.
    # One process, so that the cuts are counted here.
    assert project.build(corpus, "-q", "--max-file-size", "200000", "--jobs", "1") == 1
    # Every version page was cut, to less than a third of the bytes.
    assert len(cut) >= len(ids)
    assert sum(c for _, c in cut) < sum(p for p, _ in cut) / 3
    whole = tmp_path / "whole"
    shutil.copytree(project.site, whole, ignore=shutil.ignore_patterns("pagefind"))
    index_site(whole)  # the site's own pages, whole
    built, made_whole = tree(project.site / "pagefind"), tree(whole / "pagefind")
    assert len(built) > len(ids)
    assert built == made_whole


def test_a_page_is_cut_to_its_indexed_elements_or_left_whole() -> None:
    page = (
        '<!doctype html><html lang="fr"><head><title>T</title></head><body><nav>menu</nav>'
        '<div data-pagefind-body class="x"><div><p id="p1">un</p></div><p>deux</p></div>'
        "<section>diffs</section><h1 data-pagefind-body>titre</h1></body></html>"
    )
    assert search_copy(page) == (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"></head><body>'
        '<div data-pagefind-body class="x"><div><p id="p1">un</p></div><p>deux</p></div>'
        "<h1 data-pagefind-body>titre</h1></body></html>"
    )
    # Left whole: nothing marked; a mark Pagefind reads outside the indexed elements; an
    # element without its end tag; a comment inside one.
    assert search_copy(page.replace("data-pagefind-body", "data-x")) is None
    assert search_copy(page.replace("<nav>", '<nav data-pagefind-filter="a:b">')) is None
    assert search_copy(page.replace("<p>deux</p></div>", "<p>deux</p>")) is None
    assert search_copy(page.replace("<p>deux</p>", "<!-- <p> -->")) is None
