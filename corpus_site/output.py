"""Stage 6, output: write the generated files into docs/ and build the site with MkDocs.

The one writer of the output. It writes only files whose bytes changed (a rebuild touches
few files), removes generated files that are no longer generated, and never touches a
file it did not generate. The site is built into a temporary folder and swapped into
place, so a failed build leaves the previous site whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import sitebuild
from .errors import BuildError, LedgerError
from .lastsite import IndexReuse, PageReuse
from .ledger import Ledger, VersionEntry
from .ledger import from_json as ledger_from_json
from .paths import version_paths
from .search import SearchReport, index_site
from .workers import Background, Progress

# The list of files the previous build generated, so that stale ones can be removed
# without ever deleting a hand-written page.
LEDGER_OF_GENERATED = ".corpus/generated.json"


@dataclass(frozen=True)
class WriteReport:
    """What writing docs/ did."""

    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]


class WriteRecord:
    """What this program last wrote into docs/, so that a rebuild need not read a file to
    know it is current: path -> [key of its content, size, mtime in ns, inode].

    Kept in the cache folder (never published; deleted, it only makes the next build read
    the files again). Never trusted blindly: a file counts as current only while its size,
    modification time and inode are those recorded, so a file edited by hand, replaced or
    deleted is written again.
    """

    def __init__(self, path: Path | None, docs_dir: Path) -> None:
        self.path = path  # None: a record that keeps nothing
        self.docs = os.fspath(docs_dir.resolve())
        self._under = self.docs + "/"  # + rel: docs/rel (cheaper than os.path.join)
        self.files: dict[str, list[Any]] = {}
        self._pending: Background | None = None  # check_in_background's child
        self._stale: set[str] | None = None  # its answer: recorded files that changed
        if path is None:
            return
        try:
            # marshal, not JSON: the record of 10,000 versions is 44,000 entries, 0.1 s of
            # JSON to read and write in every build, 0.02 s of marshal.
            data = marshal.loads(path.read_bytes())
            if data.get("docs") == self.docs and isinstance(data.get("files"), dict):
                self.files = data["files"]
        except (OSError, ValueError, EOFError, TypeError, AttributeError):
            pass  # no record, or one we cannot read: every file is compared again

    def check_in_background(self, workers: int | None = None) -> None:
        """Start comparing every recorded file with its stat in a child process, which
        current() then asks: the 44,000 stats of a 10,000-version docs/ (0.2 s) run on the
        other core while this one loads, reads and groups. A file changed after this call
        and before the build writes it is missed, as one changed after a check in the
        parent would be."""
        if len(self.files) < _BACKGROUND_MIN or self._pending is not None:
            return
        self._pending = Background(
            lambda: [rel for rel, entry in self.files.items() if not self._matches(rel, entry)],
            workers,
        )

    def _settle(self) -> None:
        """The child's answer (none, if it could not run or failed: then every file is
        stat'ed here)."""
        assert self._pending is not None
        stale = self._pending.result()
        self._pending = None
        if stale is not None:
            self._stale = set(stale)

    def close(self) -> None:
        """Wait for check_in_background's child, if it is still running."""
        if self._pending is not None:
            self._settle()

    def current(self, rel: str, key: str) -> bool:
        """Whether docs/rel holds the content of this key, by the record and a stat."""
        entry = self.files.get(rel)
        if entry is None or entry[0] != key:
            return False
        if self._pending is not None:
            self._settle()
        if self._stale is not None:
            return rel not in self._stale
        return self._matches(rel, entry)

    def _matches(self, rel: str, entry: list[Any]) -> bool:
        try:
            found = os.stat(self._under + rel)
        except OSError:
            return False
        return (
            found.st_mtime_ns == entry[2] and found.st_size == entry[1] and found.st_ino == entry[3]
        )

    def note(self, rel: str, key: str, found: os.stat_result | None = None) -> list[Any] | None:
        """Record docs/rel as holding the content of this key; return the entry. found:
        the file's stat, when the caller has it (write_atomic returns it)."""
        if found is None:
            try:
                found = os.stat(self._under + rel)
            except OSError:
                self.files.pop(rel, None)
                return None
        entry = [key, found.st_size, found.st_mtime_ns, found.st_ino]
        self.adopt(rel, entry)
        return entry

    def adopt(self, rel: str, entry: list[Any]) -> None:
        """Record an entry that note() made (in a worker process, with its own copy)."""
        self.files[rel] = entry
        if self._stale is not None:
            self._stale.discard(rel)

    def save(self, keep: Iterable[str]) -> None:
        """Write the record of the files in keep (this build's files)."""
        if self.path is None:
            return
        files = {rel: self.files[rel] for rel in sorted(keep) if rel in self.files}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, marshal.dumps({"docs": self.docs, "files": files}, 2))


