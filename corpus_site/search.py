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
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError

# Where the index goes inside the site, and where corpus-search.js looks for it.
BUNDLE = "pagefind"

# Parts of indexed pages that are not text: the paragraph links (¶) of version pages and
# the heading links of hand-written pages. Excluded here, not by an attribute on each
# element, so that pages carry no extra bytes for it.
EXCLUDE = (".corpus-pilcrow", ".headerlink")


@dataclass(frozen=True)
class SearchReport:
    """What indexing found: pages and words indexed."""

    pages: int
    words: int


def index_site(site_dir: Path) -> SearchReport:
    """Write Pagefind's index of the built site into <site_dir>/pagefind/."""
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
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BuildError(f"cannot run Pagefind ({exc}): run `pip install -e .`") from exc
    if done.returncode != 0 or "No module named pagefind" in done.stderr:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        if "No module named" in detail:
            raise BuildError(
                "Pagefind, which builds the search index, is not installed: run "
                '`pip install -e .` (it installs "pagefind[extended]")'
            )
        raise BuildError(f"Pagefind could not index {site_dir}: {detail}")
    return SearchReport(pages=_count(done.stdout, "pages"), words=_count(done.stdout, "words"))


def _count(output: str, what: str) -> int:
    """A figure from Pagefind's summary ("Indexed 1390 pages")."""
    match = re.search(rf"Indexed (\d+) {what}", output)
    return int(match.group(1)) if match else 0
