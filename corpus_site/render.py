"""Stage 5, render: the generated files of docs/, as a mapping of relative path to bytes.

Pure. All corpus text passes through one escaping point: the Jinja environment below,
which HTML-escapes every value, and `front_matter`, which HTML-escapes and then
YAML-quotes. Corpus text is only ever placed inside raw HTML blocks, where Python-Markdown
does not parse Markdown, so no corpus file can become markup, a script, or a link.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from .models import Group, Problem, Version
from .normalize import ShownTitle

HOME_FRAGMENT = ".corpus/home.md"

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("corpus_site", "templates"),
    autoescape=True,  # the one escaping point for corpus text in HTML
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)

# Page titles appear in <title>, the header and search results; a 10 kB "title" would
# swamp them all. The full text stays in the page's <h1> and in version.json.
_MAX_SHOWN_TITLE = 160


@dataclass(frozen=True)
class SiteInput:
    """Everything the render stage needs, gathered by the orchestrator."""

    versions: Sequence[Version]
    groups: Sequence[Group]
    titles: Mapping[str, ShownTitle]
    problems: Sequence[Problem]
    versions_blocks: Mapping[str, str]  # version ID -> pre-escaped HTML of its Versions section
    group_blocks: Mapping[str, str]  # group ID -> pre-escaped HTML of its comparison section
    sibling_records: Mapping[str, Sequence[Mapping[str, Any]]]  # version ID -> siblings data


def render_site(data: SiteInput) -> dict[str, bytes]:
    """Every generated file of docs/, keyed by POSIX path relative to docs/."""
    group_of = {m: g for g in data.groups for m in g.members}
    files: dict[str, bytes] = {}
    for version in data.versions:
        base = f"a/{version.id}/"
        group = group_of[version.id]
        files[base + "index.md"] = render_version(version, group, data).encode()
        files[base + "source.txt"] = version.source.raw
        files[base + "version.json"] = dump_json(version_record(version, group, data))
    by_id = {v.id: v for v in data.versions}
    for group in data.groups:
        files[f"g/{group.id}/index.md"] = render_group(group, by_id, data).encode()
    files[HOME_FRAGMENT] = render_home(data, group_of).encode()
    files["data/groups.json"] = dump_json(groups_record(data))
    return files


def groups_record(data: SiteInput) -> dict[str, Any]:
    """data/groups.json: every group with its members, earliest first, and its pair scores."""
    return {
        "groups": [
            {
                "id": g.id,
                "url": f"g/{g.id}/",
                "origin": g.origin,
                "members": list(g.members),
                "pairs": [{"a": a, "b": b, "similarity": s} for a, b, s in g.pairs],
            }
            for g in data.groups
        ]
    }


def render_version(version: Version, group: Group, data: SiteInput) -> str:
    """The Markdown page of one version."""
    title = data.titles[version.id]
    return _ENV.get_template("version.md.j2").render(
        front_matter=front_matter({"title": title.text, "corpus_version": version.id}),
        title=title,
        metadata_rows=metadata_rows(version, group, title),
        language=version.source.metadata.language or "",
        paragraphs=version.paragraphs,
        versions_block=Markup(data.versions_blocks.get(version.id, "")),
        source_path=version.source.path,
        size=f"{len(version.source.raw):,}",
        sha256=version.source.sha256,
    )


def render_group(group: Group, by_id: Mapping[str, Version], data: SiteInput) -> str:
    """The Markdown page of one group of versions."""
    first = data.titles[group.members[0]].text
    members = [_row(by_id[m], data.titles[m]) for m in group.members]
    origin_text = {
        "manifest": "grouped by the corpus metadata (group:)",
        "similarity": "grouped by text similarity",
        "single": "no other version found",
    }[group.origin]
    return _ENV.get_template("group.md.j2").render(
        front_matter=front_matter({"title": f"Versions of: {first}", "corpus_group": group.id}),
        title=f"Versions of: {first}",
        group=group,
        members=members,
        origin_text=origin_text,
        comparison_block=Markup(data.group_blocks.get(group.id, "")),
    )


def render_home(data: SiteInput, group_of: Mapping[str, Group]) -> str:
    """The listing of every version that the home page includes."""
    rows = []
    for version in data.versions:
        group = group_of[version.id]
        row = _row(version, data.titles[version.id])
        rows.append({**row, "group": group.id, "group_size": len(group.members)})
    outlets = {v.source.metadata.outlet for v in data.versions if v.source.metadata.outlet}
    totals = {
        "versions": len(data.versions),
        "groups": len(data.groups),
        "words": f"{sum(v.words for v in data.versions):,}",
        "outlets": len(outlets),
    }
    return _ENV.get_template("home.md.j2").render(rows=rows, totals=totals)


def _row(version: Version, title: ShownTitle) -> dict[str, Any]:
    """The fields of a version that lists show."""
    meta = version.source.metadata
    return {
        "id": version.id,
        "title": shorten(title.text),
        "outlet": meta.outlet or "",
        "published": meta.published or "",
        "words": f"{version.words:,}",
    }


def metadata_rows(version: Version, group: Group, title: ShownTitle) -> list[tuple[str, str, str]]:
    """(label, value, kind) rows of the metadata table; kind is "text", "code" or "link"."""
    source = version.source
    meta = source.metadata
    rows: list[tuple[str, str, str]] = [
        ("ID", version.id, "code"),
        ("Source file", source.path, "code"),
        ("Title", _title_origin_text(title), "text"),
    ]
    optional = [
        ("Outlet", meta.outlet),
        ("Published", meta.published),
        ("Retrieved", meta.retrieved),
        ("Authors", "; ".join(meta.authors) if meta.authors else None),
        ("Language", meta.language),
        ("Licence", meta.license),
    ]
    rows += [(label, value, "text") for label, value in optional if value]
    if meta.url:
        rows.append(("Original URL", meta.url, "link" if is_web_url(meta.url) else "text"))
    body = version.body
    boilerplate = len(version.paragraphs) - len(body)
    rows += [
        ("Words", f"{version.words:,}", "text"),
        (
            "Paragraphs",
            f"{len(body)}" + (f" (and {boilerplate} boilerplate)" if boilerplate else ""),
            "text",
        ),
        (
            "Encoding",
            source.encoding + (" (detected)" if source.encoding_detected else ""),
            "text",
        ),
    ]
    if source.control_chars:
        rows.append(("Control characters dropped", str(source.control_chars), "text"))
    if version.wrap_width:
        rows.append(
            ("Hard-wrapped at", f"{version.wrap_width} columns (paragraphs rebuilt)", "text")
        )
    rows += [
        ("SHA-256 of source", source.sha256, "code"),
        ("ID from", source.id_origin, "text"),
        ("Group", f"{group.id} ({len(group.members)} versions)", "code"),
    ]
    rows += [(name, value, "text") for name, value in meta.extra]
    return rows


def _title_origin_text(title: ShownTitle) -> str:
    """Where the shown title came from, in words."""
    if title.borrowed_from:
        return f"borrowed from sibling version {title.borrowed_from}"
    return {
        "metadata": "from the metadata (title:)",
        "title line": "the first line of the file",
        "first sentence": "none in the file; its first sentence is shown",
        "ID": "none in the file; its ID is shown",
    }.get(title.origin, title.origin)


def version_record(version: Version, group: Group, data: SiteInput) -> dict[str, Any]:
    """The machine-readable record of one version: everything its page shows."""
    source = version.source
    meta = source.metadata
    title = data.titles[version.id]
    return {
        "id": version.id,
        "url": f"a/{version.id}/",
        "source_file": source.path,
        "source_url": f"a/{version.id}/source.txt",
        "sha256": source.sha256,
        "bytes": len(source.raw),
        "encoding": source.encoding,
        "encoding_detected": source.encoding_detected,
        "control_chars_dropped": source.control_chars,
        "id_origin": source.id_origin,
        "title": title.text,
        "title_origin": title.origin,
        "own_title": version.title,
        "metadata": {
            "title": meta.title,
            "published": meta.published,
            "retrieved": meta.retrieved,
            "outlet": meta.outlet,
            "url": meta.url,
            "authors": list(meta.authors),
            "language": meta.language,
            "license": meta.license,
            "group": meta.group,
            "extra": dict(meta.extra),
        },
        "words": version.words,
        "wrap_width": version.wrap_width,
        "group": group.id,
        "paragraphs": [
            {"n": p.n, "text": p.text, "boilerplate": p.boilerplate} for p in version.paragraphs
        ],
        "siblings": list(data.sibling_records.get(version.id, [])),
        "problems": [
            {"severity": p.severity, "code": p.code, "message": p.message}
            for p in data.problems
            if p.file == source.path
        ],
    }


def front_matter(fields: Mapping[str, str]) -> Markup:
    """YAML front matter lines. Values are HTML-escaped (themes print page titles raw), then
    JSON-quoted, which is valid YAML and cannot break out of its line."""
    lines = [
        f"{key}: {json.dumps(html.escape(shorten(value), quote=True), ensure_ascii=False)}"
        for key, value in fields.items()
    ]
    return Markup("\n".join(lines))


def shorten(text: str, limit: int = _MAX_SHOWN_TITLE) -> str:
    """One line of at most limit characters, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def is_web_url(url: str) -> bool:
    """Only http(s) URLs become links; anything else (javascript:, data:) stays text."""
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://")) and " " not in url.strip()


def escape(text: str) -> Markup:
    """Escape corpus text for HTML: the same function the templates use."""
    return Markup.escape(text)


def render_fragment(template: str, **context: Any) -> str:
    """Render a template of the package (used for blocks built by other stages)."""
    return _ENV.get_template(template).render(**context)


def dump_json(record: Any) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8, two-space indent, final newline."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
