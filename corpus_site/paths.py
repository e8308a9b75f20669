"""Where the generated files of versions and groups go in docs/, and where the site
publishes them."""

from __future__ import annotations

import re

# docs/ holds the pages and data files of versions and groups side by side, one flat
# folder each (a/<id>.md, a/<id>.source.txt, ...), not a folder per version: the site's
# addresses are the same (MkDocs publishes a/<id>.md at /a/<id>/, and the corpus plugin
# publishes a/<id>.source.txt at /a/<id>/source.txt), and a first build makes 10,000
# fewer folders. Making a folder is what this machine's file system is slowest at: after
# a large delete, 40,000 files in 10,000 new folders took 11-13 s of system time, against
# 1.4-4.9 s for the same files in one folder.
DATA_FILES = ("version.json", "cite.json", "source.txt")
_DATA_FILE = re.compile(rf"^(a/[^/.]+)\.({'|'.join(map(re.escape, DATA_FILES))})$")


def version_paths(vid: str) -> tuple[str, ...]:
    """The files of one version's page in docs/: the page, its data, its citation, its
    bytes."""
    base = f"a/{vid}"
    return (base + ".md", *(f"{base}.{name}" for name in DATA_FILES))


def group_path(gid: str) -> str:
    """The page of one group in docs/."""
    return f"g/{gid}.md"


def published_path(rel: str) -> str | None:
    """Where the site publishes a version's data file of docs/ (a/<id>.source.txt ->
    a/<id>/source.txt); None for any other file, published where it is."""
    found = _DATA_FILE.match(rel)
    return f"{found.group(1)}/{found.group(2)}" if found else None
