"""Results of earlier builds, kept by content hash, so a rebuild redoes only what changed.

A key is the SHA-256 of everything a result depends on: its inputs (given by the caller,
as text that changes whenever they do) and the code that computes it (every module and
template of this package). Change a file, a setting or the program, and the key changes;
nothing is ever invalidated by hand. Results are pickled and zlib-compressed in one SQLite
file (thousands of small files are slow to create on some disks). Worker processes only
read it; the parent process writes what they computed, in one transaction, and at the end
of a build drops the entries that build did not use, so the cache holds one build's worth.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sqlite3
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of this package's modules and templates: results depend on the code too."""
    digest = hashlib.sha256()
    for path in sorted([*PACKAGE.glob("*.py"), *PACKAGE.glob("templates/*")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(*parts: str | bytes) -> str:
    """The key of a result: its inputs (each part separated) plus the code fingerprint."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


class ResultCache:
    """Results by key in one SQLite file; get() from any process, put() from the parent."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: a cache that keeps nothing
        self._owner = os.getpid()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

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
                self.path.unlink(missing_ok=True)  # not a cache we can read: start again
                connection = _open(self.path)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def get(self, key: str) -> Any | None:
        """The result stored under key, or None (also for an unreadable entry)."""
        connection = self._connect()
        if connection is None:
            return None
        try:
            row = connection.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
            return None if row is None else pickle.loads(zlib.decompress(row[0]))
        except (sqlite3.DatabaseError, zlib.error, pickle.UnpicklingError, EOFError):
            return None  # damaged or from an incompatible program: computed again
        except (AttributeError, TypeError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        """Store a result (committed by keep_only, at the end of the build)."""
        assert os.getpid() == self._owner, "only the parent process writes the cache"
        connection = self._connect()
        if connection is None:
            return
        blob = zlib.compress(pickle.dumps(value, pickle.HIGHEST_PROTOCOL), 1)
        connection.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, blob))

    def keep_only(self, keys: Iterable[str]) -> None:
        """Commit; drop every entry this build did not use."""
        connection = self._connect()
        if connection is None:
            return
        connection.execute("CREATE TEMP TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY)")
        connection.execute("DELETE FROM used")
        connection.executemany("INSERT OR IGNORE INTO used VALUES (?)", ((k,) for k in keys))
        connection.execute("DELETE FROM results WHERE key NOT IN (SELECT key FROM used)")
        self.close()

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


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=60)
    # Write-ahead log: workers read while the parent writes, neither waits for the other.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB)")
    return connection
