"""Results of earlier builds, kept by content hash, so a rebuild redoes only what changed.

A key is the SHA-256 of everything a result depends on: its inputs (given by the caller,
as text that changes whenever they do) and the code that computes it (every module and
template of this package). Change a file, a setting or the program, and the key changes;
nothing is ever invalidated by hand. Entries are pickled and zlib-compressed, one file
each, under .corpus-cache/<kind>/. Entries no build used are removed at the end of the
build that did not use them, so the cache holds one build's worth.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import zlib
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
    """A folder of results by key. get/put are safe to call from forked workers."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder  # None: a cache that keeps nothing (e.g. a strict dry run)

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.pickle.z"

    def get(self, key: str) -> Any | None:
        """The result stored under key, or None (also for an unreadable entry)."""
        if self.folder is None:
            return None
        try:
            return pickle.loads(zlib.decompress(self._path(key).read_bytes()))
        except FileNotFoundError:
            return None
        except (OSError, zlib.error, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            return None  # damaged or from an incompatible program: computed again

    def put(self, key: str, value: Any) -> None:
        """Store a result (atomically: a killed build leaves no half-written entry)."""
        if self.folder is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_bytes(zlib.compress(pickle.dumps(value, pickle.HIGHEST_PROTOCOL), 1))
        os.replace(temporary, path)

    def keep_only(self, keys: set[str]) -> int:
        """Remove every entry not in keys (this build's); return how many were removed."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.glob("*/*"):
            if path.name.split(".", 1)[0] not in keys:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
