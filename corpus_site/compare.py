"""Compare the versions of each group: sibling diffs, the Versions section of each page,
the comparison blocks of group pages, and the sibling records of version.json.

Pure. Which siblings get a full diff, which direction a diff reads in, and how the
differences are worded are decided here; the HTML is the templates' job.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from .cache import ResultCache, cache_key, cached_map
from .diffing import diff_versions, swap
from .models import AlignedRow, Diff, DiffCounts, Group, Version, WordOp
from .normalize import ShownTitle, version_digest
from .templating import diff_rows, group_compare_section, versions_section
from .workers import Progress

_NAMED = re.compile(r"(\d+)_[0-9a-f]{16}\.txt")

# A similarity matrix and alignment table of more than this many versions would be a
# page of hundreds of kilobytes; larger groups show their first members and say so.
MAX_TABLE_MEMBERS = 30


@dataclass(frozen=True)
class Comparison:
    """What the pages need from the comparison of every group."""

    version_blocks: Mapping[str, str]  # version ID -> HTML of its Versions section
    group_blocks: Mapping[str, str]  # group ID -> HTML of its comparison section
    sibling_records: Mapping[str, Sequence[Mapping[str, Any]]]  # version ID -> siblings
    # Group ID -> cache key of its comparison: what its version pages' diffs depend on.
    keys: Mapping[str, str] = field(default_factory=dict)


def label(version: Version) -> str:
    """A short name for a version in diff wording: "000" for 000_<hex>.txt, else the ID."""
    return _label(version.source.path, version.id)


@functools.lru_cache(maxsize=4096)  # asked for some 20 times per version
def _label(path: str, vid: str) -> str:
    match = _NAMED.fullmatch(path.rsplit("/", 1)[-1])
    return match.group(1) if match else vid


def compare_groups(
    versions: Sequence[Version],
    groups: Sequence[Group],
    titles: Mapping[str, ShownTitle],
    nearest: int,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    digests: Mapping[str, str] | None = None,
) -> Comparison:
    """Diff every version against its nearest siblings and render the comparison blocks.

    Groups are independent: they are compared in worker processes, and a group whose
    members (by digest: see normalize.version_digest), titles and settings are those of an
    earlier build is taken from the cache.
    """
    cache = cache or ResultCache(None)
    by_id = {v.id: v for v in versions}
    if digests is None:
        digests = {v.id: version_digest(v, None) for v in versions}
    todo = [g for g in groups if len(g.members) > 1]
    key_of = comparison_keys(todo, titles, digests, nearest)
    keys = [key_of[g.id] for g in todo]
    results, _ = cached_map(
        cache,
        lambda group: compare_group(group, [by_id[m] for m in group.members], nearest),
        todo,
        keys,
        workers,
        progress,
        "Comparing groups",
        chunksize=4,
    )
    version_blocks: dict[str, str] = {}
    group_blocks: dict[str, str] = {}
    records: dict[str, Sequence[Mapping[str, Any]]] = {}
    for group, result in zip(todo, results, strict=True):
        version_blocks.update(result.version_blocks)
        records.update(result.records)
        group_blocks[group.id] = result.group_block
    return Comparison(
        version_blocks, group_blocks, records, dict(zip((g.id for g in todo), keys, strict=True))
    )


def comparison_keys(
    groups: Sequence[Group],
    titles: Mapping[str, ShownTitle],
    digests: Mapping[str, str],
    nearest: int,
) -> dict[str, str]:
    """Group ID -> the key under which compare_groups caches its comparison (groups of two
    or more): what the comparison is made from, so the same key, the same comparison."""
    return {
        group.id: cache_key(
            "compare",
            str(nearest),
            repr(group),
            *(digests[m] + repr(titles[m]) for m in group.members),
        )
        for group in groups
        if len(group.members) > 1
    }


@dataclass(frozen=True)
class GroupComparison:
    """The comparison of one group: what its version pages and its group page show."""

    version_blocks: Mapping[str, str]
    group_block: str
    records: Mapping[str, Sequence[Mapping[str, Any]]]


def compare_group(
    group: Group,
    members: Sequence[Version],
    nearest: int,
) -> GroupComparison:
    """Diff each member against its nearest siblings; render its Versions section and the
    group page's comparison section."""
    by_id = {v.id: v for v in members}
    diffs: dict[tuple[str, str], Diff] = {}

    def diff(a: str, b: str) -> Diff:
        # Each pair is aligned once: the other direction is the same diff, mirrored
        # (diff_versions(b, a) == swap(diff_versions(a, b)), property-tested).
        if (a, b) not in diffs:
            diffs[(a, b)] = (
                swap(diffs[(b, a)]) if (b, a) in diffs else diff_versions(by_id[a], by_id[b])
            )
        return diffs[(a, b)]

    def similarity(a: str, b: str) -> float:
        # The same in both directions: no need to mirror a diff made the other way.
        made = diffs.get((a, b)) or diffs.get((b, a))
        return (made or diff(*sorted((a, b)))).similarity

    rows: dict[tuple[str, str], tuple[RowView, ...]] = {}
    version_blocks: dict[str, str] = {}
    records: dict[str, list[dict[str, Any]]] = {}
    scores = {frozenset((a, b)): s for a, b, s in group.pairs}
    for here in members:
        siblings = nearest_siblings(here, [v for v in members if v is not here])
        views = []
        member_records = []
        for index, sibling in enumerate(siblings):
            if index < nearest:
                old, new = ordered(here, sibling)
                d = diff(old.id, new.id)
                if (old.id, new.id) not in rows:  # the same lines on both versions' pages
                    rows[(old.id, new.id)] = _rows(d, old, new)
                # Links to paragraphs of this page stay on it ("#p3").
                hrefs = (
                    "" if here is old else f"../{old.id}/",
                    "" if here is new else f"../{new.id}/",
                )
                inline = diff_rows(rows[(old.id, new.id)], (label(old), label(new)), hrefs)
                views.append(_view(d, old, new, here, inline, index))
                member_records.append(sibling_record(here, sibling, d))
            else:
                score = scores.get(frozenset((here.id, sibling.id)))
                member_records.append({"id": sibling.id, "similarity": score, "diffed": False})
        rest = [
            {
                "id": s.id,
                "label": label(s),
                "published": s.source.metadata.published or "",
                "similarity": scores.get(frozenset((here.id, s.id))),
            }
            for s in siblings[nearest:]
        ]
        version_blocks[here.id] = versions_section(views, rest, group)
        records[here.id] = member_records
    return GroupComparison(version_blocks, _group_block(group, members, diff, similarity), records)


