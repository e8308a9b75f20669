"""The permalink ledger: every URL ever published, and what keeps each one answering.

Pure: the previous ledger and this build's versions and groups in, the new ledger and
what to publish for URLs that left (tombstones, redirects) out. Reading and writing
`permalinks.json` is the output stage's job.

The promise it checks: a URL, once published, keeps working and keeps showing the same
text. A version that leaves the corpus becomes a tombstone; a group that loses its ID
redirects to the group its versions joined; a version whose bytes change stops the build
unless the change is accepted, and the page then says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .models import Group, Version

LEDGER_FORMAT = 1


@dataclass(frozen=True)
class Change:
    """An accepted change of a version's bytes."""

    date: str
    previous_sha256: str


@dataclass(frozen=True)
class VersionEntry:
    """What the ledger keeps of a version: enough to publish its tombstone one day."""

    id: str
    sha256: str
    first_published: str
    source_file: str
    title: str
    group: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    withdrawn: str | None = None  # date it left the corpus
    source_removed: str | None = None  # reason given with --remove-source
    source_removed_on: str | None = None


@dataclass(frozen=True)
class GroupEntry:
    """What the ledger keeps of a group page."""

    id: str
    first_published: str
    members: tuple[str, ...]
    redirect_to: str | None = None  # the group its versions joined
    withdrawn: str | None = None  # date its last version left


@dataclass(frozen=True)
class Ledger:
    """The contents of permalinks.json."""

    versions: Mapping[str, VersionEntry] = field(default_factory=dict)
    groups: Mapping[str, GroupEntry] = field(default_factory=dict)


@dataclass(frozen=True)
class Reconciled:
    """The new ledger, and the refusals that stop the build."""

    ledger: Ledger
    errors: tuple[str, ...]

    def tombstones(self) -> list[VersionEntry]:
        """Versions that left the corpus, sorted by ID."""
        return sorted((e for e in self.ledger.versions.values() if e.withdrawn), key=lambda e: e.id)

    def redirects(self) -> dict[str, str]:
        """Old group ID -> the group ID it now redirects to."""
        return {g.id: g.redirect_to for g in self.ledger.groups.values() if g.redirect_to}

    def withdrawn_groups(self) -> list[GroupEntry]:
        """Groups all of whose versions left, sorted by ID."""
        return sorted((g for g in self.ledger.groups.values() if g.withdrawn), key=lambda g: g.id)


def reconcile(
    previous: Ledger,
    versions: Sequence[Version],
    groups: Sequence[Group],
    titles: Mapping[str, str],
    metadata: Mapping[str, Mapping[str, Any]],
    today: str,
    accept_changed: Iterable[str] = (),
    remove_sources: Mapping[str, str] | None = None,
) -> Reconciled:
    """Bring the ledger up to date with this build; list what must stop the build."""
    accepted = set(accept_changed)
    removals = dict(remove_sources or {})
    group_of = {m: g.id for g in groups for m in g.members}
    errors: list[str] = []
    entries: dict[str, VersionEntry] = {}
    for version in versions:
        source = version.source
        old = previous.versions.get(version.id)
        changes = old.changes if old else ()
        if old is not None and old.sha256 != source.sha256:
            if version.id in accepted:
                changes = (*changes, Change(today, old.sha256))
            else:
                errors.append(
                    f"{source.path}: the text of /a/{version.id}/ changed since it was "
                    f"published (SHA-256 was {old.sha256}, is now {source.sha256}). A "
                    "published URL must keep showing the text that was cited: restore the "
                    f"file, give it a new ID, or accept the change with --accept-changed {version.id}"
                )
                entries[version.id] = old
                continue
        entries[version.id] = VersionEntry(
            id=version.id,
            sha256=source.sha256,
            first_published=old.first_published if old else today,
            source_file=source.path,
            title=titles[version.id],
            group=group_of[version.id],
            metadata=metadata[version.id],
            changes=changes,
        )
    for vid, old in previous.versions.items():
        if vid in entries:
            continue
        withdrawn = old.withdrawn or today
        entry = replace(old, withdrawn=withdrawn)
        if vid in removals and not old.source_removed:
            entry = replace(entry, source_removed=removals.pop(vid), source_removed_on=today)
        entries[vid] = entry
    for vid in sorted(removals):
        errors.append(
            f"--remove-source {vid}: no withdrawn version has that ID (only the source of a "
            "version that has left the corpus can be removed)"
        )
    return Reconciled(
        Ledger(dict(sorted(entries.items())), _groups(previous, groups, group_of, today)),
        tuple(errors),
    )


