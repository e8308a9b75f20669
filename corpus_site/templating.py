"""The one place where corpus text is escaped on its way into pages.

Every template is rendered by the environment below, which HTML-escapes every value;
`front_matter` HTML-escapes and then JSON-quotes (valid YAML that cannot leave its line);
`cite.json_ld` escapes for a <script> element. Corpus text is only ever placed inside raw
HTML blocks, where Python-Markdown does not parse Markdown, so no corpus file can become
markup, a script, a link, Jinja or Markdown syntax on a page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import jinja2
from markupsafe import Markup

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("corpus_site", "templates"),
    autoescape=True,  # the one escaping point for corpus text in HTML
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)

# Page titles appear in <title>, the header and search results; a 10 kB "title" would
# swamp them all. The full text stays in the page's <h1> and in version.json.
MAX_SHOWN_TITLE = 160


def front_matter(fields: Mapping[str, str], raw: Mapping[str, str] | None = None) -> Markup:
    """YAML front matter lines. Values of `fields` are shortened and HTML-escaped (themes
    print page titles raw); values of `raw` are HTML we made and escaped already. Every
    value is JSON-quoted: valid YAML that cannot break out of its line."""
    lines = [
        f"{key}: {json.dumps(html.escape(shorten(value), quote=True), ensure_ascii=False)}"
        for key, value in fields.items()
    ]
    lines += [
        f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in (raw or {}).items()
    ]
    return Markup("\n".join(lines))


# How a version's publication facts are labelled on its page and on its tombstone.
METADATA_LABELS = {
    "outlet": "Outlet",
    "published": "Published",
    "retrieved": "Retrieved",
    "authors": "Authors",
    "language": "Language",
    "license": "Licence",
    "url": "Original URL",
}


def labelled_metadata(record: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, kind) of the publication facts that have a value, in a fixed order;
    kind is "link" for an http(s) URL, else "text"."""
    rows = []
    for key, label in METADATA_LABELS.items():
        value = record.get(key)
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        if value:
            kind = "link" if key == "url" and is_web_url(str(value)) else "text"
            rows.append((label, str(value), kind))
    return rows


def shorten(text: str, limit: int = MAX_SHOWN_TITLE) -> str:
    """One line of at most limit characters, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def is_web_url(url: str) -> bool:
    """Only http(s) URLs become links; anything else (javascript:, data:) stays text."""
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://")) and " " not in url.strip()


def render_fragment(template: str, **context: Any) -> str:
    """Render a template of the package (used for blocks built by other stages)."""
    return ENV.get_template(template).render(**context)


def dump_json(record: Any) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8, two-space indent, final newline."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