def nearest_siblings(here: Version, siblings: list[Version]) -> list[Version]:
    """Siblings nearest first: by distance in publication date when both are dated, else
    by corpus order distance; ties broken by corpus order, so the choice is stable."""

    def key(other: Version) -> tuple[int, float, int]:
        a, b = here.source.metadata.published, other.source.metadata.published
        if a and b:
            return (0, abs(_days(a) - _days(b)), other.source.order)
        return (1, abs(here.source.order - other.source.order), other.source.order)

    return sorted(siblings, key=key)


def ordered(here: Version, sibling: Version) -> tuple[Version, Version]:
    """(old, new): chronological when both are dated and differ, else this version first."""
    a, b = here.source.metadata.published, sibling.source.metadata.published
    if a and b and a != b:
        return (here, sibling) if a < b else (sibling, here)
    return here, sibling


def chronological(old: Version, new: Version) -> bool:
    """Whether a diff of old against new can be worded in time ("added later")."""
    a, b = old.source.metadata.published, new.source.metadata.published
    return bool(a and b and a < b)


def sibling_record(here: Version, sibling: Version, d: Diff) -> dict[str, Any]:
    """The counts of a diff, from the point of view of `here` (version.json's siblings)."""
    c = d.counts
    here_is_a = d.a == here.id
    return {
        "id": sibling.id,
        "diffed": True,
        "similarity": round(d.similarity, 4),
        "equal": c.equal,
        "typographic": c.typographic,
        "changed": c.changed,
        "only_here": c.only_a if here_is_a else c.only_b,
        "only_there": c.only_b if here_is_a else c.only_a,
        "moved": c.moved,
        "split_merge": c.split_merge,
        "boilerplate_only_here": c.boilerplate_only_a if here_is_a else c.boilerplate_only_b,
        "boilerplate_only_there": c.boilerplate_only_b if here_is_a else c.boilerplate_only_a,
        "title_changed": c.title_changed,
    }


