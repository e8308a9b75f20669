"""The one place where corpus text is escaped on its way into pages.

Every template is rendered by the environment below, which HTML-escapes every value;
`diff_rows`, `versions_section` and `group_compare_section` (the comparison blocks, made by
formats for speed) HTML-escape every value they write;
`front_matter` HTML-escapes and then JSON-quotes (valid YAML that cannot leave its line);
`cite.json_ld` escapes for a <script> element. Corpus text is only ever placed inside raw
HTML blocks, where Python-Markdown does not parse Markdown, so no corpus file can become
markup, a script, a link, Jinja or Markdown syntax on a page.
"""

from __future__ import annotations

import functools
import html
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
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
    # Templates are read once per process: a build does not change them while it runs, and
    # checking each one's file before every render (thousands of small renders) costs.
    auto_reload=False,
)


def keep_compiled_templates(directory: Path) -> None:
    """Keep the compiled templates in directory from one build for the next: compiling
    them is 0.1 s of every build. Jinja's bytecode cache checks each template's source
    and the Python version, and writes its files atomically (the render workers share it)."""
    directory.mkdir(parents=True, exist_ok=True)
    ENV.bytecode_cache = jinja2.FileSystemBytecodeCache(os.fspath(directory))


# The inline view of a diff, the rows of compare.RowView: runs of identical paragraphs in one
# line, paragraphs on one side only, and paragraphs on both sides with their word diff.
# Deleted and inserted text is struck through or underlined, and corpus.css has screen
# readers announce it, so colour is never the only sign. The rows are made by formats, not by
# a template loop: the Versions sections of 1,000 versions hold some 30,000 rows and 70,000
# word operations, and Jinja's cost per value (a lookup, an escape, a yield, a macro call)
# was most of the compare stage. corpus.js builds the side-by-side view from this markup
# (see versions_section), so its classes and its order are an interface.
_ONE_SIDE = {  # (sign, class and element) of a row with a paragraph on one side only
    "only_a": ("−", "del"),
    "boilerplate_a": ("−", "del"),
    "only_b": ("+", "ins"),
    "boilerplate_b": ("+", "ins"),
}
_SIGN = '<span class="corpus-sign" aria-hidden="true">'


def diff_rows(rows: Iterable[Any], labels: tuple[str, str], hrefs: tuple[str, str]) -> Markup:
    """The inline view of a diff, one <p> per compare.RowView, every text escaped; labels
    name the old and the new version ("000"), hrefs are their pages ("" for this page)."""
    old_label, new_label = _escape(labels[0]), _escape(labels[1])
    to_old, to_new = f'<a href="{_escape(hrefs[0])}#p', f'<a href="{_escape(hrefs[1])}#p'
    out = []
    for row in rows:
        what = _escape(row.what)
        if row.kind == "same_run":
            out.append(f'<p class="corpus-d corpus-d-same">{_SIGN}=</span> {what}</p>\n')
            continue
        if row.kind in _ONE_SIDE:
            sign, tag = _ONE_SIDE[row.kind]
            kind, body = tag, f"<{tag}>{_escape(row.text)}</{tag}>"
        else:
            sign, kind = "~", _escape(row.kind)
            body = f'<span class="corpus-ops">{_word_ops(row.words)}</span>'
        refs = []
        if row.a:  # a link to the first paragraph: "000 ¶3, ¶4"
            refs.append(f'{to_old}{row.a[0]}">{old_label} ¶{", ¶".join(map(str, row.a))}</a>')
        if row.b:
            refs.append(f'{to_new}{row.b[0]}">{new_label} ¶{", ¶".join(map(str, row.b))}</a>')
        out.append(
            f'<p class="corpus-d corpus-d-{kind}">{_SIGN}{sign}</span> <strong class="corpus-d-what">'
            f"{what}</strong> ({' · '.join(refs)}): {body}</p>\n"
        )
    return Markup("".join(out))


