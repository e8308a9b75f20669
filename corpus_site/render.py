"""Stage 5, render: the generated files of docs/, as a mapping of relative path to bytes.

Pure. Escaping happens in templating.py only.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from markupsafe import Markup

from .cache import cache_key
from .cite import Work, bibtex, citation_key, csl_item, formatted, head_fields
from .config import DEFAULT_SITE_NAME, DEFAULT_SITE_URL
from .exports import export_files, indented_json
from .hubs import HOME_ROWS, hub_files, version_rows
from .ledger import Reconciled, VersionEntry
from .models import Group, Metadata, Problem, Summary, Version
from .normalize import ShownTitle, summarize
from .paths import group_path, version_paths
from .permanence import permanence_files
from .templating import (
    ENV,
    MAX_SHOWN_TITLE,
    front_matter,
    is_web_url,
    labelled_metadata,
    shorten,
)
from .workers import Progress, ordered_map

T = TypeVar("T")

HOME_FRAGMENT = ".corpus/home.md"


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
    reconciled: Reconciled  # the permalink ledger after this build
    withdrawn_sources: Mapping[str, bytes]  # kept bytes of withdrawn versions
    site_url: str = DEFAULT_SITE_URL
    site_name: str = DEFAULT_SITE_NAME
    # Formatted citations by cite.citation_key, made ahead (cached, in parallel); a
    # citation missing here is formatted on the spot.
    citations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Every version of the corpus, summarized, in corpus order: what the lists, exports and
    # group pages show of them. Empty: made from `versions`, which then hold them all (the
    # build gives whole versions only for the pages it renders).
    summaries: Sequence[Summary] = ()

    def all_summaries(self) -> Sequence[Summary]:
        """The summaries of every version of the corpus."""
        return self.summaries or [summarize(v, None) for v in self.versions]


def render_site(
    data: SiteInput, workers: int | None = None, progress: Progress | None = None
) -> dict[str, bytes]:
    """Every generated file of docs/, keyed by POSIX path relative to docs/ (in memory: the
    build renders only the pages whose keys changed, and writes them as it goes)."""
    group_of = {m: g for g in data.groups for m in g.members}
    data = replace(data, summaries=data.all_summaries())
    by_id = {s.id: s for s in data.summaries}
    problems_of = problems_by_file(data.problems)
    pages = ordered_map(
        lambda v: version_files(v, group_of[v.id], problems_of.get(v.source.path, []), data),
        data.versions,
        workers,
    )
    if progress:
        pages = progress(pages, len(data.versions), "Rendering pages")
    files: dict[str, bytes] = {}
    for version_pages in pages:
        files.update(version_pages)
    for group in data.groups:
        files[group_path(group.id)] = group_file(group, by_id, data)
    files.update(corpus_files(data))
    return files


def problems_by_file(problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    """The problems of each corpus file, which its page lists."""
    problems_of: dict[str, list[Problem]] = {}
    for problem in problems:
        problems_of.setdefault(problem.file, []).append(problem)
    return problems_of


def page_key(
    summary: Summary,
    group: Group,
    title: ShownTitle,
    problems: Sequence[Problem],
    entry: VersionEntry,
    page_digest: str,
    site_url: str,
    site_name: str,
) -> tuple[str, str]:
    """The key of a version's page, version.json and cite.json (the digest of everything
    they show: the same key, the same bytes; source.txt is keyed by its SHA-256), and the
    cite.citation_key of its citation. page_digest: what its page depends on besides what
    this key names itself (build.py: the version's digest and its group's comparison)."""
    work = _work(summary, group, title, entry, site_url, site_name)
    key = cache_key(
        "version page",
        page_digest,
        repr(group),
        repr((title, work)),
        repr(list(problems)),
        repr(entry),
    )
    return key, citation_key(csl_item(work))


def group_key(
    group: Group, comparison: str, members: Sequence[Summary], titles: Mapping[str, ShownTitle]
) -> str:
    """The key of a group's page: the group, its comparison (by its key, or the block
    itself) and its members' rows."""
    return cache_key(
        "group page", repr(group), comparison, repr([_row(m, titles[m.id]) for m in members])
    )


def version_files(
    version: Version, group: Group, problems: Sequence[Problem], data: SiteInput
) -> dict[str, bytes]:
    """The four files of one version's page (version_paths), as bytes."""
    work = citation(version, group, data)
    page, record, cite, source = version_paths(version.id)
    return {
        page: render_version(version, group, work, data).encode(),
        record: indented_json(version_record(version, group, problems, data)),
        cite: indented_json([csl_item(work)]),
        source: version.source.raw,
    }


def group_file(group: Group, by_id: Mapping[str, Summary], data: SiteInput) -> bytes:
    """The page of one group, as bytes."""
    return render_group(group, by_id, data).encode()