@dataclass(frozen=True, slots=True)
class RowView:
    """One line of a diff in the Versions section (the same on the pages of both versions)."""

    kind: str  # a RowKind, or "same_run": a run of identical paragraphs told in one line
    what: str  # the row in words ("edited", "only in 000"); for a same_run, the whole line
    a: tuple[int, ...] = ()  # its paragraph numbers in the old version
    b: tuple[int, ...] = ()  # and in the new one
    text: str = ""  # the whole text of a paragraph only one version has
    words: tuple[WordOp, ...] = ()  # else the word diff, long unchanged stretches trimmed


@dataclass(frozen=True, slots=True)
class DiffView:
    """One sibling diff as the Versions section of one version's page shows it."""

    index: int  # its place among the page's diffs (names its tabs)
    sibling: Version
    sibling_label: str
    old_label: str
    new_label: str
    in_time: bool  # old and new are in order of publication
    here_is_old: bool
    counts: list[str]  # the summary phrases
    similarity: str  # "84%"
    title_a: str | None
    title_b: str | None
    inline: Markup  # the inline view, its links made for this page


def _view(
    d: Diff, old: Version, new: Version, here: Version, inline: Markup, index: int
) -> DiffView:
    """Everything the template needs to show one diff on the page of `here`."""
    in_time = chronological(old, new)
    return DiffView(
        index=index,
        sibling=new if here is old else old,
        sibling_label=label(new if here is old else old),
        old_label=label(old),
        new_label=label(new),
        in_time=in_time,
        here_is_old=here is old,
        counts=summary(d.counts, in_time, label(old), label(new)),
        similarity=f"{d.similarity:.0%}",
        title_a=d.title_a,
        title_b=d.title_b,
        inline=inline,
    )


def _rows(d: Diff, old: Version, new: Version) -> tuple[RowView, ...]:
    """The lines of a diff of old against new: runs of identical paragraphs in one line."""
    in_time = chronological(old, new)
    old_label, new_label = label(old), label(new)
    words = {
        "only_a": "removed in the later version" if in_time else f"only in {old_label}",
        "only_b": "added in the later version" if in_time else f"only in {new_label}",
        "boilerplate_a": "boilerplate removed in the later version"
        if in_time
        else f"boilerplate only in {old_label}",
        "boilerplate_b": "boilerplate added in the later version"
        if in_time
        else f"boilerplate only in {new_label}",
    }
    texts_a = {p.n: p.text for p in old.paragraphs}
    texts_b = {p.n: p.text for p in new.paragraphs}
    rows: list[RowView] = []
    same: list[AlignedRow] = []
    for row in (*d.rows, None):
        if row is not None and row.kind in ("equal", "boilerplate_equal"):
            same.append(row)
            continue
        if same:
            rows.append(RowView("same_run", _same_note(same, old_label, new_label)))
            same = []
        if row is None:
            break
        if row.kind in words:  # a paragraph on one side only: its whole text
            text = " ".join(texts_a[n] for n in row.a) or " ".join(texts_b[n] for n in row.b)
            rows.append(RowView(row.kind, words[row.kind], row.a, row.b, text=text))
        else:
            what = _WHAT.get(row.kind, row.kind)
            rows.append(RowView(row.kind, what, row.a, row.b, words=_trimmed(row.words)))
    return tuple(rows)


