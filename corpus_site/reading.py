"""Stages 1 and 2, read → normalize, and what a rebuild keeps of them.

A build reads every corpus file once in this process (its bytes make its cache key) and
parses and normalizes the files no earlier build read in worker processes; a rebuild
that has the last build's state (state.py) does not even read a file whose stamp is the
one recorded for it, and holds its version as a summary, loaded whole (VersionLoader)
only when a page needs it. Also the fingerprints of stage 3, which are cached by the
reading they are made from.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .cache import ResultCache, cache_key, cached_map
from .config import Config
from .errors import CorpusError
from .grouping import Fingerprint, GroupingSettings, ShingleCache, fingerprints
from .models import Problem, Source, Summary, Version
from .normalize import normalize, summarize
from .sources import (
    Sidecar,
    drop_duplicate_ids,
    file_stamp,
    list_corpus,
    manifest_problems,
    parse_source,
    read_bytes,
    read_sidecar,
)
from .state import FileRecord
from .workers import Progress


class StaleState(Exception):
    """The build state promised a result that the corpus or the cache no longer gives."""


@dataclass
class Reading:
    """The corpus as one build read it."""

    files: list[str]  # every corpus file, in corpus order
    records: list[FileRecord]  # what each gave, in the same order
    summaries: list[Summary]  # of the published versions as read, in corpus order
    problems: list[Problem]
    read_keys: dict[str, str]  # version ID -> cache key of its reading
    fresh: dict[str, Version]  # versions this build holds whole, as read, by ID


def read_and_normalize(
    config: Config, progress: Progress | None = None, cache: ResultCache | None = None
) -> tuple[list[str], list[Version], list[Problem], dict[str, str]]:
    """Stages 1 and 2: the corpus files, their versions, the problems found, and the cache
    key of each version's reading (by ID). Every file is read (a build keeps most of them
    as summaries instead: read_corpus)."""
    cache = cache or ResultCache(None)
    reading = read_corpus(config, {}, cache, progress)
    versions = [reading.fresh[s.id] for s in reading.summaries]
    return reading.files, versions, reading.problems, reading.read_keys


def read_corpus(
    config: Config,
    known: Mapping[str, FileRecord],
    cache: ResultCache,
    progress: Progress | None,
) -> Reading:
    """Read the corpus: a file whose stamp is the one known for it (the last build's
    record) is not read again; the others are read once in this process (their bytes make
    their cache key), taken from the cache when a build read the same bytes, metadata and
    settings, else parsed and normalized in worker processes, which inherit the bytes."""
    listing = list_corpus(config.corpus_dir)
    files = listing.files
    problems = manifest_problems(config.manifest, files)
    settings = read_settings(config)
    now = time.time_ns()
    records: list[FileRecord | None] = [None] * len(files)
    todo: list[_Gathered] = []
    stamps: dict[int, tuple[int, ...] | None] = {}
    for order, rel in enumerate(files):
        listed = listing.may_have_sidecar(rel)
        stamp = file_stamp(config.corpus_dir, rel, now, listed)
        last = known.get(rel)
        if (
            last is not None
            and stamp is not None
            and last.stamp == stamp
            and last.order == order
            and last.key is not None
        ):
            records[order] = last
            continue
        item = _gather(config, rel, order, settings, listed)
        if item.problem is not None:
            records[order] = FileRecord(None, None, order, None, None, (item.problem,), None, None)
        elif item.key is not None and last is not None and last.key == item.key:
            records[order] = last._replace(stamp=stamp)  # touched, not changed
        else:
            todo.append(item)
            stamps[order] = stamp
    results, _ = cached_map(
        cache,
        lambda item: _read_file(config, item),
        todo,
        [g.key for g in todo],
        config.workers,
        progress,
        "Reading files",
        chunksize=32,
        # Compressed (the default): the 10,000-version benchmark's 93 MB of read versions
        # take 21 MB, for 0.19 s of the workers' CPU (0.10 s to decompress them all).
    )
    read: dict[int, Version] = {}  # by corpus order: two files may claim one ID
    grouping = repr(config.grouping)
    for item, (source, outcome, file_problems, summary) in zip(todo, results, strict=True):
        failure = outcome if isinstance(outcome, Problem) else None
        if isinstance(outcome, Version):
            read[item.order] = outcome
        records[item.order] = FileRecord(
            stamp=stamps[item.order] if item.key else None,
            key=item.key,
            order=item.order,
            ident=(source.id, source.sha256, source.id_origin) if source else None,
            summary=summary,
            problems=tuple(file_problems),
            failure=failure,
            fingerprint=fingerprint_key(grouping, item.key) if summary and item.key else None,
        )
    done = [r for r in records if r is not None]
    assert len(done) == len(files), "every corpus file has its record"
    for record in done:
        problems.extend(record.problems)
    kept, duplicate_problems = drop_duplicate_ids(
        [_Ident(files[r.order], *r.ident, r.order) for r in done if r.ident is not None]
    )
    problems.extend(duplicate_problems)
    summaries: list[Summary] = []
    read_keys: dict[str, str] = {}
    fresh: dict[str, Version] = {}
    for ident in kept:
        record = done[ident.order]
        if record.summary is not None:
            summaries.append(record.summary)
            read_keys[ident.id] = record.key or ""
            if ident.order in read:
                fresh[ident.id] = read[ident.order]
        elif record.failure is not None:
            problems.append(record.failure)
    return Reading(files, done, summaries, problems, read_keys, fresh)


class _Ident(NamedTuple):
    """What drop_duplicate_ids needs of a file's source."""

    path: str
    id: str
    sha256: str
    id_origin: str
    order: int


