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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .exports import encode_json, encoded_container
from .models import Group, Summary, Version

LEDGER_FORMAT = 1


class Change(NamedTuple):
    """An accepted change of a version's bytes."""

    date: str
    previous_sha256: str


class VersionEntry(NamedTuple):
    """What the ledger keeps of a version: enough to publish its tombstone one day."""

    id: str
    sha256: str
    first_published: str
    source_file: str
    title: str
    group: str
    metadata: Mapping[str, Any] = {}  # never changed: shared by entries without metadata
    changes: tuple[Change, ...] = ()
    withdrawn: str | None = None  # date it left the corpus
    source_removed: str | None = None  # reason given with --remove-source
    source_removed_on: str | None = None


class GroupEntry(NamedTuple):
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
    versions: Sequence[Version] | Sequence[Summary],
    groups: Sequence[Group],
    titles: Mapping[str, str],
    metadata: Mapping[str, Mapping[str, Any]],
    today: str,
    accept_changed: Iterable[str] = (),
    remove_sources: Mapping[str, str] | None = None,
) -> Reconciled:
    """Bring the ledger up to date with this build (its versions or their summaries); list
    what must stop the build. An entry that stays as it was is the previous entry itself,
    so that comparing the two ledgers, or encoding the new one (ledger_json), is quick."""
    accepted = set(accept_changed)
    removals = dict(remove_sources or {})
    group_of = {m: g.id for g in groups for m in g.members}
    errors: list[str] = []
    entries: dict[str, VersionEntry] = {}
    for version in versions:
        vid, sha256, path = version.id, version.sha256, version.path
        old = previous.versions.get(vid)
        changes = old.changes if old else ()
        if old is not None and old.sha256 != sha256:
            if vid in accepted:
                changes = (*changes, Change(today, old.sha256))
            else:
                errors.append(
                    f"{path}: the text of /a/{vid}/ changed since it was "
                    f"published (SHA-256 was {old.sha256}, is now {sha256}). A "
                    "published URL must keep showing the text that was cited: restore the "
                    f"file, give it a new ID, or accept the change with --accept-changed {vid}"
                )
                entries[vid] = old
                continue
        elif (
            old is not None
            and old.source_file == path
            and old.title == titles[vid]
            and old.group == group_of[vid]
            and old.metadata == metadata[vid]
            and old.withdrawn is None
            and old.source_removed is None
            and old.source_removed_on is None
        ):
            entries[vid] = old  # what a new entry would hold
            continue
        entries[vid] = VersionEntry(
            id=vid,
            sha256=sha256,
            first_published=old.first_published if old else today,
            source_file=path,
            title=titles[vid],
            group=group_of[vid],
            metadata=metadata[vid],
            changes=changes,
        )
    for vid, old in previous.versions.items():
        if vid in entries:
            continue
        withdrawn = old.withdrawn or today
        entry = old._replace(withdrawn=withdrawn)
        if vid in removals and not old.source_removed:
            entry = entry._replace(source_removed=removals.pop(vid), source_removed_on=today)
        entries[vid] = entry
    for vid in sorted(removals):
        errors.append(
            f"--remove-source {vid}: no withdrawn version has that ID (only the source of a "
            "version that has left the corpus can be removed)"
        )
    ledger = Ledger(dict(sorted(entries.items())), _groups(previous, groups, group_of, today))
    if ledger == previous:
        # Nothing changed (the usual rebuild): the previous ledger itself, so that what was
        # kept of it (its encoded entries, the build state) is known to be current.
        ledger = previous
    return Reconciled(ledger, tuple(errors))


def _groups(
    previous: Ledger, groups: Sequence[Group], group_of: Mapping[str, str], today: str
) -> dict[str, GroupEntry]:
    """Group entries: live ones, redirects for IDs that were lost, tombstones for empty ones."""
    entries: dict[str, GroupEntry] = {}
    for group in groups:
        old = previous.groups.get(group.id)
        if (
            old is not None
            and old.members == group.members
            and old.redirect_to is None
            and old.withdrawn is None
        ):
            entries[group.id] = old  # what a new entry would hold
            continue
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
            entries[gid] = old._replace(redirect_to=target, withdrawn=None)
        else:
            entries[gid] = old._replace(redirect_to=None, withdrawn=old.withdrawn or today)
    return dict(sorted(entries.items()))


def urls(ledger: Ledger) -> dict[str, dict[str, Any]]:
    """Every URL the ledger vouches for, with the checksum behind it and its first date."""
    out: dict[str, dict[str, Any]] = {}
    for entry in ledger.versions.values():
        out.update(_version_urls(entry))
    for group in ledger.groups.values():
        out.update(_group_urls(group))
    return dict(sorted(out.items()))


def _version_urls(entry: VersionEntry) -> dict[str, dict[str, Any]]:
    """The URLs of one version: its page, its source, its data and its citation."""
    out: dict[str, dict[str, Any]] = {}
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
    return out