class CorpusParts:
    """Rendered parts of the files about the whole corpus, kept from one build for the
    next by what they show, so that a rebuild renders only the parts that changed."""

    def __init__(self, known: Any = None) -> None:
        self.known: dict[Any, Any] = known if isinstance(known, dict) else {}
        self.used: dict[Any, Any] = {}

    def part(self, kind: str, material: Any, make: Callable[[], T]) -> T:
        """A cache.Memo: make(), or what it gave the last build for equal material (plain
        data, named by its marshal bytes, 3x cheaper than its repr, or else by its repr;
        the build state is dropped when the program changes)."""
        try:  # marshal's version 2 has no back-references: the same bytes for equal data
            named = b"m" + marshal.dumps(material, 2)
        except ValueError:  # not only plain containers, strings and numbers
            named = b"r" + repr(material).encode()
        key = (kind, hashlib.blake2b(named, digest_size=16).digest())
        found = self.used.get(key)
        if found is None:
            found = self.known.get(key)
            if found is None:
                found = make()
            self.used[key] = found
        return found

    def made(self) -> tuple[dict[Any, Any], list[Any]]:
        """The parts made since this object was created, and the keys of every part used:
        what another process's CorpusParts needs to adopt this one's work."""
        made = {k: v for k, v in self.used.items() if self.known.get(k) is not v}
        return made, list(self.used)

    def adopt(self, made: Mapping[Any, Any], used: Iterable[Any]) -> None:
        """Use what made() of a copy gave, keeping the known parts themselves (keep() then
        tells an unchanged build by identity)."""
        self.used = {k: made[k] if k in made else self.known[k] for k in used}

    def keep(self) -> dict[Any, Any]:
        """The parts this build used (the known ones when they are all the same)."""
        if len(self.used) == len(self.known) and all(
            self.known.get(k) is v for k, v in self.used.items()
        ):
            return self.known
        return self.used


def corpus_files(data: SiteInput, parts: CorpusParts | None = None) -> dict[str, bytes]:
    """The files about the whole corpus: the home page's part, the hubs, the exports, and
    the pages that keep old addresses answering."""
    parts = parts or CorpusParts()
    group_of = {m: g for g in data.groups for m in g.members}
    summaries = data.all_summaries()
    files: dict[str, bytes] = {}
    rows = [_list_row(s, group_of[s.id], data) for s in summaries]
    files[HOME_FRAGMENT] = render_home(summaries, len(data.groups), rows).encode()
    group_rows = [
        {"id": g.id, "title": shorten(data.titles[g.members[0]].text), "size": len(g.members)}
        for g in data.groups
    ]
    files.update(hub_files(rows, group_rows, parts.part))
    rows = [export_row(s, group_of[s.id], data) for s in summaries]
    files.update(export_files(rows, data.groups, parts.part))
    files.update(
        permanence_files(data.reconciled, data.withdrawn_sources, data.site_url, data.site_name)
    )
    return files


def citation(version: Version, group: Group, data: SiteInput) -> Work:
    """What a citation of this version needs."""
    return _work(
        version,
        group,
        data.titles[version.id],
        data.reconciled.ledger.versions[version.id],
        data.site_url,
        data.site_name,
    )


def _work(
    version: Version | Summary,
    group: Group,
    title: ShownTitle,
    entry: VersionEntry,
    site_url: str,
    site_name: str,
) -> Work:
    vid, meta = version.id, version.metadata
    return Work(
        id=vid,
        title=title.text,
        url=f"{site_url}a/{vid}/",
        accessed=entry.first_published,
        site_name=site_name,
        sha256=version.sha256,
        group_url=f"{site_url}g/{group.id}/",
        authors=meta.authors,
        outlet=meta.outlet,
        published=meta.published,
        language=meta.language,
        original_url=meta.url if meta.url and is_web_url(meta.url) else None,
    )


def export_row(summary: Summary, group: Group, data: SiteInput) -> dict[str, Any]:
    """One flat row of data/versions.jsonl and .csv."""
    meta_record = metadata_record(summary.metadata)
    title = data.titles[summary.id]
    return {
        "id": summary.id,
        "url": f"{data.site_url}a/{summary.id}/",
        "title": title.text,
        "title_origin": title.origin,
        "source_file": summary.path,
        "sha256": summary.sha256,
        "bytes": summary.size,
        "encoding": summary.encoding,
        "first_published": data.reconciled.ledger.versions[summary.id].first_published,
        **{
            name: meta_record[name] or ""
            for name in ("outlet", "published", "retrieved", "language", "license")
        },
        "authors": meta_record["authors"],
        "original_url": meta_record["url"] or "",
        "group": group.id,
        "words": summary.words,
        "paragraphs": summary.body,
    }


def metadata_record(meta: Metadata) -> dict[str, Any]:
    """A version's metadata as plain data (version.json, the exports, the ledger)."""
    return {
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
    }


# What a tombstone shows of a version that left: its publication facts.
_LEDGER_FIELDS = ("outlet", "published", "retrieved", "authors", "language", "license", "url")


