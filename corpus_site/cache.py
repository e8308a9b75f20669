"""Results of earlier builds, kept by content hash, so a rebuild redoes only what changed.

A key is the SHA-256 of everything a result depends on: its inputs (given by the caller,
as text that changes whenever they do) and the code that computes it (every module and
template of this package). Change a file, a setting or the program, and the key changes;
nothing is ever invalidated by hand. Results are pickled and Zstandard-compressed in one SQLite
file (thousands of small files are slow to create on some disks). Only the parent process
reads and writes it: worker processes get the items whose results are missing and send
back what they computed. At the end of a build the entries it did not use are dropped, so
the cache holds one build's worth.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import zstandard

from .workers import Progress, forks, ordered_map

T = TypeVar("T")
R = TypeVar("R")

PACKAGE = Path(__file__).resolve().parent


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of this package's modules and templates: results depend on the code too."""
    digest = hashlib.sha256()
    for path in sorted([*PACKAGE.glob("*.py"), *PACKAGE.glob("templates/*")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# memo(kind, material, make): what make() returns, or what it returned in an earlier build
# for equal material (plain data: its repr names it); render.CorpusParts.part is one.
Memo = Callable[[str, Any, Callable[[], Any]], Any]


def no_memo(kind: str, material: Any, make: Callable[[], R]) -> R:
    """The Memo that keeps nothing."""
    return make()


def cache_key(*parts: str | bytes) -> str:
    """The key of a result: its inputs (each part separated) plus the code fingerprint."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


class ResultCache:
    """Results by key in one SQLite file, read and written by the parent process only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: a cache that keeps nothing
        self._owner = os.getpid()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self.used: set[str] = set()  # every key asked for or stored by this build
        self.stored: set[str] = set()  # every key stored by this build

    def _connect(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._connection is None or self._pid != os.getpid():
            # A forked worker never uses its parent's connection: it opens its own.
            try:
                connection = _open(self.path)
            except sqlite3.DatabaseError:
                if os.getpid() != self._owner:
                    return None
                _remove(self.path)  # not a cache we can read: start again
                connection = _open(self.path)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def get_many(self, keys: Sequence[str | None]) -> dict[str, Any]:
        """{key: result} of the keys stored (None keys are never stored)."""
        found: dict[str, Any] = {}
        for key, blob in self.get_blobs(keys).items():
            with contextlib.suppress(*_DAMAGED):  # a damaged entry is computed again
                found[key] = decode(blob)
        return found

    def get_blobs(self, keys: Sequence[str | None]) -> dict[str, bytes]:
        """{key: the result as stored} of the keys stored, for results decoded where they
        are used (used_map decodes them in its workers)."""
        connection = self._connect()
        wanted = sorted({k for k in keys if k})
        self.used.update(wanted)
        found: dict[str, bytes] = {}
        if connection is None:
            return found
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            try:
                rows = connection.execute(
                    f"SELECT key, value FROM results WHERE key IN ({marks})", batch
                ).fetchall()
            except sqlite3.DatabaseError:
                return found
            found.update(rows)
        return found

    def put(self, key: str, value: Any, compress: bool = True) -> None:
        """Store a result (committed by keep_used, at the end of the build)."""
        if self.path is not None:
            self.put_blob(key, encode(value, compress))

    def put_blob(self, key: str, blob: bytes) -> None:
        """Store a result already encoded (by encode(), in a worker process)."""
        assert os.getpid() == self._owner, "only the parent process writes the cache"
        connection = self._connect()
        if connection is None:
            return
        self.used.add(key)
        self.stored.add(key)
        try:
            connection.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, blob))
        except sqlite3.DatabaseError:
            # Damaged past what opening it shows (a file overwritten beside its write-ahead
            # log): start a new cache, which this build fills.
            self._connection = None
            connection.close()
            _remove(self.path)
            fresh = self._connect()
            if fresh is not None:
                fresh.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, blob))

    def keep(self, keys: Iterable[str]) -> None:
        """Keep these entries past keep_used although this build did not load them (results
        of unchanged pages, which were not needed)."""
        self.used.update(keys)

    def keep_used(self, previous: frozenset[str] | None = None) -> frozenset[str]:
        """Commit; drop every entry this build did not use; return the keys of the entries
        the cache now holds.

        previous: what keep_used returned after the last build, when this build knows it.
        Then the entries to drop are those that build kept and this one did not use, by
        name, and the whole table is swept only when it does not hold what that accounts
        for (entries left by a build stopped before this step): 20,000 keys cost 0.1 s to
        sweep, a few to drop by name almost nothing."""
        connection = self._connect()
        if connection is None:
            return frozenset()
        try:
            held = self._sweep(connection, previous)
        except sqlite3.DatabaseError:
            # Damaged past what opening it shows: the next build starts a new cache.
            self._connection = None
            connection.close()
            _remove(self.path)
            return frozenset()
        self.close()
        return held

    def _sweep(
        self, connection: sqlite3.Connection, previous: frozenset[str] | None
    ) -> frozenset[str]:
        held: frozenset[str] | None = None
        if previous is not None:
            gone = sorted(previous - self.used)
            for start in range(0, len(gone), 500):
                batch = gone[start : start + 500]
                marks = ",".join("?" * len(batch))
                connection.execute(f"DELETE FROM results WHERE key IN ({marks})", batch)
            held = (previous & self.used) | self.stored
            (count,) = connection.execute("SELECT count(*) FROM results").fetchone()
            if count != len(held):
                held = None
        if held is None:
            connection.execute("CREATE TEMP TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY)")
            connection.execute("DELETE FROM used")
            connection.executemany(
                "INSERT OR IGNORE INTO used VALUES (?)", ((k,) for k in self.used)
            )
            connection.execute("DELETE FROM results WHERE key NOT IN (SELECT key FROM used)")
            held = frozenset(k for (k,) in connection.execute("SELECT key FROM results"))
        connection.commit()
        connection.execute("PRAGMA incremental_vacuum")
        return held

    def close(self) -> None:
        """Commit and close. Call it before forking workers: an SQLite connection must not
        cross a fork (the workers open their own)."""
        if self._connection is not None and self._pid == os.getpid():
            self._connection.commit()
            self._connection.close()
        self._connection = None

    def keys(self) -> set[str]:
        """Every key stored (for tests and the benchmark)."""
        connection = self._connect()
        if connection is None:
            return set()
        return {k for (k,) in connection.execute("SELECT key FROM results")}


def encode(value: Any, compress: bool = True) -> bytes:
    """A result as stored: pickled, and Zstandard-compressed unless compress is False."""
    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    return b"s" + _COMPRESSOR.compress(data) if compress else b"p" + data


def decode(blob: bytes) -> Any:
    """The result that encode() stored."""
    kind, data = blob[:1], memoryview(blob)[1:]
    if kind == b"s":
        return pickle.loads(_DECOMPRESSOR.decompress(data))
    if kind == b"p":
        return pickle.loads(data)
    raise ValueError("not a cache entry")


# What decode() raises for an entry that is damaged, or was stored by other code.
_DAMAGED = (
    zstandard.ZstdError,
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    TypeError,
    ValueError,
    IndexError,
    KeyError,
    ImportError,
)

# Zstandard at level 1, not zlib: the 2,713 comparisons of the 10,000-version benchmark
# (150 MB pickled) are compressed in 0.33 s and read back in 0.21 s CPU, against zlib's
# 0.92 s and 0.43 s, and take 6% less room. One compressor and one decompressor, reused:
# the build calls them from one thread per process, and a forked worker has its own copy.
_COMPRESSOR = zstandard.ZstdCompressor(level=1)
_DECOMPRESSOR = zstandard.ZstdDecompressor()


def _remove(path: Path | None) -> None:
    """Delete a cache file with its write-ahead log and shared-memory index."""
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=60)
    # Pages of 16 KiB, not 4 KiB: most entries are 2 to 60 KB, and a first build of
    # 10,000 versions writes 160 MB (a quarter of the reads and writes). Space freed by dropped
    # entries is given back. Both take effect only before the table is first made (a cache
    # made before keeps its pages), and page_size only before auto_vacuum.
    connection.execute("PRAGMA page_size=16384")
    connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
    # Write-ahead log: a reader never waits for the writer.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB)")
    return connection