# Below this many recorded files, checking them here costs less than a child process.
_BACKGROUND_MIN = 2000


def content_key(content: bytes) -> str:
    """The key of a file keyed by its bytes (the files that are cheap to make)."""
    return hashlib.sha256(content).hexdigest()


def write_keyed(
    docs_dir: Path,
    rel: str,
    key: str,
    content: bytes | Callable[[], bytes],
    record: WriteRecord,
) -> bool | None:
    """Write docs/rel unless the record shows it holds this key's content (then None) or
    it already holds these bytes (False); True when written. content may be a function,
    called only when the file is not current."""
    if record.current(rel, key):
        return None
    data = content() if callable(content) else content
    found = write_new(docs_dir / rel, data)
    written = found is not None or write_if_changed(docs_dir / rel, data)
    record.note(rel, key, found)
    return written


def write_docs(
    docs_dir: Path,
    files: Mapping[str, bytes],
    record: WriteRecord | None = None,
    done: Mapping[str, bool | None] | None = None,
) -> WriteReport:
    """Write generated files into docs_dir: changed ones only; remove the ones no longer made.

    done: files this build generated that are already in place (written by the render
    workers: True written, False unchanged, None current by the record); they are listed
    and kept, not written here.
    """
    docs_dir.mkdir(parents=True, exist_ok=True)
    record = record or WriteRecord(None, docs_dir)
    done = done or {}
    previous = generated_files(docs_dir)
    generated = sorted({*files, *done, LEDGER_OF_GENERATED})
    # json.dumps(generated, indent=1), byte for byte, without the pure-Python encoder that
    # indenting takes (44,000 paths: 0.05 s).
    listing = ("[\n " + ",\n ".join(map(json.dumps, generated)) + "\n]\n").encode()
    wanted = {**files, LEDGER_OF_GENERATED: listing}
    outcome = dict(done)
    for rel in sorted(wanted):
        outcome[rel] = write_keyed(docs_dir, rel, content_key(wanted[rel]), wanted[rel], record)
    written = sorted(rel for rel, wrote in outcome.items() if wrote)
    removed = sorted(previous - set(generated))
    for rel in removed:
        path = docs_dir / rel
        if path.is_file():
            path.unlink()
        _remove_empty_parents(path.parent, docs_dir)
    record.save(generated)
    return WriteReport(tuple(written), len(outcome) - len(written), tuple(removed))