def versions_section(views: Sequence[Any], rest: Sequence[Mapping[str, Any]], group: Any) -> str:
    """The Versions section of a version page (compare.DiffView per sibling diffed, then a
    line per sibling that is not), every value escaped.

    One line per sibling, then for each of the nearest ones its diff inline and side by
    side (tabs). Left out of the search index: Material's indexer ends an exclusion at the
    first closing tag of the same name, so the excluded container is a <section> with no
    <section> inside, and headings inside carry no id (a heading with an id would start an
    index entry of its own).

    The inline view is the whole diff, and all of it without JavaScript. The side-by-side
    table is made from it by docs/javascripts/corpus.js when its tab is opened, so the page
    carries each text once: a row's class says its kind, its .corpus-d-what its label, and
    its .corpus-ops (or its one <del> or <ins>) the text; the table's column headings are
    the data-a and data-b of .corpus-diff-side. Screen readers hear "[deleted: …]" and
    "[inserted: …]" from corpus.css.

    Formats, not a template: it was a Jinja template, whose cost per value made it a fifth
    of the compare stage (2.4 s of CPU at 10,000 versions)."""
    out = [
        '<section class="corpus-versions" data-search-exclude data-pagefind-ignore>\n'
        '<ul class="corpus-sibling-list">\n'
    ]
    for v in views:
        vid = _escape(v.sibling.id)
        published = v.sibling.source.metadata.published
        when = f", {_escape(published)}" if published else ""
        counts = "; ".join(map(_escape, v.counts)) if v.counts else "no differences"
        out.append(
            f'<li><a href="../{vid}/"><code>{vid}</code></a> ({_escape(v.sibling_label)}{when}):'
            f" {_escape(v.similarity)} of words in common; {counts}."
            f' <a href="#diff-{vid}">Show the differences</a></li>\n'
        )
    group_href = f"../../g/{_escape(group.id)}/"
    for r in rest:
        rid = _escape(r["id"])
        when = f", {_escape(r['published'])}" if r["published"] else ""
        score = r["similarity"]
        similar = f": similarity {score * 100:.0f}%" if score is not None else ""
        out.append(
            f'<li><a href="../{rid}/"><code>{rid}</code></a> ({_escape(r["label"])}{when})'
            f'{similar}; see the <a href="{group_href}">group page</a>.</li>\n'
        )
    out.append("</ul>\n")
    if rest:
        out.append(
            f'<p class="corpus-note">Differences are shown against the {len(views)} nearest'
            f" versions; the group has {len(group.members)}.</p>\n"
        )
    for v in views:
        vid, tab = _escape(v.sibling.id), v.index + 1
        old, new = _escape(v.old_label), _escape(v.new_label)
        in_time = " (in order of publication)" if v.in_time else ""
        out.append(
            f'<div class="corpus-diff" id="diff-{vid}" role="region" aria-labelledby="diff-{vid}-h">\n'
            f'<h3 class="corpus-diff-h"><span id="diff-{vid}-h">{old} → {new}{in_time}</span></h3>\n'
        )
        if v.title_a != v.title_b:
            was = f"<del>{_escape(v.title_a)}</del>" if v.title_a else f"<em>none in {old}</em>"
            now = f"<ins>{_escape(v.title_b)}</ins>" if v.title_b else f"<em>none in {new}</em>"
            out.append(f'<p class="corpus-d-title">Title: {was} → {now}</p>\n')
        here_old, here_new = (" (this version)", "") if v.here_is_old else ("", " (this version)")
        out.append(
            f'<div class="tabbed-set tabbed-alternate" data-tabs="{tab}:2">\n'
            f'<input checked="checked" id="__tabbed_{tab}_1" name="__tabbed_{tab}" type="radio"'
            f' aria-label="Inline"><input id="__tabbed_{tab}_2" name="__tabbed_{tab}"'
            ' type="radio" aria-label="Side by side">\n'
            f'<div class="tabbed-labels"><label for="__tabbed_{tab}_1">Inline</label>'
            f'<label for="__tabbed_{tab}_2">Side by side</label></div>\n'
            '<div class="tabbed-content">\n<div class="tabbed-block">\n'
            f'<div class="corpus-diff-inline">\n{v.inline}</div>\n</div>\n'
            '<div class="tabbed-block">\n'
            f'<div class="corpus-table-wrap corpus-diff-side" data-a="{old}{here_old}"'
            f' data-b="{new}{here_new}">\n'
            '<p class="corpus-note">The side-by-side view is made by JavaScript, which did not'
            " run here; the Inline tab shows every difference.</p>\n"
            "</div>\n</div>\n</div>\n</div>\n</div>\n"
        )
    out.append("</section>\n")
    return "".join(out)