def _group_urls(group: GroupEntry) -> dict[str, dict[str, Any]]:
    """The URL of one group page."""
    status = "redirect" if group.redirect_to else "withdrawn" if group.withdrawn else "live"
    record = {"kind": "group", "first_published": group.first_published, "status": status}
    if group.redirect_to:
        record["redirect_to"] = f"g/{group.redirect_to}/"
    return {f"g/{group.id}/": record}


_ABOUT = (
    "Every URL this site has published, with the SHA-256 of the source text behind it. "
    "Written by build_corpus.py; commit it with the corpus."
)


def to_json(ledger: Ledger) -> dict[str, Any]:
    """The JSON form of the ledger (permalinks.json)."""
    return {
        "format": LEDGER_FORMAT,
        "about": _ABOUT,
        "urls": urls(ledger),
        "versions": {vid: _version_json(e) for vid, e in ledger.versions.items()},
        "groups": {gid: _group_json(g) for gid, g in ledger.groups.items()},
    }


def _version_json(e: VersionEntry) -> dict[str, Any]:
    return {
        "sha256": e.sha256,
        "first_published": e.first_published,
        "source_file": e.source_file,
        "title": e.title,
        "group": e.group,
        "metadata": dict(e.metadata),
        "changes": [{"date": c.date, "previous_sha256": c.previous_sha256} for c in e.changes],
        "withdrawn": e.withdrawn,
        "source_removed": e.source_removed,
        "source_removed_on": e.source_removed_on,
    }


def _group_json(g: GroupEntry) -> dict[str, Any]:
    return {
        "first_published": g.first_published,
        "members": list(g.members),
        "redirect_to": g.redirect_to,
        "withdrawn": g.withdrawn,
    }


# The encoded parts of each entry, kept between builds (ledger_json): entry ID -> (the
# entry, its "urls" items, its "versions" or "groups" item), as UTF-8.
LedgerParts = dict[str, tuple[Any, bytes, bytes]]

# Indents of permalinks.json: its sections, and the items of each section.
_SECTION, _ITEM = "\n  ", "\n    "


def ledger_json(
    ledger: Ledger, parts: tuple[LedgerParts, LedgerParts] | None = None
) -> tuple[bytes, tuple[LedgerParts, LedgerParts]]:
    """permalinks.json, byte for byte exports.indented_json(to_json(ledger)), encoded one
    entry at a time: entries found unchanged in parts (those of an earlier call, by
    version and by group) are not encoded again (a 10,000-version ledger is 14 MB, 0.6 s to
    encode whole, 30 ms in parts). Returns the bytes and the parts of this ledger."""
    versions = _parts(ledger.versions, parts[0] if parts else {}, _version_urls, _version_json)
    groups = _parts(ledger.groups, parts[1] if parts else {}, _group_urls, _group_json)
    # Every URL of one entry begins with "a/<id>/" or "g/<id>/": sorted by that prefix, the
    # entries give the URLs in sorted order.
    url_parts = [versions[vid][1] for vid in sorted(versions, key=lambda v: v + "/")]
    url_parts += [groups[gid][1] for gid in sorted(groups, key=lambda g: g + "/")]
    sections = [
        b'"about": ' + encode_json(_ABOUT, _SECTION).encode(),
        b'"format": ' + encode_json(LEDGER_FORMAT, _SECTION).encode(),
        b'"groups": ' + _mapping([groups[g][2] for g in sorted(groups)]),
        b'"urls": ' + _mapping(url_parts),
        b'"versions": ' + _mapping([versions[v][2] for v in sorted(versions)]),
    ]
    section = _SECTION.encode()
    return b"{" + section + (b"," + section).join(sections) + b"\n}\n", (versions, groups)


def _parts(
    entries: Mapping[str, Any],
    known: LedgerParts,
    urls_of: Callable[[Any], Mapping[str, Any]],
    json_of: Callable[[Any], Any],
) -> LedgerParts:
    """The parts of these entries: those of known where the entry is the same."""
    parts = dict(known)
    for eid, entry in entries.items():
        found = known.get(eid)
        if found is None or (found[0] is not entry and found[0] != entry):
            parts[eid] = (entry, _items(urls_of(entry)), _item(eid, json_of(entry)))
    if len(parts) != len(entries):  # some entries left: only this ledger's are kept
        parts = {eid: parts[eid] for eid in entries}
    return parts


def _item(key: str, value: Any) -> bytes:
    """One item of a section: its key and its value, encoded at the items' indent."""
    return (encode_json(key, _ITEM) + ": " + encode_json(value, _ITEM)).encode()


def _items(records: Mapping[str, Any]) -> bytes:
    """Several items of a section, in key order, joined as the section joins them."""
    return ("," + _ITEM).encode().join(_item(k, records[k]) for k in sorted(records))


def _mapping(parts: Sequence[bytes]) -> bytes:
    """A section: its items' parts (in key order) in braces, or {} when it has none."""
    return encoded_container(parts, _SECTION, b"{}")


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
