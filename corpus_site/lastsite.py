"""What a build keeps from the last site: the pages nothing they are made of changed,
and the search index when Pagefind would be given the same pages (IndexReuse, below).

After a one-file change at 10,000 versions, MkDocs rendered all 13,600 pages again (16 s)
to change some twenty. A generated page's HTML is made of:

- its own Markdown (its front matter included) and its place (source and published path);
- what the links in it find: MkDocs turns a link into the target's address, or leaves it
  and warns when there is no such file. Each lookup a page made while it was rendered is
  kept, and asked again: the page is kept only if every lookup finds the same;
- what every page shares: the configuration, the theme (its package's version, the
  overrides' files), the navigation (titles and addresses), and this program's code.

A page is kept only when all of that is the same as when its HTML was rendered, and the
HTML is still the file that build wrote (inode, size and modification time): it is then
hard-linked from the last site into the new one, byte for byte the page a full render
gives (tests/test_lastsite.py compares the two for each kind of change). Nothing is
kept when the build has a plugin or a Markdown extension this module does not know (one
may read other files, or keep state across pages), a theme other than Material, or anchor
links checked at the warning level (a kept page's links are not checked again); nor is a
hand-written page, a page that includes a corpus listing (another file), or a page whose
render logged anything (its warnings come back when it is rendered).
`build_corpus.py --render-all` renders every page.

The manifest of what each kept-able page was made of is kept in the cache folder, written
after the new site is in place.
"""

from __future__ import annotations

import logging
import marshal
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from typing import Any

from .cache import cache_key
from .search import BUNDLE, EXCLUDE, SearchReport

MANIFEST = "site-pages.marshal"
# The layout of the records kept here (one of another layout is not read).
_LAYOUT = 2

# Plugins known to keep no state across pages and to read no other file for a page.
KNOWN_PLUGINS = frozenset({"search", "material/search", "corpus"})
# Markdown extensions that make a page from its own text only (pymdownx.snippets, for
# one, inserts other files: it is not here).
KNOWN_EXTENSIONS = frozenset(
    {
        "abbr",
        "admonition",
        "attr_list",
        "def_list",
        "fenced_code",
        "footnotes",
        "md_in_html",
        "meta",
        "sane_lists",
        "smarty",
        "tables",
        "toc",
        "pymdownx.betterem",
        "pymdownx.caret",
        "pymdownx.details",
        "pymdownx.highlight",
        "pymdownx.inlinehilite",
        "pymdownx.keys",
        "pymdownx.mark",
        "pymdownx.smartsymbols",
        "pymdownx.superfences",
        "pymdownx.tabbed",
        "pymdownx.tasklist",
        "pymdownx.tilde",
    }
)
# What marks a corpus listing to insert (mkdocs_plugin.py).
INCLUDE_MARKER = b"corpus:include"
# The packages whose code renders a page, besides this one.
_RENDERERS = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jinja2", "pygments")

# A lookup: the path a link asked for -> (address, inclusion) of the file found, or None.
Found = tuple[str, str] | None
# What a kept-able page was made of: (page key, its lookups, its HTML file's identity).
Entry = tuple[str, tuple[tuple[str, Found], ...], tuple[int, int, int]]


def _found(file: Any) -> Found:
    return None if file is None else (file.url, file.inclusion.name)


def file_identity(path: str) -> tuple[int, int, int]:
    """A file as written: inode, size, modification time (a file written anew, or edited
    in place, has another)."""
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


class Linker:
    """Puts files into a new site as hard links to the files they come from (the same
    bytes, nothing copied): the last site's pages and index here, the data files of docs/
    in sitebuild. Each folder is made once; after a link fails other than on an existing
    file (another file system, or none there), none is tried again."""

    def __init__(self) -> None:
        self.folders: set[str] = set()
        self.linking = True

    def link(self, source: str, target: str) -> bool:
        """Hard-link target to source; False when it did not (the caller copies)."""
        folder = os.path.dirname(target)
        if folder not in self.folders:
            os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)
        if not self.linking:
            return False
        try:
            os.link(source, target)
            return True
        except FileExistsError:
            return False
        except OSError:
            self.linking = False
            return False

    def link_or_copy(self, source: str, target: str) -> None:
        """Hard-link target to source, or copy it where there are no hard links."""
        if not self.link(source, target):
            shutil.copyfile(source, target)


def _read_record(path: Path, site_dir: Path) -> dict[str, Any] | None:
    """A record this module wrote for the site at site_dir, or None."""
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("layout") != _LAYOUT:
        return None
    return data if data.get("site") == os.fspath(site_dir) else None


def _write_record(path: Path, site_dir: Path, data: dict[str, Any] | None) -> None:
    """Write the record of the site just put in place, or remove the last one (data None).

    The site is in place already: a record that cannot be written fails nothing, and the
    last one stays right, since what it names is kept only while its files are those that
    build wrote."""
    from .output import write_atomic

    with suppress(OSError):
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            record = {"layout": _LAYOUT, "site": os.fspath(site_dir), **data}
            write_atomic(path, marshal.dumps(record, 4))


