"""The MkDocs plugin `corpus`: puts the generated corpus listings into hand-written pages.

A hand-written page (the home page) says where a listing goes with a marker line
`<!-- corpus:include home -->`; the plugin replaces it with the fragment the corpus build
wrote to `<docs_dir>/.corpus/home.md` (MkDocs does not publish dot-folders). Without a
corpus build the marker becomes a note saying how to run one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import BasePlugin

_MARKER = re.compile(r"^<!--\s*corpus:include\s+([a-z0-9-]+)\s*-->\s*$", re.MULTILINE)


class CorpusPlugin(BasePlugin):  # type: ignore[type-arg]
    """Replaces corpus:include markers with generated fragments."""

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

        return _MARKER.sub(expand, markdown)