def read_settings(config: Config) -> str:
    """Everything besides a file's own bytes that its reading depends on."""
    return repr((config.manifest, config.limits, config.boilerplate_patterns))


def fingerprint_key(grouping: str, read_key: str) -> str:
    """The cache key of a version's fingerprint: its reading and the grouping settings."""
    return cache_key("fingerprint", grouping, read_key)


# One file's reading: its source (None when it cannot be read), its version or the error
# that kept it from being normalized, the problems found while reading, and the summary of
# its version.
_FileResult = tuple[Source | None, Version | Problem | None, list[Problem], Summary | None]


@dataclass(frozen=True)
class _Gathered:
    """One corpus file as this process read it, before parsing."""

    rel: str
    order: int
    raw: bytes | None  # None when it cannot be read (problem says why)
    sidecar: Sidecar
    key: str | None  # the cache key of its reading; None: never cached
    problem: Problem | None = None


def _gather(config: Config, rel: str, order: int, settings: str, listed: bool = True) -> _Gathered:
    """Read a file and its sidecar (not looked for when `listed` is False: see
    CorpusListing.may_have_sidecar); its cache key is where it is, what it is (bytes,
    sidecar, link target) and the settings."""
    try:
        raw = read_bytes(config.corpus_dir, rel, config.limits)
    except CorpusError as exc:
        return _Gathered(rel, order, None, None, None, Problem(rel, "error", exc.code, exc.message))
    sidecar = read_sidecar(config.corpus_dir, rel) if listed else None
    path = os.path.join(config.corpus_dir, rel)
    target = os.path.realpath(path) if os.path.islink(path) else ""
    key = None
    if not isinstance(sidecar, OSError):  # an unreadable sidecar: its error is found again
        key = cache_key("read", settings, f"{rel}\0{order}\0{target}", raw, sidecar or b"")
    return _Gathered(rel, order, raw, sidecar, key)


def _read_file(config: Config, item: _Gathered) -> _FileResult:
    assert item.raw is not None, "only readable files are parsed"
    source, problems = parse_source(
        item.rel, item.order, item.raw, item.sidecar, config.manifest, config.limits
    )
    if source is None:
        return None, None, problems, None
    try:
        version = normalize(source, config.boilerplate_patterns, config.limits.max_paragraphs)
    except CorpusError as exc:
        return source, Problem(exc.file, "error", exc.code, exc.message), problems, None
    return source, version, problems, summarize(version, item.key)


class VersionLoader:
    """Whole versions as read (before recurring boilerplate is marked), by ID: those this
    build read, the others loaded from the cache (or read again) when a page needs them."""

    def __init__(self, config: Config, reading: Reading, cache: ResultCache) -> None:
        self.config = config
        self.reading = reading
        self.cache = cache
        self.record_of = {s.id: reading.records[s.order] for s in reading.summaries}

    def load(self, ids: Iterable[str]) -> dict[str, Version]:
        """The versions of these IDs."""
        ids = list(ids)
        fresh = self.reading.fresh
        wanted = [vid for vid in dict.fromkeys(ids) if vid not in fresh]
        found = self.cache.get_many([self.record_of[vid].key for vid in wanted])
        for vid in wanted:
            record = self.record_of[vid]
            result = found.get(record.key or "")
            if result is None:
                result = self._read_again(vid, record)
            if not isinstance(result[1], Version) or result[1].id != vid:
                raise StaleState(f"{vid}: the cache holds another reading")
            fresh[vid] = result[1]
        return {vid: fresh[vid] for vid in ids}

    def _read_again(self, vid: str, record: FileRecord) -> _FileResult:
        """A version whose reading the cache lost: read from the corpus, which must still
        hold what the record says (else the state was wrong about the file)."""
        rel = self.reading.files[record.order]
        item = _gather(self.config, rel, record.order, read_settings(self.config))
        if item.key is None or item.key != record.key:
            raise StaleState(f"{rel} changed although its stamp did not")
        result = _read_file(self.config, item)
        self.cache.put(item.key, result)
        return result


def fingerprint_versions(
    versions: Sequence[Version],
    read_keys: Mapping[str, str],
    settings: GroupingSettings,
    cache: ResultCache | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Fingerprint]:
    """What grouping needs of each version's text (shingles, MinHash signature), made in
    worker processes and cached by the version's reading: a rebuild makes only those of
    the files that changed."""
    cache = cache or ResultCache(None)
    grouping = repr(settings)
    keys = [fingerprint_key(grouping, read_keys.get(v.id) or repr(v)) for v in versions]
    shared = ShingleCache()  # each worker fills its own copy: stories share their words
    prints, _ = cached_map(
        cache,
        lambda version: fingerprints([version], settings, shared)[0],
        versions,
        keys,
        workers,
        progress,
        "Fingerprinting texts",
        chunksize=64,
        compress=False,  # MinHash signatures do not compress (33.3 MB -> 33.4 MB)
    )
    return {v.id: p for v, p in zip(versions, prints, strict=True)}