class PageReuse:
    """One build's keeping of pages: what the last build recorded, what this one records.

    Forked workers inherit it; what they record comes back to the parent (entries()/add).
    """

    def __init__(self, cache_dir: Path, site_dir: Path, enabled: bool = True) -> None:
        self.manifest = cache_dir / MANIFEST
        self.site_dir = site_dir
        self.last = _read_record(self.manifest, site_dir) if enabled else None
        self.old: dict[str, Entry] = {}
        self.new: dict[str, Entry] = {}
        self.kept = 0
        self._site_key: str | None = None
        self._generated: frozenset[str] = frozenset()
        # Page keys made by keep() for pages it did not keep, for watch().
        self._keys: dict[str, str | None] = {}
        self._read: dict[str, tuple[str, tuple[tuple[str, Found], ...]]] = {}
        self._noisy: set[str] = set()
        self._linker = Linker()

    def start(self, config: Any, nav: Any) -> None:
        """Learn what every page shares, once the navigation's pages are read; nothing is
        kept or recorded when a plugin, an extension or the anchor check rules it out."""
        plugins = set(config.plugins.keys())
        corpus = config.plugins.get("corpus")
        if (
            not plugins <= KNOWN_PLUGINS
            or corpus is None
            or config.theme.name != "material"  # its templates change with its version
            or not set(config.markdown_extensions) <= KNOWN_EXTENSIONS
            or config.validation.links.anchors >= logging.WARNING
        ):
            return
        self._generated = corpus.generated
        self._site_key = _site_key(config, nav)
        last = self.last or {}
        # Pages are kept only from a site whose shared part is this one's.
        if last.get("site_key") == self._site_key and isinstance(last.get("entries"), dict):
            self.old = last["entries"]

    @property
    def active(self) -> bool:
        return self._site_key is not None

    def _page_key(self, file: Any) -> str | None:
        """What the page itself is made of (what every page shares is the site key), or
        None if it includes a corpus listing (the corpus plugin inserts a file the key
        does not hold)."""
        with open(file.abs_src_path, "rb") as source:
            data = source.read()
        if INCLUDE_MARKER in data:
            return None
        return cache_key(file.src_uri, file.dest_uri, file.url, data)

    def keep(self, file: Any, files: Any) -> bool:
        """Put the last site's HTML of this page into the new site, if nothing it is made
        of changed; whether it did."""
        if not self.active or file.src_uri not in self._generated:
            return False
        old = self.old.get(file.dest_uri)
        if old is None:
            return False
        key = self._keys[file.src_uri] = self._page_key(file)
        try:
            last_key, lookups, identity = old
            if key != last_key:
                return False
            if any(_found(files.get_file_from_path(path)) != found for path, found in lookups):
                return False
        except (ValueError, TypeError):  # a manifest this layout did not write
            return False
        source = os.path.join(self.site_dir, file.dest_uri)
        try:
            if file_identity(source) != tuple(identity):
                return False  # not the file that build wrote
            self._linker.link_or_copy(source, file.abs_dest_path)
            self.new[file.dest_uri] = (key, lookups, file_identity(file.abs_dest_path))
        except OSError:
            return False
        del self._keys[file.src_uri]  # kept: it is not read
        self.kept += 1
        return True

    @contextmanager
    def watch(self, file: Any, files: Any) -> Iterator[None]:
        """Record what a generated page is made of while it is read: its key, and the
        lookups of its links."""
        if not self.active or file.src_uri not in self._generated:
            yield
            return
        known = file.src_uri in self._keys
        key = self._keys.pop(file.src_uri) if known else self._page_key(file)
        if key is None:
            yield
            return
        lookups: dict[str, Found] = {}
        find = files.get_file_from_path

        def looking(path: str) -> Any:
            found = find(path)
            lookups[path] = _found(found)
            return found

        files.get_file_from_path = looking
        try:
            yield
        finally:
            del files.get_file_from_path  # the class's method again
        self._read[file.src_uri] = (key, tuple(sorted(lookups.items())))

    def noisy(self, src_uri: str) -> None:
        """A page logged something while it was read, rendered or checked: it is rendered
        again next time, and logs it again."""
        self._noisy.add(src_uri)

    def rendered(self, file: Any) -> None:
        """Record what a page just rendered was made of, to be kept next time (unless it
        logged something: entries())."""
        made = self._read.pop(file.src_uri, None)
        if made is not None:
            with suppress(OSError):
                self.new[file.dest_uri] = (*made, file_identity(file.abs_dest_path))

    def entries(self, files: Any) -> dict[str, Entry]:
        """What this process recorded, without the pages that logged something."""
        for src_uri in self._noisy:
            file = files.get_file_from_path(src_uri)
            if file is not None:
                self.new.pop(file.dest_uri, None)
        return self.new

    def add(self, entries: dict[str, Entry], kept: int) -> None:
        """What a worker recorded."""
        self.new.update(entries)
        self.kept += kept

    def save(self) -> None:
        """Write the manifest of the site just put in place (none if nothing is kept-able)."""
        data = {"site_key": self._site_key, "entries": self.new} if self.active else None
        _write_record(self.manifest, self.site_dir, data)