def ledger_metadata(version: Version | Summary) -> dict[str, Any]:
    """The metadata the ledger keeps for a version's tombstone (fields with a value)."""
    record = metadata_record(version.metadata)
    return {k: record[k] for k in _LEDGER_FIELDS if record[k]}


def render_version(version: Version, group: Group, work: Work, data: SiteInput) -> str:
    """The Markdown page of one version."""
    title = data.titles[version.id]
    head = head_fields(work)
    head_html = ENV.get_template("head.html.j2").render(head=head, json_ld=Markup(head["json_ld"]))
    item = csl_item(work)
    cite_block = ENV.get_template("cite.html.j2").render(
        work=work,
        formatted=data.citations.get(citation_key(item)) or formatted(item),
        bibtex=bibtex(work),
        changes=data.reconciled.ledger.versions[version.id].changes,
    )
    return ENV.get_template("version.md.j2").render(
        front_matter=front_matter(
            # The ID in the title: typing an ID in the search box finds its version
            # first (titles weigh most), and sibling versions differ in tabs and results.
            {
                "title": f"{shorten(title.text, MAX_SHOWN_TITLE - len(version.id) - 3)} · {version.id}",
                "corpus_version": version.id,
            },
            raw={"corpus_head": head_html},
        ),
        cite_block=Markup(cite_block),
        title=title,
        metadata_rows=metadata_rows(version, group, title),
        language=version.source.metadata.language or "",
        paragraphs=version.paragraphs,
        versions_block=Markup(data.versions_blocks.get(version.id, "")),
        source_path=version.source.path,
        size=f"{len(version.source.raw):,}",
        sha256=version.source.sha256,
    )


def render_group(group: Group, by_id: Mapping[str, Summary], data: SiteInput) -> str:
    """The Markdown page of one group of versions."""
    first = data.titles[group.members[0]].text
    members = [_row(by_id[m], data.titles[m]) for m in group.members]
    origin_text = {
        "manifest": "grouped by the corpus metadata (group:)",
        "similarity": "grouped by text similarity",
        "single": "no other version found",
    }[group.origin]
    return ENV.get_template("group.md.j2").render(
        front_matter=front_matter({"title": f"Versions of: {first}", "corpus_group": group.id}),
        title=f"Versions of: {first}",
        group=group,
        members=members,
        origin_text=origin_text,
        comparison_block=Markup(data.group_blocks.get(group.id, "")),
    )


def render_home(
    summaries: Sequence[Summary], groups: int, rows: Sequence[Mapping[str, Any]]
) -> str:
    """The home page's part: corpus totals, the first versions, links to the hubs."""
    outlets = {s.metadata.outlet for s in summaries if s.metadata.outlet}
    totals = {
        "versions": len(summaries),
        "groups": groups,
        "words": f"{sum(s.words for s in summaries):,}",
        "outlets": len(outlets),
    }
    return ENV.get_template("home.md.j2").render(
        rows=rows[:HOME_ROWS],
        table_rows=version_rows(rows[:HOME_ROWS], ""),
        more=len(rows) > HOME_ROWS,
        totals=totals,
    )


def _list_row(summary: Summary, group: Group, data: SiteInput) -> dict[str, Any]:
    """A version's row in the home page and hub lists."""
    return {
        **_row(summary, data.titles[summary.id]),
        "group": group.id,
        "group_size": len(group.members),
    }


def _row(summary: Summary, title: ShownTitle) -> dict[str, Any]:
    """The fields of a version that lists show."""
    meta = summary.metadata
    return {
        "id": summary.id,
        "title": shorten(title.text),
        "outlet": meta.outlet or "",
        "published": meta.published or "",
        "words": f"{summary.words:,}",
    }


def metadata_rows(version: Version, group: Group, title: ShownTitle) -> list[tuple[str, str, str]]:
    """(label, value, kind) rows of the metadata table; kind: "text", "code", "link", "id"."""
    source = version.source
    meta = source.metadata
    rows: list[tuple[str, str, str]] = [
        ("ID", version.id, "id"),
        ("Source file", source.path, "code"),
        ("Title", _title_origin_text(title), "text"),
    ]
    rows += labelled_metadata(metadata_record(meta))
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
    if source.repaired:
        rows.append(("Repaired", "; ".join(source.repaired), "text"))
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


def version_record(
    version: Version, group: Group, problems: Sequence[Problem], data: SiteInput
) -> dict[str, Any]:
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
        "repaired": list(source.repaired),
        "id_origin": source.id_origin,
        "title": title.text,
        "title_origin": title.origin,
        "own_title": version.title,
        "metadata": metadata_record(meta),
        "words": version.words,
        "wrap_width": version.wrap_width,
        "group": group.id,
        "paragraphs": [
            {"n": p.n, "text": p.text, "boilerplate": p.boilerplate} for p in version.paragraphs
        ],
        "siblings": list(data.sibling_records.get(version.id, [])),
        "problems": [
            {"severity": p.severity, "code": p.code, "message": p.message} for p in problems
        ],
    }