def _groups(
    previous: Ledger, groups: Sequence[Group], group_of: Mapping[str, str], today: str
) -> dict[str, GroupEntry]:
    """Group entries: live ones, redirects for IDs that were lost, tombstones for empty ones."""
    entries: dict[str, GroupEntry] = {}
    for group in groups:
        old = previous.groups.get(group.id)
        entries[group.id] = GroupEntry(
            id=group.id,
            first_published=old.first_published if old else today,
            members=group.members,
        )
    for gid, old in previous.groups.items():
        if gid in entries:
            continue
        # The versions the old group had, in its order: the first still published decides
        # where its URL now leads, so a merged group's URL follows its earliest version.
        target = next((group_of[m] for m in old.members if m in group_of), None)
        if target is not None:
            entries[gid] = replace(old, redirect_to=target, withdrawn=None)
        else:
            entries[gid] = replace(old, redirect_to=None, withdrawn=old.withdrawn or today)
    return dict(sorted(entries.items()))


def urls(ledger: Ledger) -> dict[str, dict[str, Any]]:
    """Every URL the ledger vouches for, with the checksum behind it and its first date."""
    out: dict[str, dict[str, Any]] = {}
    for entry in ledger.versions.values():
        status = "withdrawn" if entry.withdrawn else "live"
        for suffix in ("", "source.txt", "version.json", "cite.json"):
            record: dict[str, Any] = {
                "kind": suffix or "version page",
                "sha256": entry.sha256,
                "first_published": entry.first_published,
                "status": status,
            }
            if suffix == "source.txt" and entry.source_removed:
                record["status"] = "source removed"
            out[f"a/{entry.id}/{suffix}"] = record
    for group in ledger.groups.values():
        status = "redirect" if group.redirect_to else "withdrawn" if group.withdrawn else "live"
        record = {"kind": "group", "first_published": group.first_published, "status": status}
        if group.redirect_to:
            record["redirect_to"] = f"g/{group.redirect_to}/"
        out[f"g/{group.id}/"] = record
    return dict(sorted(out.items()))


def to_json(ledger: Ledger) -> dict[str, Any]:
    """The JSON form of the ledger (permalinks.json)."""
    return {
        "format": LEDGER_FORMAT,
        "about": "Every URL this site has published, with the SHA-256 of the source text "
        "behind it. Written by build_corpus.py; commit it with the corpus.",
        "urls": urls(ledger),
        "versions": {
            vid: {
                "sha256": e.sha256,
                "first_published": e.first_published,
                "source_file": e.source_file,
                "title": e.title,
                "group": e.group,
                "metadata": dict(e.metadata),
                "changes": [
                    {"date": c.date, "previous_sha256": c.previous_sha256} for c in e.changes
                ],
                "withdrawn": e.withdrawn,
                "source_removed": e.source_removed,
                "source_removed_on": e.source_removed_on,
            }
            for vid, e in ledger.versions.items()
        },
        "groups": {
            gid: {
                "first_published": g.first_published,
                "members": list(g.members),
                "redirect_to": g.redirect_to,
                "withdrawn": g.withdrawn,
            }
            for gid, g in ledger.groups.items()
        },
    }


def from_json(data: Mapping[str, Any]) -> Ledger:
    """Read the JSON form; raises ValueError (with the reason) on a malformed ledger."""
    if data.get("format") != LEDGER_FORMAT:
        raise ValueError(f"unknown ledger format {data.get('format')!r}")
    try:
        versions = {
            vid: VersionEntry(
                id=vid,
                sha256=e["sha256"],
                first_published=e["first_published"],
                source_file=e["source_file"],
                title=e["title"],
                group=e["group"],
                metadata=e.get("metadata", {}),
                changes=tuple(Change(c["date"], c["previous_sha256"]) for c in e["changes"]),
                withdrawn=e.get("withdrawn"),
                source_removed=e.get("source_removed"),
                source_removed_on=e.get("source_removed_on"),
            )
            for vid, e in data["versions"].items()
        }
        groups = {
            gid: GroupEntry(
                id=gid,
                first_published=g["first_published"],
                members=tuple(g["members"]),
                redirect_to=g.get("redirect_to"),
                withdrawn=g.get("withdrawn"),
            )
            for gid, g in data["groups"].items()
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"missing or malformed field {exc}") from None
    return Ledger(versions, groups)