_WHAT = {
    "typographic": "typography only",
    "changed": "edited",
    "moved": "moved",
    "split": "split",
    "merge": "merged",
}

# Unchanged words kept on each side of a change; the rest of an unchanged stretch is
# left out, so a diff shows what changed without repeating the whole article.
CONTEXT_WORDS = 8
# The first CONTEXT_WORDS "words" of a text: runs of non-space with the space after them, and
# a run of space at the start.
_HEAD = re.compile(rf"(?:\S+\s*|\s+){{0,{CONTEXT_WORDS}}}")


def trim(ops: Sequence[WordOp]) -> tuple[WordOp, ...]:
    """Shorten long unchanged stretches to CONTEXT_WORDS words on each side and an ellipsis."""
    out: list[WordOp] = []
    for i, (op, a, b) in enumerate(ops):
        if op != "equal":
            out.append((op, a, b))
            continue
        keep_head = CONTEXT_WORDS if i > 0 else 0
        keep_tail = CONTEXT_WORDS if i < len(ops) - 1 else 0
        # Its words, counted without making them: one per run of non-space, and a run of
        # space at the start (str.split and the regex's \s agree on what space is).
        if len(a.split()) + a[:1].isspace() <= keep_head + keep_tail + 2:
            out.append((op, a, b))
            continue
        head = _HEAD.match(a).group() if keep_head else ""  # type: ignore[union-attr]
        # The last words: from the start of the keep_tail-th last run of non-space on.
        tail = a[len(a.rsplit(None, keep_tail)[0]) :].lstrip() if keep_tail else ""
        if head:
            out.append(("equal", head, head))
        out.append(("skip", "… ", "… "))
        if tail:
            out.append(("equal", tail, tail))
    return tuple(out)


# Versions of one article share paragraphs, so the same word diff recurs in a group's diffs
# (diffing remembers it too).
_trimmed = functools.lru_cache(maxsize=4096)(trim)


def _same_note(rows: Sequence[AlignedRow], old: str, new: str) -> str:
    """One line for a run of identical paragraphs: which ones, in both versions."""
    a = [n for row in rows for n in row.a]
    b = [n for row in rows for n in row.b]
    count = len(rows)
    what = "identical paragraph" if count == 1 else "identical paragraphs"
    return f"{count} {what}: {old} {_span(a)}, {new} {_span(b)}"


def _span(numbers: Sequence[int]) -> str:
    """¶1–4 for a consecutive run, else ¶1, ¶3."""
    if not numbers:
        return ""
    if list(numbers) == list(range(numbers[0], numbers[0] + len(numbers))):
        return f"¶{numbers[0]}" if len(numbers) == 1 else f"¶{numbers[0]}–{numbers[-1]}"
    return ", ".join(f"¶{n}" for n in numbers)


def summary(c: DiffCounts, in_time: bool, old: str, new: str) -> list[str]:
    """The counts of a diff as short phrases, only the non-zero ones."""
    only_a = "removed later" if in_time else f"only in {old}"
    only_b = "added later" if in_time else f"only in {new}"
    parts = [
        (c.equal, "identical"),
        (c.typographic, "typography only"),
        (c.changed, "edited"),
        (c.only_a, only_a),
        (c.only_b, only_b),
        (c.moved, "moved"),
        (c.split_merge, "split or merged"),
        (c.boilerplate_only_a, f"boilerplate {only_a}"),
        (c.boilerplate_only_b, f"boilerplate {only_b}"),
    ]
    phrases = [f"{n} {'paragraph' if n == 1 else 'paragraphs'} {what}" for n, what in parts if n]
    phrases = [
        p.replace("paragraph boilerplate", "boilerplate line").replace(
            "paragraphs boilerplate", "boilerplate lines"
        )
        for p in phrases
    ]
    if c.title_changed:
        phrases.append("title differs")
    return phrases