def generated_files(docs_dir: Path) -> set[str]:
    """The files in docs/ the last corpus build generated (paths relative to docs/)."""
    ledger = docs_dir / LEDGER_OF_GENERATED
    try:
        listed = json.loads(ledger.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    # Only relative paths inside docs/ are trusted from the file.
    return {
        rel
        for rel in listed
        if isinstance(rel, str) and not rel.startswith("/") and ".." not in rel.split("/")
    }


def write_if_changed(target: Path, content: bytes) -> bool:
    """Write a file unless it already holds these bytes; return whether it was written."""
    try:
        with open(target, "rb") as handle:
            if os.fstat(handle.fileno()).st_size == len(content) and handle.read() == content:
                return False
    except OSError:
        pass  # missing or unreadable: written
    write_atomic(target, content)
    return True


# The permission bits a new file gets from os.open(..., 0o644) under this process's umask;
# when the umask takes some away, they are set back explicitly (a published site is
# world-readable).
_UMASK = os.umask(0)
os.umask(_UMASK)


def write_new(target: Path, content: bytes) -> os.stat_result | None:
    """Write a file that does not exist yet, directly under its name (the folder is made
    if missing); return its stat, or None, writing nothing, when the file exists.

    Nothing can have linked or opened a file that did not exist, so a new one needs no
    temporary name and rename: a first build of 10,000 versions makes 40,000 files, and
    the rename nearly doubled the system time of making them (a script making 40,000 such
    files here: 0.63-0.73 s directly, 1.16-1.55 s with the rename). A build killed while
    writing leaves the file short, and unrecorded (WriteRecord), so the next build compares
    it and replaces it whole."""
    try:
        fd = _create(target)
    except FileExistsError:
        return None
    try:
        return _write_fd(fd, content)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def write_atomic(target: Path, content: bytes) -> os.stat_result:
    """Write a file so that a reader never sees it half-written (nor a build stopped
    while writing it: the old file stays whole); return its stat."""
    # A fixed temporary name per process, created exclusively: one system call less than
    # mkstemp's random names, and no chmod unless the umask asks for one.
    tmp = Path(f"{target.parent}/.tmp-{target.name}-{os.getpid()}")
    try:
        fd = _create(tmp)
    except FileExistsError:  # left by a build that was killed
        os.unlink(tmp)
        fd = _create(tmp)
    try:
        found = _write_fd(fd, content)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return found


_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _create(path: Path) -> int:
    """A descriptor of a new file, made exclusively (FileExistsError if it is there), its
    folder made when missing."""
    try:
        return os.open(path, _NEW, 0o644)
    except FileNotFoundError:  # a new folder
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, _NEW, 0o644)


def _write_fd(fd: int, content: bytes) -> os.stat_result:
    """Write all of content to a new file's descriptor, close it; return its stat (the
    write record's)."""
    # os.write, not a file object: io.open asks the descriptor whether it is a terminal,
    # where it stands and its block size (three system calls per file, 120,000 in a first
    # build of 10,000 versions).
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        if _UMASK & 0o644:
            os.fchmod(fd, 0o644)
        return os.fstat(fd)
    finally:
        os.close(fd)


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    """Remove folders left empty by a removal, up to (not including) stop."""
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


