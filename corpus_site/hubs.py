"""Hub pages: the corpus listed by corpus order, by group, by outlet and by month, in pages.

Pure. Every list is cut into pages of PAGE_ROWS rows, so no page grows with the corpus: a
hub page of 250 rows weighs about 100 KB of HTML whatever the corpus size (titles are
shortened to 160 characters), well under the 500 KB ceiling.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from .cache import Memo, no_memo
from .templating import ENV, front_matter

PAGE_ROWS = 250
# The home page lists the first versions and links to the hubs for the rest.
HOME_ROWS = 100


def hub_files(
    rows: Sequence[Mapping[str, Any]],
    groups: Sequence[Mapping[str, Any]],
    memo: Memo = no_memo,
) -> dict[str, bytes]:
    """Every hub page. rows: one per version (id, title, outlet, published, words, group,
    group_size); groups: one per group (id, title, size). memo keeps each page by what it
    shows: a rebuild renders only the pages whose rows changed."""
    files: dict[str, bytes] = {}
    intro = "Every version, in the order of the corpus files."
    files.update(_paged(memo, "versions", "All versions", intro, rows))
    files.update(
        _paged(
            memo,
            "groups",
            "Articles (groups of versions)",
            "Every group of versions of one article, earliest version first.",
            [],
            groups=groups,
        )
    )
    files.update(_index_of(memo, "outlets", "Versions by outlet", rows, _outlet_key))
    files.update(_index_of(memo, "dates", "Versions by month of publication", rows, _month_key))
    return files


def _outlet_key(row: Mapping[str, Any]) -> str:
    return row["outlet"] or "No outlet given"


def _month_key(row: Mapping[str, Any]) -> str:
    return row["published"][:7] if row["published"] else "Undated"


def _index_of(
    memo: Memo, base: str, heading: str, rows: Sequence[Mapping[str, Any]], key: Any
) -> dict[str, bytes]:
    """An index page of buckets (outlets, months), and the paged list of each bucket."""
    buckets: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        buckets[key(row)].append(row)
    files: dict[str, bytes] = {}
    links = []
    slugs: set[str] = set()
    for name in sorted(buckets):
        slug = _slug(name, slugs)
        links.append({"href": f"{base}/{slug}/", "label": name, "count": len(buckets[name])})
        files.update(_paged(memo, f"{base}/{slug}", f"{heading}: {name}", "", buckets[name]))
    files[f"{base}/index.md"] = _page(
        memo, f"{base}/index.md", heading, "", links=links, rows=[], pages=[], page=1
    )
    return files


def _paged(
    memo: Memo,
    base: str,
    heading: str,
    intro: str,
    rows: Sequence[Mapping[str, Any]],
    groups: Sequence[Mapping[str, Any]] = (),
) -> dict[str, bytes]:
    """A list cut into pages: base/index.md, base/2/index.md, ..."""
    items = list(groups) if groups else list(rows)
    count = max(1, -(-len(items) // PAGE_ROWS))
    pages = [
        {"number": n, "href": f"{base}/" if n == 1 else f"{base}/{n}/"} for n in range(1, count + 1)
    ]
    files: dict[str, bytes] = {}
    for n in range(1, count + 1):
        chunk = items[(n - 1) * PAGE_ROWS : n * PAGE_ROWS]
        path = f"{base}/index.md" if n == 1 else f"{base}/{n}/index.md"
        files[path] = _page(
            memo,
            path,
            heading if n == 1 else f"{heading} (page {n})",
            intro,
            rows=[] if groups else chunk,
            groups=chunk if groups else [],
            pages=pages,
            page=n,
        )
    return files


def _page(memo: Memo, path: str, heading: str, intro: str, **context: Any) -> bytes:
    """One hub page; `root` leads from its folder back to the site root."""
    material = (path, heading, intro, sorted(context.items()))
    return memo("hub page", material, lambda: _render_page(path, heading, intro, context))


def _render_page(path: str, heading: str, intro: str, context: Mapping[str, Any]) -> bytes:
    root = "../" * path.count("/")
    context = dict(context)
    return (
        ENV.get_template("hub.md.j2")
        .render(
            front_matter=front_matter({"title": heading}),
            heading=heading,
            intro=intro,
            root=root,
            links=context.pop("links", []),
            groups=context.pop("groups", []),
            table_rows=version_rows(context.get("rows", []), root),
            **context,
        )
        .encode()
    )


def version_rows(rows: Sequence[Mapping[str, Any]], root: str) -> Markup:
    """The <tr> lines of a table of versions (_version_table.html.j2), every value escaped
    as the template's {{ }} would escape it; root leads from the page to the site root."""
    to = escape(root)
    return Markup(
        "".join(
            f'<tr><td><a href="{to}a/{escape(row["id"])}/">{escape(row["title"])}</a></td>'
            f"<td><code>{escape(row['id'])}</code></td><td>{escape(row['outlet'])}</td>"
            f"<td>{escape(row['published'])}</td><td>{escape(row['words'])}</td>"
            f'<td><a href="{to}g/{escape(row["group"])}/">{escape(row["group_size"])} '
            f"version{'s' if row['group_size'] != 1 else ''}</a></td></tr>\n"
            for row in rows
        )
    )


def _slug(name: str, taken: set[str]) -> str:
    """A URL segment for a bucket name, unique among its siblings."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "other"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug
