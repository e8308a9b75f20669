"""What a build keeps for the next one, beside the result cache: a rebuild starts from it.

The result cache (cache.py) keeps each result under the hash of its inputs, but a rebuild
that asked it for all of them would still load 10,000 versions to find that 9,999 did not
change. The build state keeps, from the last build, what each corpus file gave (found
again without reading the file while its size, times and inode stay the same: see
sources.file_stamp), the summaries of the versions, the pairs that grouped them, the
ledger, and the keys of the pages; each part is used only where its inputs are equal to
this build's, so a rebuild does per-version work only for what changed.

Kept in the cache folder as pickle files: state.pickle, the head, names the segments in
state-segments/ that hold the rest, each mapping of the state in 64 segments by key, so
that a build which changed a few entries writes a few segments (see save_state). Never
published; deleting it (or a program or settings change, which the state records) only
makes the next build read, group and key everything again.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .grouping import PairIndex
from .ledger import Ledger, LedgerParts
from .models import Problem, Summary
from .output import write_atomic
from .workers import cycle_collector_paused

# Changed whenever what the file holds changes shape (the code fingerprint in the settings
# covers the rest).
_MAGIC = b"corpus-site build state 2\n"


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
    # The segments it was loaded from or saved to: part -> (file, content).
    segments: dict[str, tuple[str, Any]] = field(default_factory=dict, repr=False)
    orders: dict[str, bytes] = field(default_factory=dict, repr=False)  # see _split


def load_state(path: Path, settings: str, freeze: bool = False) -> BuildState | None:
    """The state the last build left, if it was made with these settings. freeze: keep it
    out of the cycle collector (see workers.cycle_collector_paused)."""
    try:
        with cycle_collector_paused(freeze):
            return _load(path, settings)
    except Exception:  # missing, damaged or from another version of the program: none
        return None


def save_state(path: Path, state: BuildState, previous: BuildState | None = None) -> None:
    """Write the state for the next build: the segments that differ from those of the
    previous state (as load_state gave it), then the head that names them all, atomically:
    a build stopped while writing leaves the previous state whole, or none. Segments no
    head names any more are removed."""
    folder = _segment_folder(path)
    folder.mkdir(parents=True, exist_ok=True)
    known = previous.segments if previous is not None else {}
    known_orders = previous.orders if previous is not None else {}
    known_pieces = _pieces(previous) if previous is not None else {}
    segments: dict[str, tuple[str, Any]] = {}
    orders: dict[str, bytes] = {}
    with cycle_collector_paused():
        for name, value in _pieces(state).items():
            if type(value) is dict:
                order = known_orders.get(name)
                old = known_pieces.get(name)
                if order is not None and type(old) is dict and list(old) == list(value):
                    # The same keys in the same order (the usual rebuild): only the segments
                    # of the changed values are made again.
                    changed = {
                        order[n]
                        for n, (was, now) in enumerate(
                            zip(old.values(), value.values(), strict=True)
                        )
                        if was is not now
                    }
                    parts = {
                        f"{name}.{n}": {k: value[k] for k in known[f"{name}.{n}"][1]}
                        for n in changed
                    }
                    segments.update((p, known[p]) for p in _shard_names(name) if p not in parts)
                else:
                    order, shards = _split(value)
                    parts = {f"{name}.{n}": shard for n, shard in enumerate(shards)}
                orders[name] = order
            else:
                parts = {name: value}
            for part, content in parts.items():
                was = known.get(part)
                if was is not None and _same(was[1], content):
                    segments[part] = was
                elif type(content) is dict and not content:
                    segments[part] = ("", content)  # none written
                else:
                    file = f"{part}.{os.urandom(6).hex()}.pickle"
                    write_atomic(folder / file, pickle.dumps(content, pickle.HIGHEST_PROTOCOL))
                    segments[part] = (file, content)
        head = {
            "settings": state.settings,
            "ledger_sha256": state.ledger_sha256,
            "ledger": state.ledger is not None,
            "ledger_parts": state.ledger_parts is not None,
            "orders": orders,
            "segments": {part: file for part, (file, _) in segments.items()},
        }
        write_atomic(path, _MAGIC + pickle.dumps(head, pickle.HIGHEST_PROTOCOL))
    state.segments, state.orders = segments, orders
    named = {file for file, _ in segments.values()}
    for entry in os.scandir(folder):
        if entry.name not in named:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


# Segments per mapping of the state. A one-file change touches a few entries of each (its
# version, its siblings, its group, the hub pages that list it): with 64 segments the next
# save writes a few of them, not the whole state (a 10,000-version state is 50 MB, 0.3 s to
# pickle whole).
_SHARDS = 64


def _shard_names(name: str) -> list[str]:
    return [f"{name}.{n}" for n in range(_SHARDS)]


def _segment_folder(path: Path) -> Path:
    return path.with_name(path.stem + "-segments")


def _pieces(state: BuildState) -> dict[str, Any]:
    """The parts of a state that are saved as segments: mappings are split further."""
    pieces: dict[str, Any] = {
        "files": state.files,
        "marked": state.marked,
        "pairs": state.pairs,
        "comparisons": state.comparisons,
        "pages": state.pages,
        "group_pages": state.group_pages,
        "corpus_parts": state.corpus_parts,
        "cache_keys": state.cache_keys,
    }
    if state.ledger is not None:
        pieces["ledger.versions"] = dict(state.ledger.versions)
        pieces["ledger.groups"] = dict(state.ledger.groups)
    if state.ledger_parts is not None:
        pieces["ledger_parts.versions"], pieces["ledger_parts.groups"] = state.ledger_parts
    return pieces


def _load(path: Path, settings: str) -> BuildState | None:
    with open(path, "rb") as handle:
        if handle.read(len(_MAGIC)) != _MAGIC:
            return None
        head = pickle.load(handle)
    if head["settings"] != settings:
        return None
    folder = _segment_folder(path)
    segments: dict[str, tuple[str, Any]] = {}
    for part, file in head["segments"].items():
        if not file:
            segments[part] = (file, {})
            continue
        with open(folder / file, "rb") as handle:
            segments[part] = (file, pickle.load(handle))
    pieces: dict[str, Any] = {}
    for part, (_, content) in segments.items():
        name, _, shard = part.rpartition(".")
        if name in head["orders"] and shard.isdigit():
            continue
        pieces[part] = content
    for name, order in head["orders"].items():
        shards = [segments[part][1] for part in _shard_names(name)]
        pieces[name] = _join(order, shards)
    ledger = ledger_parts = None
    if head["ledger"]:
        ledger = Ledger(pieces.pop("ledger.versions"), pieces.pop("ledger.groups"))
    if head["ledger_parts"]:
        ledger_parts = (pieces.pop("ledger_parts.versions"), pieces.pop("ledger_parts.groups"))
    return BuildState(
        settings=settings,
        ledger_sha256=head["ledger_sha256"],
        ledger=ledger,
        ledger_parts=ledger_parts,
        segments=segments,
        orders=head["orders"],
        **pieces,
    )


def _shard(key: Any) -> int:
    """The segment of a key: the same in every process (str hashes are not)."""
    if isinstance(key, str):
        return zlib.crc32(key.encode()) % _SHARDS
    if isinstance(key, tuple) and key and isinstance(key[-1], bytes) and key[-1]:
        return key[-1][0] % _SHARDS  # render.CorpusParts: (kind, digest)
    return zlib.crc32(repr(key).encode()) % _SHARDS


def _split(mapping: dict[Any, Any]) -> tuple[bytes, list[dict[Any, Any]]]:
    """The mapping in _SHARDS parts, and the part of each key in order (_join's input)."""
    order = bytes(map(_shard, mapping))
    shards: list[dict[Any, Any]] = [{} for _ in range(_SHARDS)]
    for n, (key, value) in zip(order, mapping.items(), strict=True):
        shards[n][key] = value
    return order, shards


def _join(order: bytes, shards: Sequence[dict[Any, Any]]) -> dict[Any, Any]:
    """The mapping that _split split, in its order."""
    items = [iter(shard.items()) for shard in shards]
    return dict(next(items[n]) for n in order)


def same_values(old: Mapping[Any, Any], new: Mapping[Any, Any]) -> bool:
    """Whether two mappings hold the same keys, with the very same values."""
    return len(old) == len(new) and all(old.get(k, _NONE) is v for k, v in new.items())


def _same(old: Any, new: Any) -> bool:
    """Whether a segment holds what it held: the very same values."""
    if type(old) is dict and type(new) is dict:
        return same_values(old, new)
    return old is new


_NONE = object()