def group_compare_section(
    members: Sequence[Mapping[str, Any]],
    truncated: int,
    matrix: Sequence[Mapping[str, Any]],
    table: Sequence[Mapping[str, Any]],
    base_label: str,
    totals: Mapping[str, int],
) -> str:
    """The comparison part of a group page: similarity matrix and alignment table (made by
    compare._group_block), out of the search index (see versions_section for why a
    <section> and no heading ids), every value escaped. Formats, not a template, as
    versions_section: a table of 30 versions has thousands of cells."""
    base = _escape(base_label)
    out = [
        '<section class="corpus-group-compare" data-search-exclude data-pagefind-ignore>\n'
        '<h2 class="corpus-h2"><span id="similarity">Similarity</span></h2>\n'
        "<p>Share of article words two versions have in common."
    ]
    if truncated:
        out.append(
            f" The first {len(members)} versions are shown; {truncated} more are listed above."
        )
    out.append(
        '</p>\n<div class="corpus-table-wrap">\n<table>\n'
        '<thead><tr><th scope="col">Version</th>'
        + "".join(f'<th scope="col">{_escape(c["label"])}</th>' for c in members)
        + "</tr></thead>\n<tbody>\n"
    )
    for row in matrix:
        cells = "".join(
            f"<td>{_escape(cell) if cell is not None else '—'}</td>" for cell in row["cells"]
        )
        out.append(
            f'<tr><th scope="row"><a href="../../a/{_escape(row["version"].id)}/">'
            f"{_escape(row['label'])}</a></th>{cells}</tr>\n"
        )
    out.append(
        "</tbody>\n</table>\n</div>\n"
        '<h2 class="corpus-h2"><span id="alignment">Alignment</span></h2>\n'
        f"<p>One row per paragraph, one column per version, aligned to {base} (the earliest)."
        " Each cell links to the paragraph in that version. Across the group:"
        f" {totals['typographic']} paragraph(s) differ only in typography and"
        f" {totals['boilerplate']} boilerplate line(s) appear in only one"
        f" version (compared with {base}).</p>\n"
        '<div class="corpus-table-wrap corpus-alignment">\n<table>\n<thead><tr>'
        + "".join(
            f'<th scope="col"><a href="../../a/{_escape(c["version"].id)}/">'
            f"{_escape(c['label'])}</a></th>"
            for c in members
        )
        + "</tr></thead>\n<tbody>\n"
    )
    for row in table:
        out.append("<tr>")
        for cell in row["cells"]:
            state = _escape(cell["state"])
            link = (
                f'<a href="{_escape(cell["href"])}">{_escape(cell["refs"])}</a> '
                if cell["href"]
                else ""
            )
            out.append(f'<td class="corpus-cell-{state}">{link}{state}</td>')
        out.append("</tr>\n")
    out.append("</tbody>\n</table>\n</div>\n</section>\n")
    return "".join(out)


def word_ops(ops: Iterable[tuple[str, str, str]]) -> str:
    """The markup of word operations (models.WordOp; "skip" is compare.trim's left-out text),
    every text escaped. A change of typography only shows the new text and says what it
    was; corpus.js reads that title to show the old text in the side-by-side view."""
    out = []
    for op, a, b in ops:
        if op == "equal":
            out.append(_escape(b))
        elif op == "typo":
            out.append(
                f'<span class="corpus-typo" title="typography only, was: {_escape(a)}">'
                f"{_escape(b)}</span>"
            )
        elif op == "skip":
            out.append(
                f'<span class="corpus-skip" title="unchanged text left out">{_escape(b)}</span>'
            )
        else:  # delete, insert, replace
            out.append(
                (f"<del>{_escape(a)}</del>" if a else "")
                + (f"<ins>{_escape(b)}</ins>" if b else "")
            )
    return "".join(out)


# Versions of one article share paragraphs, so the same word diff recurs in a group's diffs.
_word_ops = functools.lru_cache(maxsize=4096)(word_ops)


def _escape_text(text: str) -> str:
    """text HTML-escaped exactly as the environment escapes values (markupsafe's five
    characters, tests/test_compare.py checks it), without making a Markup object per value:
    diff_rows escapes some 300,000 values per 1,000 versions."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


_escape: Callable[[str], str]
try:
    # MarkupSafe's own escaping, in C, which markupsafe.escape wraps in a Markup object:
    # 4.8 times faster than _escape_text (100 strings of news text: 4.5 against 21.8
    # microseconds). Private to MarkupSafe 3.0, hence the fallback.
    from markupsafe._speedups import _escape_inner as _escape
except ImportError:  # another MarkupSafe, or one without its compiled speed-ups
    _escape = _escape_text


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
