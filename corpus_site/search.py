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
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError
from .workers import Progress

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


def index_site(site_dir: Path, progress: Progress | None = None) -> SearchReport:
    """Write Pagefind's index of the built site into <site_dir>/pagefind/. progress, if
    given, follows the steps Pagefind announces (it tells nothing finer)."""
    command = [
        sys.executable,
        "-m",
        "pagefind",
        "--site",
        str(site_dir),
        "--output-subdir",
        BUNDLE,
        "--exclude-selectors",
        ",".join(EXCLUDE),
    ]
    lines: list[str] = []
    try:
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as running:
            assert running.stdout is not None
            steps = _steps(running.stdout, lines)
            if progress is not None:
                steps = progress(steps, len(PHASES) + 1, "Building the search index (Pagefind)")
            for _ in steps:
                pass
        returncode = running.returncode
    except OSError as exc:
        raise BuildError(f"cannot run Pagefind ({exc}): run `pip install -e .`") from exc
    output = "".join(lines)
    if returncode != 0 or "No module named pagefind" in output:
        detail = output.strip()[-2000:]
        if "No module named" in detail:
            raise BuildError(
                "Pagefind, which builds the search index, is not installed: run "
                '`pip install -e .` (it installs "pagefind[extended]")'
            )
        raise BuildError(f"Pagefind could not index {site_dir}: {detail}")
    return SearchReport(_count(output, "pages"), _count(output, "words"), output)


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