def _group_block(
    group: Group,
    members: Sequence[Version],
    diff: Callable[[str, str], Diff],
    similarity: Callable[[str, str], float],
) -> str:
    """The similarity matrix and alignment table of a group page."""
    members = members[:MAX_TABLE_MEMBERS]
    base = members[0]
    matrix = []
    for a in members:
        cells = []
        for b in members:
            if a.id == b.id:
                cells.append(None)
            else:
                cells.append(f"{similarity(a.id, b.id):.0%}")
        matrix.append({"version": a, "label": label(a), "cells": cells})
    table = alignment_table(base, members[1:], diff)
    totals = {"typographic": 0, "boilerplate": 0}
    for other in members[1:]:
        c = diff(base.id, other.id).counts
        totals["typographic"] += c.typographic
        totals["boilerplate"] += c.boilerplate_only_a + c.boilerplate_only_b
    return group_compare_section(
        [{"version": m, "label": label(m)} for m in members],
        len(group.members) - len(members),
        matrix,
        table,
        label(base),
        totals,
    )


def alignment_table(base: Version, others: Sequence[Version], diff: Any) -> list[dict[str, Any]]:
    """Rows of aligned paragraphs (in the spirit of CollateX): one column per version.

    The base (earliest) version gives the row order; each other version is aligned to it
    through its diff; paragraphs the base lacks get rows after the base paragraph they
    follow. A cell is {"state": "same"|"typographic"|"changed"|"moved"|"absent", "n": [...]},
    with the version and the link to its paragraphs ("href", "refs": "¶3, ¶4").
    """
    # Row keys sort in reading order: (base paragraph, 0, "") for a base paragraph, and
    # (base paragraph it follows, 1, its folded text) for one the base lacks, so the same
    # added paragraph in several versions shares one row.
    rows: dict[tuple[int, int, str], dict[str, Any]] = {}
    for p in base.body:
        rows[(p.n, 0, "")] = {"cells": {base.id: {"state": "same", "n": [p.n]}}}
    for other in others:
        d = diff(base.id, other.id)
        keys = {p.n: p.key for p in other.paragraphs}
        last = 0
        for row in d.rows:
            if row.kind.startswith("boilerplate"):
                continue
            if row.a:
                last = row.a[0]
                state = {
                    "equal": "same",
                    "typographic": "typographic",
                    "only_a": "absent",
                }.get(row.kind, "moved" if row.kind == "moved" else "changed")
                for n in row.a:
                    cell = {"state": state, "n": list(row.b)}
                    rows.setdefault((n, 0, ""), {"cells": {}})["cells"][other.id] = cell
            else:
                key = (last, 1, " ".join(keys[n] for n in row.b))
                rows.setdefault(key, {"cells": {}})["cells"][other.id] = {
                    "state": "added",
                    "n": list(row.b),
                }
    ordered_rows = []
    columns = [base, *others]
    absent = {"state": "absent", "n": []}
    for key in sorted(rows):
        cells = rows[key]["cells"]
        ordered_rows.append({"cells": [_cell(v, cells.get(v.id, absent)) for v in columns]})
    return ordered_rows


def _cell(version: Version, cell: dict[str, Any]) -> dict[str, Any]:
    """A cell with its link: the paragraph's address and "¶3, ¶4" ("" when it has none)."""
    n = cell["n"]
    return {
        "version": version,
        **cell,
        "href": f"../../a/{version.id}/#p{n[0]}" if n else "",
        "refs": "¶" + ", ¶".join(map(str, n)) if n else "",
    }


def _days(iso: str) -> float:
    """Days since the epoch of an ISO date or datetime (for date distances)."""
    try:
        value = dt.datetime.fromisoformat(iso)
    except ValueError:
        return 0.0
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp() / 86400