class _Collect(logging.Handler):
    """Collects MkDocs warnings so the summary can show them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass(frozen=True)
class SiteReport:
    """What building the site did: MkDocs' warnings, the search index, each part's time."""

    warnings: tuple[str, ...]
    search: SearchReport | None
    seconds: dict[str, float]
    pages_kept: int = 0  # pages whose HTML the last site gave (corpus_site/lastsite.py)


def build_site(
    mkdocs_file: Path,
    docs_dir: Path,
    site_dir: Path,
    search: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
    render_all: bool = False,
) -> SiteReport:
    """Run the real MkDocs build (on `workers` processes, corpus_site/sitebuild.py) into a
    temporary folder, index it for search (unless `search` is False), then swap it in
    place of the old site. progress, if given, shows both stages.

    cache_dir, if given, keeps what each generated page and the search index were made
    of, and the build keeps the old site's HTML of pages that nothing they are made of
    changed (corpus_site/lastsite.py), and its search index if Pagefind would be given
    the same pages (lastsite.IndexReuse); render_all keeps nothing."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    site_dir = site_dir.resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=site_dir.parent, prefix=f".{site_dir.name}-building-"))
    staging.chmod(0o755)  # mkdtemp makes it private; a published site is world-readable
    collector = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collector)
    seconds: dict[str, float] = {}
    searched = None
    reuse = index_reuse = None
    if cache_dir is not None:
        reuse = PageReuse(cache_dir, site_dir, enabled=not render_all)
        if search:
            index_reuse = IndexReuse(cache_dir, site_dir, enabled=not render_all)
    try:
        clock = time.perf_counter()
        config = load_config(
            config_file=str(mkdocs_file),
            docs_dir=str(docs_dir.resolve()),
            site_dir=str(staging),
        )
        sitebuild.build(config, workers, progress, reuse)
        seconds["mkdocs build"] = time.perf_counter() - clock
        if search:
            clock = time.perf_counter()
            # What Pagefind reads is cut into a folder that _swap deletes in the background
            # with the old site (deleting 10,000 folders takes 0.9 s here).
            scratch = retired_path(site_dir, "pages")
            searched = index_site(staging, progress, workers, scratch, index_reuse)
            seconds["search index"] = time.perf_counter() - clock
    except (MkDocsException, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(f"MkDocs build failed: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        logger.removeHandler(collector)
    _swap(staging, site_dir)
    if reuse is not None:
        reuse.save()
    if index_reuse is not None:
        index_reuse.save()
    kept = reuse.kept if reuse is not None else 0
    return SiteReport(tuple(collector.messages), searched, seconds, kept)


def retired_path(site_dir: Path, what: str = "site") -> Path:
    """A new name beside the site for a folder to delete: _swap deletes every folder so
    named in the background (also one that a stopped build left)."""
    return site_dir.with_name(f".{site_dir.name}-old-{what}-{os.getpid()}-{time.time_ns()}")


def _swap(staging: Path, site_dir: Path) -> None:
    """Put the new site in place of the old with two renames; the old one is removed after,
    by a process of its own."""
    retired = None
    if site_dir.exists():
        retired = retired_path(site_dir)
        os.replace(site_dir, retired)
    os.replace(staging, site_dir)
    # Old sites left by a build that was stopped before removing them.
    leftovers = sorted(site_dir.parent.glob(f".{site_dir.name}-old-*"))
    if leftovers:
        _remove_in_background(leftovers)


def _remove_in_background(folders: Sequence[Path]) -> None:
    """Delete folders without waiting for it. Deleting a published site's tens of thousands
    of files took longer than building it on a disk mounted with `discard` (measured:
    17 s for 4,400 files), and nothing waits for the old site to be gone."""
    code = "import shutil, sys\nfor f in sys.argv[1:]: shutil.rmtree(f, ignore_errors=True)"
    try:
        subprocess.Popen(
            [sys.executable, "-c", code, *map(str, folders)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives the end of this command
        )
    except OSError:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def read_ledger(path: Path, known: tuple[str, Ledger] | None = None) -> tuple[Ledger, str | None]:
    """The permalink ledger (an empty one when the site has never been published) and the
    SHA-256 of its file. known: (SHA-256, ledger) of a file read or written before, taken
    instead of parsing the file again when its bytes are those (14 MB at 10,000 versions:
    hashed in 10 ms, parsed in 0.2 s)."""
    if not path.is_file():
        return Ledger(), None
    try:
        data = path.read_bytes()
        digest = content_key(data)
        if known is not None and known[0] == digest:
            return known[1], digest
        return ledger_from_json(json.loads(data)), digest
    except (ValueError, OSError) as exc:
        raise LedgerError(
            [f"{path}: cannot read the permalink ledger ({exc}); restore it from version control"]
        ) from None


def write_ledger(path: Path, content: bytes) -> bool:
    """Write permalinks.json (ledger.ledger_json) if it changed; return whether it did."""
    return write_if_changed(path, content)


def keep_withdrawn_sources(
    entries: Sequence[VersionEntry], withdrawn_dir: Path, docs_dir: Path
) -> dict[str, bytes]:
    """The bytes of every withdrawn version whose source is still served.

    They come from withdrawn/<id>.txt (committed with the ledger) or, the first time, from
    the source.txt the previous build left in docs/, which is then copied to withdrawn/.
    """
    kept: dict[str, bytes] = {}
    missing: list[str] = []
    for entry in entries:
        if entry.source_removed:
            continue
        archived = withdrawn_dir / f"{entry.id}.txt"
        source = docs_dir / version_paths(entry.id)[-1]
        # Where builds before the flat layout of docs/ (paths.py) kept it.
        old_layout = docs_dir / "a" / entry.id / "source.txt"
        for candidate in (archived, source, old_layout):
            if candidate.is_file():
                data = candidate.read_bytes()
                if hashlib.sha256(data).hexdigest() == entry.sha256:
                    kept[entry.id] = data
                    if candidate != archived:
                        write_atomic(archived, data)
                    break
        else:
            missing.append(
                f"{entry.source_file}: version {entry.id} left the corpus and its bytes are not "
                f"kept ({archived} is missing), so /a/{entry.id}/source.txt cannot stay "
                f"downloadable. Restore the file to the corpus, restore {archived} from "
                f"version control, or remove the source on purpose: --remove-source "
                f'{entry.id} --reason "..."'
            )
    if missing:
        raise LedgerError(missing)
    return kept