def cached_map(
    cache: ResultCache,
    compute: Callable[[T], R],
    items: Sequence[T],
    keys: Sequence[str | None],
    workers: int | None = None,
    progress: Progress | None = None,
    what: str = "",
    chunksize: int = 16,
    compress: bool = True,
) -> tuple[list[R], int]:
    """compute(item) for every item, in input order, and how many were computed.

    An item whose key is in the cache is not computed: its result is loaded here, in the
    parent. The others are computed in worker processes and stored. A None key means "do
    not cache" (e.g. a file that cannot be read: its error is found again next time).
    Workers send their results encoded as the cache stores them, so the parent stores the
    bytes it receives instead of pickling (and compressing) each result again.
    """
    found = cache.get_many(keys)
    results: list[Any] = [found.get(k) if k else None for k in keys]
    todo = [i for i, k in enumerate(keys) if not k or k not in found]
    cache.close()  # the workers open their own connection
    parallel = forks(len(todo), workers)
    if parallel:
        encoded: Iterable[Any] = ordered_map(
            lambda i: encode(compute(items[i]), compress), todo, workers, chunksize
        )
    else:
        encoded = (compute(items[i]) for i in todo)
    if progress:
        encoded = progress(encoded, len(todo), what)
    for index, value in zip(todo, encoded, strict=True):
        key = keys[index]
        if parallel:
            if key:
                cache.put_blob(key, value)
            value = decode(value)
        elif key:
            cache.put(key, value, compress)
        results[index] = value
    return results, len(todo)


_UNREAD = object()  # used_map: no result decoded from the cache


def used_map(
    cache: ResultCache,
    compute: Callable[[T], R],
    use: Callable[[T, R], Any],
    items: Sequence[T],
    keys: Sequence[str | None],
    workers: int | None = None,
    progress: Progress | None = None,
    what: str = "",
    chunksize: int = 16,
    meanwhile: Callable[[], Any] | None = None,
) -> list[Any]:
    """use(item, result) for every item, in input order, in worker processes, where result
    is what the cache holds under the item's key or else compute(item).

    For results that only `use` needs, unlike cached_map's: they never travel whole to the
    parent. A stored one is decoded in the worker that uses it (a damaged one is computed
    again); a computed one comes back encoded beside what `use` made, for the parent to
    store. A None key means "do not cache".

    meanwhile() runs here once the workers are busy (after the first result): work of the
    parent's own that would otherwise wait for the map to end, with one core idle."""
    stored = cache.get_blobs(keys)
    cache.close()  # the workers open their own connection

    def work(index: int) -> tuple[bytes | None, Any]:
        item, key, made = items[index], keys[index], None
        result: Any = _UNREAD
        if key in stored:
            with contextlib.suppress(*_DAMAGED):
                result = decode(stored[key])
        if result is _UNREAD:
            result = compute(item)
            made = encode(result) if key else None
        return made, use(item, result)

    done: Iterable[tuple[bytes | None, Any]] = ordered_map(
        work, range(len(items)), workers, chunksize
    )
    if progress:
        done = progress(done, len(items), what)
    out = []
    for key, (made, used) in zip(keys, done, strict=True):
        if meanwhile is not None:
            meanwhile()
            meanwhile = None
        if key is not None and made is not None:
            cache.put_blob(key, made)
        out.append(used)
    if meanwhile is not None:  # no items
        meanwhile()
    return out
