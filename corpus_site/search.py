"""The search index: Pagefind over the built site, after the MkDocs build.

Material's own search ships one index file that every reader downloads and indexes in the
browser (measured: 53 MB and 35 s at 10,000 pages). Pagefind splits its index into chunks
by word, so a query downloads only the chunks of its words and the text of the results it
shows. Material's search box and result list stay: overrides/assets/javascripts/
corpus-search.js answers them from this index.

What is indexed is marked on the pages: `data-pagefind-body` on a version's title, ID and
text (diffs, alignment tables, citation blocks and boilerplate are not in it, or each
phrase would be found once per sibling), and around hand-written pages
(corpus_site/mkdocs_plugin.py). Pages without it (groups, hubs, redirects) are skipped.
Pagefind is given each marked page cut to its marked elements (cut_pages): its index is
the same, byte for byte, and it has a ninth of the HTML to read. When what it would be
given is what it was given for the last site, that site's index is kept
(lastsite.IndexReuse).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BuildError
from .workers import Progress, ordered_map

if TYPE_CHECKING:
    from .lastsite import IndexReuse

# Where the index goes inside the site, and where corpus-search.js looks for it.
BUNDLE = "pagefind"

# Parts of indexed pages that are not text: the paragraph links (¶) of version pages and
# the heading links of hand-written pages. Excluded here, not by an attribute on each
# element, so that pages carry no extra bytes for it.
EXCLUDE = (".corpus-pilcrow", ".headerlink")


# The steps Pagefind announces on its output, in order (with "Finished in" at the end).
PHASES = (
    "[Walking source directory]",
    "[Parsing files]",
    "[Reading languages]",
    "[Building search indexes]",
)


@dataclass(frozen=True)
class SearchReport:
    """What indexing found: pages and words indexed, and what Pagefind printed."""

    pages: int
    words: int
    output: str = ""
    # Taken from the last site: Pagefind would have been given the same pages (IndexReuse).
    kept: bool = False


def index_site(
    site_dir: Path,
    progress: Progress | None = None,
    workers: int | None = None,
    scratch: Path | None = None,
    reuse: IndexReuse | None = None,
) -> SearchReport:
    """Write Pagefind's index of the built site into <site_dir>/pagefind/.

    Pagefind reads the site's pages cut to what it indexes (cut_pages, into `scratch`, a
    new folder; by default a temporary one beside the site, deleted after: build_site
    names one that it deletes in the background). progress, if given, follows the cutting
    and the steps Pagefind announces (it tells nothing finer). reuse, if given, takes the
    last site's index when Pagefind would be given the same pages, and records this one."""
    own = scratch is None
    pages = scratch or Path(tempfile.mkdtemp(dir=site_dir.parent, prefix=f".{site_dir.name}-"))
    lines: list[str] = []
    outcome: dict[str, Any] = {}
    try:
        steps = _index(site_dir, pages, workers, lines, outcome, reuse)
        if progress is not None:
            steps = progress(steps, len(PHASES) + 2, "Building the search index (Pagefind)")
        for _ in steps:
            pass
    except OSError as exc:
        raise BuildError(f"cannot run Pagefind ({exc}): run `pip install -e .`") from exc
    finally:
        if own:
            shutil.rmtree(pages, ignore_errors=True)
    if "kept" in outcome:
        return outcome["kept"]  # type: ignore[no-any-return]
    output = "".join(lines)
    if outcome.get("returncode") != 0 or "No module named pagefind" in output:
        detail = output.strip()[-2000:]
        if "No module named" in detail:
            raise BuildError(
                "Pagefind, which builds the search index, is not installed: run "
                '`pip install -e .` (it installs "pagefind[extended]")'
            )
        raise BuildError(f"Pagefind could not index {site_dir}: {detail}")
    report = SearchReport(_count(output, "pages"), _count(output, "words"), output)
    if reuse is not None:
        reuse.made(site_dir / BUNDLE, report)
    return report


