"""The MkDocs plugin `corpus`: generated listings in hand-written pages, and generated HTML
that skips the Markdown parser.

- A hand-written page (the home page) says where a listing goes with a marker line
  `<!-- corpus:include home -->`; the plugin replaces it with the fragment the corpus build
  wrote to `<docs_dir>/.corpus/home.md` (MkDocs does not publish dot-folders). Without a
  corpus build the marker becomes a note saying how to run one.
- Search is Pagefind's (corpus_site/search.py indexes the built site), shown in Material's
  search box by overrides/assets/javascripts/corpus-search.js. Every page is kept out of
  Material's own lunr index (`search: exclude`), whose one file every reader would download
  (53 MB at 10,000 pages); the `search` plugin stays for the search box and the highlighter
  of found words. Generated pages mark what Pagefind indexes (`data-pagefind-body`: title,
  ID, article text); hand-written pages are indexed whole, without the corpus listings
  they include.
- The corpus build writes a version's data files beside its page in docs/
  (`a/<id>.source.txt`, corpus_site/paths.py); the plugin publishes them at the version's
  address (`a/<id>/source.txt`), where MkDocs publishes the page `a/<id>.md` too.
- Generated pages wrap their large HTML blocks (escaped by corpus_site/templating.py) in
  `<!-- corpus:raw -->` ... `<!-- /corpus:raw -->`. The plugin takes them out before
  Python-Markdown runs and puts them back into its output: re-parsing finished HTML was
  55% of the MkDocs build (measured on 1,000 versions). Without the plugin the same page
  still renders the same way, only slower.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority

from .paths import published_path

_MARKER = re.compile(r"^<!--\s*corpus:include\s+([a-z0-9-]+)\s*-->\s*$", re.MULTILINE)
# A raw block: its content and the line break that ends it (group 1), taken a line at a
# time: a lazy `(.*?)` over the characters of a 20 KB page was 0.1 ms per page.
_RAW = re.compile(r"^<!-- corpus:raw -->\n((?:[^\n]*\n)+?)<!-- /corpus:raw -->$", re.MULTILINE)
_SLOT = re.compile(r"<!-- corpus:slot (\d+) -->")
# An attribute that Material's search plugin takes out of every page it builds.
_VALUED_SEARCH_ATTRIBUTE = re.compile(r'data-search-\w+="')
# The list of generated files that corpus_site/output.py keeps in docs/.
GENERATED_LISTING = ".corpus/generated.json"


class CorpusPlugin(BasePlugin):  # type: ignore[type-arg]
    """Replaces corpus:include markers with generated fragments; lets raw HTML skip Markdown."""

    def __init__(self) -> None:
        super().__init__()
        self._stash: dict[str, list[str]] = {}
        self._generated: frozenset[str] = frozenset()
        self._aside: dict[str, str] = {}  # page -> its content, while the search plugin runs

    @property
    def generated(self) -> frozenset[str]:
        """The pages and files the corpus build generated (docs/.corpus/generated.json)."""
        return self._generated

    def on_pre_build(self, config: Any) -> None:
        """Learn which pages the corpus build generated (the others are hand-written)."""
        listing = Path(config["docs_dir"]) / GENERATED_LISTING
        try:
            self._generated = frozenset(json.loads(listing.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            self._generated = frozenset()

    def on_files(self, files: Any, config: Any) -> Any:
        """Publish the versions' data files at their versions' addresses."""
        for file in files:
            if file.src_uri in self._generated and (target := published_path(file.src_uri)):
                file.dest_uri = target
        return files

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
            # A listing of the corpus is not the page's own text: search finds the versions.
            # "all", spelled out: Python-Markdown writes a bare attribute as
            # data-pagefind-ignore="data-pagefind-ignore", which Pagefind warns about.
            return (
                '<div class="corpus-listing" data-pagefind-ignore="all" markdown>\n\n'
                + path.read_text(encoding="utf-8")
                + "\n\n</div>\n"
            )

        # Pagefind searches the site; Material's one-file index would be downloaded whole.
        page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
        if "corpus:include" in markdown:  # in hand-written pages only
            markdown = _MARKER.sub(expand, markdown)
        stash: list[str] = []

        def keep(match: re.Match[str]) -> str:
            stash.append(match.group(1)[:-1])
            return f"<!-- corpus:slot {len(stash) - 1} -->"

        markdown = _RAW.sub(keep, markdown)
        if stash:
            self._stash[page.file.src_uri] = stash
        return markdown

    def on_page_content(self, html: str, page: Any, config: Any, files: Any) -> str:
        """Put the generated HTML blocks back where Markdown left their slots."""
        if page.file.src_uri not in self._generated:
            # Hand-written pages are searched whole (generated ones mark their parts).
            html = f"<div data-pagefind-body>\n{html}\n</div>"
        stash = self._stash.pop(page.file.src_uri, None)
        if not stash:
            return html
        return _SLOT.sub(lambda m: stash[int(m.group(1))], html)

    # Material's search plugin, on every page, returns at once for a page kept out of its
    # index, and then removes data-search-*="..." attributes from the page with a regular
    # expression that is tried at every character: 2.7 s of CPU at 10,000 versions, on
    # pages that have none (theirs are bare: data-search-exclude). Such a page's content
    # is set aside while the plugin runs, and put back after: the same site, byte for byte.
    # Between the two handlers run the on_page_context of the plugins listed in mkdocs.yml
    # (here only search): one added there that reads page.content would find it empty.
    @event_priority(100)  # before the search plugin
    def _set_content_aside(self, context: Any, page: Any, config: Any, nav: Any) -> Any:
        search = page.meta.get("search") or {}
        if search.get("exclude") and not _VALUED_SEARCH_ATTRIBUTE.search(page.content or ""):
            self._aside[page.file.src_uri] = page.content
            page.content = ""
        return context

    @event_priority(-100)  # after it
    def _put_content_back(self, context: Any, page: Any, config: Any, nav: Any) -> Any:
        content = self._aside.pop(page.file.src_uri, None)
        if content is not None:
            page.content = content
        return context

    on_page_context = CombinedEvent(_set_content_aside, _put_content_back)
