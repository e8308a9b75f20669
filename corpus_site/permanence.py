"""Pages that keep old URLs answering: tombstones of withdrawn versions, redirects of group
IDs lost in a merge, and pages of groups all of whose versions left.

Pure: ledger entries in, generated files out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cite import Work, csl_item
from .ledger import GroupEntry, Reconciled, VersionEntry
from .paths import group_path, version_paths
from .templating import ENV, dump_json, front_matter, labelled_metadata


def permanence_files(
    reconciled: Reconciled,
    withdrawn_sources: Mapping[str, bytes],
    site_url: str,
    site_name: str,
) -> dict[str, bytes]:
    """Files for every URL that left: tombstones, their data, redirects, withdrawn groups."""
    live_groups = {
        g.id for g in reconciled.ledger.groups.values() if not g.redirect_to and not g.withdrawn
    }
    redirects = reconciled.redirects()
    files: dict[str, bytes] = {}
    for entry in reconciled.tombstones():
        page, record, cite, source = version_paths(entry.id)
        group = redirects.get(entry.group, entry.group)
        group_link = group if group in live_groups else None
        files[page] = tombstone_page(entry, group_link).encode()
        files[record] = dump_json(tombstone_record(entry, group_link))
        files[cite] = dump_json([csl_item(tombstone_work(entry, site_url, site_name))])
        if entry.source_removed:
            files[source] = (
                f"The source of version {entry.id} was removed from this corpus on "
                f"{entry.source_removed_on}.\nReason given: {entry.source_removed}\n"
                f"SHA-256 of the removed bytes: {entry.sha256}\n"
            ).encode()
        else:
            files[source] = withdrawn_sources[entry.id]
    for old, new in sorted(redirects.items()):
        files[group_path(old)] = redirect_page(old, new).encode()
    for group in reconciled.withdrawn_groups():
        files[group_path(group.id)] = withdrawn_group_page(group).encode()
    return files


def tombstone_page(entry: VersionEntry, group_link: str | None) -> str:
    """The Markdown page of a withdrawn version."""
    rows = [(label, value) for label, value, _ in labelled_metadata(entry.metadata)]
    return ENV.get_template("tombstone.md.j2").render(
        front_matter=front_matter(
            {"title": f"Withdrawn: {entry.title}", "corpus_tombstone": entry.id}
        ),
        entry=entry,
        metadata_rows=rows,
        group_link=group_link,
    )


def tombstone_record(entry: VersionEntry, group_link: str | None) -> dict[str, Any]:
    """version.json of a withdrawn version: its last record, and when and why it left."""
    return {
        "id": entry.id,
        "withdrawn": True,
        "withdrawn_on": entry.withdrawn,
        "first_published": entry.first_published,
        "sha256": entry.sha256,
        "source_file": entry.source_file,
        "source_removed": entry.source_removed,
        "source_removed_on": entry.source_removed_on,
        "title": entry.title,
        "metadata": dict(entry.metadata),
        "group": group_link,
        "changes": [{"date": c.date, "previous_sha256": c.previous_sha256} for c in entry.changes],
    }


def tombstone_work(entry: VersionEntry, site_url: str, site_name: str) -> Work:
    """Citation data of a withdrawn version, from its last metadata."""
    meta = entry.metadata
    return Work(
        id=entry.id,
        title=entry.title,
        url=f"{site_url}a/{entry.id}/",
        accessed=entry.first_published,
        site_name=site_name,
        sha256=entry.sha256,
        group_url=f"{site_url}g/{entry.group}/",
        authors=tuple(meta.get("authors") or ()),
        outlet=meta.get("outlet"),
        published=meta.get("published"),
        language=meta.get("language"),
        original_url=meta.get("url"),
    )


def redirect_page(old: str, new: str) -> str:
    """A page rendered by overrides/redirect.html: refresh to the surviving group."""
    return (
        "---\n"
        "template: redirect.html\n"
        f'redirect_from: "{old}"\n'
        f'redirect_to: "{new}"\n'
        f'title: "Moved: group {old}"\n'
        "---\n\n"
        f"This group is now part of [group {new}](../{new}/).\n"
    )


def withdrawn_group_page(entry: GroupEntry) -> str:
    """The Markdown page of a group all of whose versions left."""
    return ENV.get_template("group_withdrawn.md.j2").render(
        front_matter=front_matter({"title": f"Withdrawn group {entry.id}"}), entry=entry
    )
