"""What a build keeps for the next one, beside the result cache: a rebuild starts from it.

The result cache (cache.py) keeps each result under the hash of its inputs, but a rebuild
that asked it for all of them would still load 10,000 versions to find that 9,999 did not
change. The build state keeps, from the last build, what each corpus file gave (found
again without reading the file while its size, times and inode stay the same: see
sources.file_stamp), the summaries of the versions, the pairs that grouped them, the
ledger, and the keys of the pages; each part is used only where its inputs are equal to
this build's, so a rebuild does per-version work only for what changed.

One pickle file in the cache folder, written whole after a build that changed something.
It is never published, and deleting it (or a program or settings change, which the state
records) only makes the next build read, group and key everything again.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .grouping import PairIndex
from .ledger import Ledger, LedgerParts
from .models import Problem, Summary
from .workers import cycle_collector_paused

# Changed whenever what the file holds changes shape (the code fingerprint in the settings
# covers the rest).
_MAGIC = b"corpus-site build state 1\n"


class FileRecord(NamedTuple):
    """What reading one corpus file gave, as the next build finds it again."""

    stamp: tuple[int, ...] | None  # sources.file_stamp when it read the file; None: read again
    key: str | None  # cache key of its reading; None: not cached (it could not be read)
    order: int
    ident: tuple[str, str, str] | None  # (ID, SHA-256, ID origin) of its source, if it has one
    summary: Summary | None  # of its version as read (before recurring boilerplate is marked)
    problems: tuple[Problem, ...]  # found while reading it
    failure: Problem | None  # why it gave no version although it has a source
    fingerprint: str | None  # cache key of its version's grouping fingerprint


@dataclass
class BuildState:
    """The parts of the last build that the next one starts from (see the module docstring)."""

    settings: str  # what the parts were made with: the program and the build's settings
    files: dict[str, FileRecord] = field(default_factory=dict)  # corpus path -> its reading
    # Summaries of versions marked by recurring boilerplate: marks key -> marked summary.
    marked: dict[str, Summary] = field(default_factory=dict)
    pairs: PairIndex | None = None
    ledger_sha256: str | None = None  # of permalinks.json as this build left it
    ledger: Ledger | None = None  # its contents
    ledger_parts: tuple[LedgerParts, LedgerParts] | None = None  # its encoded entries
    # Keys of what the pages show, by what they were made from: ID -> (inputs, keys...).
    comparisons: dict[str, tuple[Any, str]] = field(default_factory=dict)
    pages: dict[str, tuple[Any, str, str]] = field(default_factory=dict)
    group_pages: dict[str, tuple[Any, str]] = field(default_factory=dict)
    # Rendered parts of the lists and exports (render.CorpusParts), by what they show.
    corpus_parts: Any = None
    cache_keys: frozenset[str] = frozenset()  # result-cache entries the last build kept


def load_state(path: Path, settings: str) -> BuildState | None:
    """The state the last build left, if it was made with these settings."""
    try:
        with open(path, "rb") as handle, cycle_collector_paused():
            if handle.read(len(_MAGIC)) != _MAGIC:
                return None
            state = pickle.load(handle)
    except Exception:  # missing, damaged or from another version of the program: none
        return None
    if not isinstance(state, BuildState) or state.settings != settings:
        return None
    return state


def save_state(path: Path, state: BuildState) -> None:
    """Write the state for the next build (atomically: a build stopped while writing it
    leaves the previous one, or none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle, cycle_collector_paused():
            handle.write(_MAGIC)
            pickle.dump(state, handle, pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