def _site_key(config: Any, nav: Any) -> str:
    """What every page's HTML is made of besides its own Markdown and links (and this
    program's code, which cache_key adds)."""
    # The level MkDocs logs at: a page that logged nothing at one may log at another.
    parts: list[Any] = [sys.version, logging.getLogger("mkdocs").getEffectiveLevel()]
    for name in _RENDERERS:
        try:
            parts.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            parts.append((name, None))
    # The configuration, but where the build writes: a new folder each build.
    for key in sorted(config.keys()):
        if key not in ("site_dir", "plugins", "theme"):
            parts.append((key, repr(config[key])))
    for name, plugin in config.plugins.items():
        parts.append((name, repr(sorted(plugin.config.items()))))
    theme = config.theme
    parts.append((theme.name, repr(sorted(dict(theme).items())), repr(theme.dirs)))
    if theme.custom_dir:
        root = Path(theme.custom_dir)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            parts.append((path.relative_to(root).as_posix(), path.read_bytes()))
    parts.append(_nav_outline(nav.items))
    return cache_key(repr(parts).encode("utf-8", "surrogatepass"))


def _nav_outline(items: Any) -> list[Any]:
    """Every page's view of the navigation: each item's kind, title and address."""
    return [
        (
            type(item).__name__,
            item.title,
            getattr(item, "url", None),
            _nav_outline(item.children) if getattr(item, "children", None) else None,
        )
        for item in items
    ]


# The record of the last index, in the cache folder (IndexReuse).
INDEX_RECORD = "search-index.marshal"


def index_key(pages: Sequence[tuple[str, bytes]]) -> str:
    """What Pagefind makes its index of: the pages it is given, its own version and
    settings (its environment variables, a configuration file where it runs), and how it
    is called here."""
    identity: list[Any] = [EXCLUDE, sys.executable]
    for name in ("pagefind", "pagefind_bin", "pagefind_bin_extended"):
        with suppress(metadata.PackageNotFoundError):
            identity.append((name, metadata.version(name)))
    for name, value in sorted(os.environ.items()):
        if name.startswith("PAGEFIND"):
            identity.append((name, value))
            with suppress(OSError):
                st = os.stat(value)
                identity.append((st.st_size, st.st_mtime_ns))
    for name in ("pagefind.yml", "pagefind.yaml", "pagefind.toml", "pagefind.json"):
        with suppress(OSError):
            identity.append((name, Path(name).read_bytes()))
    return cache_key(repr(identity), *(part for page in pages for part in page))


class IndexReuse:
    """The last site's search index, taken again when Pagefind would be given the same
    pages (the same cut copies, the same Pagefind and settings): Pagefind's output is a
    function of them (two runs on the same pages write the same bytes), and it takes 13 s
    at 10,000 versions. A rebuild that changes no indexed text (a new site_url, a theme or
    diff change, nothing at all) then hard-links the last index's files into the new site,
    if each is still the file that Pagefind wrote (inode, size, modification time)."""

    def __init__(self, cache_dir: Path, site_dir: Path, enabled: bool = True) -> None:
        self.record = cache_dir / INDEX_RECORD
        self.site_dir = site_dir  # the published site: the last one, until the swap
        self.old = _read_record(self.record, site_dir) if enabled else None
        self.new: dict[str, Any] | None = None
        self._key: str | None = None  # of the pages this build gives Pagefind

    def take(self, pages: Sequence[tuple[str, bytes]], bundle: Path) -> SearchReport | None:
        """Link the last index into `bundle` if it was made of the same input (the cut
        pages: search.cut_pages); its report, or None (nothing is left in `bundle` then)."""
        self._key = index_key(pages)
        old = self.old
        if old is None or old.get("key") != self._key:
            return None
        last = os.path.join(self.site_dir, BUNDLE)
        try:
            files: dict[str, tuple[int, int, int]] = old["files"]
            if any(
                file_identity(os.path.join(last, place)) != tuple(st) for place, st in files.items()
            ):
                return None  # not the index that Pagefind wrote
            linker = Linker()
            for place in files:
                linker.link_or_copy(os.path.join(last, place), os.path.join(bundle, place))
            report = SearchReport(old["pages"], old["words"], old["output"], kept=True)
        except (OSError, KeyError, TypeError, ValueError):
            shutil.rmtree(bundle, ignore_errors=True)
            return None
        self.made(bundle, report)
        return report

    def made(self, bundle: Path, report: SearchReport) -> None:
        """Record the index just written into `bundle` from the pages take() was given
        (saved by save())."""
        if self._key is None:
            return
        files: dict[str, tuple[int, int, int]] = {}
        for folder, dirs, names in os.walk(bundle):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(folder, name)
                files[os.path.relpath(path, bundle)] = file_identity(path)
        self.new = {
            "key": self._key,
            "files": files,
            "pages": report.pages,
            "words": report.words,
            "output": report.output,
        }

    def save(self) -> None:
        """Write the record of the site just put in place (none without an index)."""
        _write_record(self.record, self.site_dir, self.new)