def _index(
    site_dir: Path,
    pages: Path,
    workers: int | None,
    lines: list[str],
    outcome: dict[str, Any],
    reuse: IndexReuse | None = None,
) -> Iterator[None]:
    """Cut the pages, then run Pagefind on them (on the site itself when it marks no
    page), or take the last index (reuse); yield after the cutting and at each step
    Pagefind announces."""
    try:
        marked = cut_pages(site_dir, pages, workers)
    except OSError as exc:
        raise BuildError(f"cannot write the pages for Pagefind into {pages}: {exc}") from exc
    yield
    if reuse is not None and marked and (kept := reuse.take(marked, site_dir / BUNDLE)):
        outcome["kept"] = kept
        for _ in range(len(PHASES) + 1):
            yield
        return
    command = [
        sys.executable,
        "-m",
        "pagefind",
        "--site",
        str(pages if marked else site_dir),
        "--output-path",
        str(site_dir / BUNDLE),
        "--exclude-selectors",
        ",".join(EXCLUDE),
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as running:
        assert running.stdout is not None
        yield from _steps(running.stdout, lines)
    outcome["returncode"] = running.returncode


def cut_pages(site_dir: Path, into: Path, workers: int | None = None) -> list[tuple[str, bytes]]:
    """Write into `into`, each at its place in the site, what Pagefind reads of the pages
    that mark what it indexes (data-pagefind-body): search_copy(page), or the page whole.
    Returns each one's path there and the SHA-256 of what was written, in path order;
    none when the site marks nothing (Pagefind must then read all of it). Pagefind skips
    the pages without a mark of a site that has some, so they are left out. At 10,000
    versions: 38 MB written instead of 420 MB read by Pagefind, which then indexes in
    12.5 s instead of 22 s."""
    root = os.fspath(site_dir)
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not (folder == root and d == BUNDLE))
        found.extend(os.path.join(folder, name) for name in sorted(files) if name.endswith(".html"))
    target_root = os.fspath(into)

    def cut(path: str) -> tuple[str, bytes] | None:
        with open(path, "rb") as handle:
            data = handle.read()
        if _BODY.encode() not in data:
            return None
        try:
            text = data.decode("utf-8")
            data = (search_copy(text) or text).encode("utf-8")
        except UnicodeDecodeError:
            pass  # Pagefind reads it whole, as it is
        place = os.path.relpath(path, root)
        target = os.path.join(target_root, place)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            out.write(data)
        return place, hashlib.sha256(data).digest()

    return [c for c in ordered_map(cut, found, workers, chunksize=64) if c is not None]


# The attribute that marks what Pagefind indexes; the start tag of the page and of an
# element (group 1: its name).
_BODY = "data-pagefind-body"
_HTML_START = re.compile(r"<html\b[^>]*>", re.IGNORECASE)
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)\s")


def search_copy(html: str) -> str | None:
    """What Pagefind reads of a page of a site that marks its indexed parts: the <html>
    start tag (the language) and each element with data-pagefind-body, whole, in order.

    Pagefind indexes nothing else of such a site, so its index of these copies is the one
    of the whole pages, byte for byte (tests/test_search.py checks it), and reading them is
    five times faster: a version page is 35 KB, mostly diffs, and its indexed part 4 KB.
    None (index the whole page) when the page has no such element, when Pagefind would
    find something outside them (a data-pagefind-meta, -filter or -sort attribute), or when
    an element cannot be cut out safely (a comment or a script inside, or no end tag).
    Plain string searches: 0.07 ms for a version page."""
    start = _HTML_START.search(html)
    if start is None:
        return None
    parts: list[str] = []
    ignored_outside = 0  # data-pagefind-ignore outside the elements: nothing to Pagefind
    at = start.end()
    while (mark := html.find(_BODY, at)) != -1:
        tag = html.rfind("<", at, mark)
        found = _START_TAG.match(html, tag) if tag != -1 else None
        if (
            found is None
            or html.find(">", tag, mark) != -1  # the words are text, not in a start tag
            or not html[mark - 1].isspace()
            or html[mark + len(_BODY) : mark + len(_BODY) + 1] not in (" ", "=", ">", "\n")
        ):
            return None
        end = _element_end(html, found.group(1), tag)
        if end is None:
            return None
        part = html[tag:end]
        if "<!--" in part or "<script" in part.lower():
            return None
        ignored_outside += html.count("data-pagefind-ignore", at, tag)
        parts.append(part)
        at = end
    ignored_outside += html.count("data-pagefind-ignore", at)
    inside = sum(part.count("data-pagefind-") for part in parts)
    if not parts or html.count("data-pagefind-") != inside + ignored_outside:
        return None
    return (
        "<!doctype html>"
        + start.group(0)
        + '<head><meta charset="utf-8"></head><body>'
        + "".join(parts)
        + "</body></html>"
    )


def _element_end(html: str, name: str, at: int) -> int | None:
    """Where the element whose start tag is at `at` ends (after its end tag), counting the
    elements of the same name inside it; None without an end tag."""
    tags = re.compile(rf"<(/?){re.escape(name)}\b[^>]*>", re.IGNORECASE)
    depth = 0
    for tag in tags.finditer(html, at):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return None


def _steps(output: Iterable[str], lines: list[str]) -> Iterator[None]:
    """Keep every line of Pagefind's output; yield at each step it announces."""
    for line in output:
        lines.append(line)
        if line.strip() in PHASES or line.startswith("Finished in"):
            yield


def _count(output: str, what: str) -> int:
    """A figure from Pagefind's summary ("Indexed 1390 pages")."""
    match = re.search(rf"Indexed (\d+) {what}", output)
    return int(match.group(1)) if match else 0
