"""The MkDocs plugin `corpus`: generated listings in hand-written pages, and generated HTML
that skips the Markdown parser.

- A hand-written page (the home page) says where a listing goes with a marker line
  `<!-- corpus:include home -->`; the plugin replaces it with the fragment the corpus build
  wrote to `<docs_dir>/.corpus/home.md` (MkDocs does not publish dot-folders). Without a
  corpus build the marker becomes a note saying how to run one.
- Generated pages wrap their large HTML blocks (escaped by corpus_site/templating.py) in
  `<!-- corpus:raw -->` ... `<!-- /corpus:raw -->`. The plugin takes them out before
  Python-Markdown runs and puts them back into its output: re-parsing finished HTML was
  55% of the MkDocs build (measured on 1,000 versions). Without the plugin the same page
  still renders the same way, only slower.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import BasePlugin

_MARKER = re.compile(r"^<!--\s*corpus:include\s+([a-z0-9-]+)\s*-->\s*$", re.MULTILINE)
_RAW = re.compile(r"^<!-- corpus:raw -->\n(.*?)\n<!-- /corpus:raw -->$", re.MULTILINE | re.DOTALL)
_SLOT = re.compile(r"<!-- corpus:slot (\d+) -->")


class CorpusPlugin(BasePlugin):  # type: ignore[type-arg]
    """Replaces corpus:include markers with generated fragments; lets raw HTML skip Markdown."""

    def __init__(self) -> None:
        super().__init__()
        self._stash: dict[str, list[str]] = {}

    def on_page_markdown(self, markdown: str, page: Any, config: Any, files: Any) -> str:
        """Expand the markers of one page."""
        fragments = Path(config["docs_dir"]) / ".corpus"

        def expand(match: re.Match[str]) -> str:
            path = fragments / f"{match.group(1)}.md"
            if not path.is_file():
                return (
                    '!!! warning "No corpus listing yet"\n'
                    "    Run `python build_corpus.py` to generate the corpus pages.\n"
                )
            return path.read_text(encoding="utf-8")

        markdown = _MARKER.sub(expand, markdown)
        stash: list[str] = []

        def keep(match: re.Match[str]) -> str:
            stash.append(match.group(1))
            return f"<!-- corpus:slot {len(stash) - 1} -->"

        markdown = _RAW.sub(keep, markdown)
        if stash:
            self._stash[page.file.src_uri] = stash
        return markdown

    def on_page_content(self, html: str, page: Any, config: Any, files: Any) -> str:
        """Put the generated HTML blocks back where Markdown left their slots."""
        stash = self._stash.pop(page.file.src_uri, None)
        if not stash:
            return html
        return _SLOT.sub(lambda m: stash[int(m.group(1))], html)
