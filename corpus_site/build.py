"""The orchestrator: the pipeline's stages called in order, giving a report.

read → normalize → group → compare → render → write docs/ → MkDocs build.
First gather and compute everything, then write; a strict build that finds a problem
writes nothing.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .cache import ResultCache, cache_key, cached_map
from .cite import format_all
from .compare import compare_groups
from .config import Config
from .errors import CorpusError, LedgerError
from .grouping import Fingerprint, GroupingSettings, ShingleCache, fingerprints, group_versions
from .ledger import reconcile
from .models import Group, Problem, Source, Version
from .normalize import ShownTitle, mark_recurring, normalize, shown_titles
from .output import (
    WriteRecord,
    WriteReport,
    build_site,
    keep_withdrawn_sources,
    read_cache,
    read_ledger,
    write_cache,
    write_docs,
    write_keyed,
    write_ledger,
)
from .render import (
    SiteInput,
    citation_items,
    corpus_files,
    group_file,
    group_keys,
    group_path,
    ledger_metadata,
    page_keys,
    problems_by_file,
    version_files,
    version_paths,
)
from .sources import (
    Sidecar,
    drop_duplicate_ids,
    list_corpus_files,
    manifest_problems,
    parse_source,
    read_bytes,
    read_sidecar,
)
from .workers import Progress, ordered_map


@dataclass(frozen=True)
class BuildReport:
    """What one build did: counts, problems, what was written, how long each stage took."""

    files: int
    versions: tuple[Version, ...]
    groups: tuple[Group, ...]
    problems: tuple[Problem, ...]
    written: WriteReport | None
    site_dir: Path | None
    mkdocs_warnings: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems that kept a file from being published."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems of files that were published all the same."""
        return tuple(p for p in self.problems if p.severity == "warning")


def read_and_normalize(
    config: Config, progress: Progress | None = None, cache: ResultCache | None = None
) -> tuple[list[str], list[Version], list[Problem], dict[str, str]]:
    """Stages 1 and 2: the corpus files, their versions, the problems found, and the cache
    key of each version's reading (by ID). This process reads each file once (its bytes
    make its cache key); a file whose bytes, metadata and settings are those of an earlier
    build is taken from the cache, the others are parsed and normalized in worker
    processes, which inherit the bytes instead of reading them again."""
    cache = cache or ResultCache(None)
    files = list_corpus_files(config.corpus_dir)
    problems = manifest_problems(config.manifest, files)
    settings = repr((config.manifest, config.limits, config.boilerplate_patterns))
    gathered = [_gather(config, rel, order, settings) for order, rel in enumerate(files)]
    readable = [g for g in gathered if g.raw is not None]
    results, _ = cached_map(
        cache,
        lambda item: _read_file(config, item),
        readable,
        [g.key for g in readable],
        config.workers,
        progress,
        "Reading files",
        chunksize=32,
        compress=False,  # loaded back on every build: 3x faster uncompressed
    )
    result_of = dict(zip((g.order for g in readable), results, strict=True))
    sources: list[Source] = []
    normalized: dict[str, tuple[Version | Problem, str]] = {}
    for item in gathered:
        if item.problem is not None:
            problems.append(item.problem)
            continue
        source, outcome, file_problems = result_of[item.order]
        problems.extend(file_problems)
        if source is not None and outcome is not None:
            sources.append(source)
            normalized[source.path] = (outcome, item.key or "")
    kept, duplicate_problems = drop_duplicate_ids(sources)
    problems.extend(duplicate_problems)
    versions: list[Version] = []
    read_keys: dict[str, str] = {}
    for source in kept:
        outcome, key = normalized[source.path]
        if isinstance(outcome, Version):
            versions.append(outcome)
            read_keys[outcome.id] = key
        else:
            problems.append(outcome)
    return files, versions, problems, read_keys


# One file's reading: its source (None when it cannot be read), its version or the error
# that kept it from being normalized, and the problems found while reading.
_FileResult = tuple[Source | None, Version | Problem | None, list[Problem]]


@dataclass(frozen=True)
class _Gathered:
    """One corpus file as this process read it, before parsing."""

    rel: str
    order: int
    raw: bytes | None  # None when it cannot be read (problem says why)
    sidecar: Sidecar
    key: str | None  # the cache key of its reading; None: never cached
    problem: Problem | None = None


def _gather(config: Config, rel: str, order: int, settings: str) -> _Gathered:
    """Read a file and its sidecar; its cache key is where it is, what it is (bytes,
    sidecar, link target) and the settings."""
    try:
        raw = read_bytes(config.corpus_dir, rel, config.limits)
    except CorpusError as exc:
        return _Gathered(rel, order, None, None, None, Problem(rel, "error", exc.code, exc.message))
    sidecar = read_sidecar(config.corpus_dir, rel)
    path = os.path.join(config.corpus_dir, rel)
    target = os.path.realpath(path) if os.path.islink(path) else ""
    key = None
    if not isinstance(sidecar, OSError):  # an unreadable sidecar: its error is found again
        key = cache_key("read", settings, f"{rel}\0{order}\0{target}", raw, sidecar or b"")
    return _Gathered(rel, order, raw, sidecar, key)


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
    keys = [
        cache_key("fingerprint", repr(settings), read_keys.get(v.id) or repr(v)) for v in versions
    ]
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
        compress=False,
    )
    return {v.id: p for v, p in zip(versions, prints, strict=True)}


def version_digests(versions: Sequence[Version], read_keys: Mapping[str, str]) -> dict[str, str]:
    """A short stand-in for each version in cache keys: the key of its reading plus what
    was marked after reading (recurring boilerplate). Cheaper than hashing the version."""
    return {
        v.id: cache_key(
            "version",
            read_keys.get(v.id) or repr(v),
            repr(tuple(p.boilerplate for p in v.paragraphs)),
        )
        for v in versions
    }


def _read_file(config: Config, item: _Gathered) -> _FileResult:
    assert item.raw is not None, "only readable files are parsed"
    source, problems = parse_source(
        item.rel, item.order, item.raw, item.sidecar, config.manifest, config.limits
    )
    if source is None:
        return None, None, problems
    try:
        version: Version | Problem = normalize(
            source, config.boilerplate_patterns, config.limits.max_paragraphs
        )
    except CorpusError as exc:
        version = Problem(exc.file, "error", exc.code, exc.message)
    return source, version, problems


def build(config: Config, progress: Progress | None = None) -> BuildReport:
    """Run the whole pipeline for one configuration."""
    try:
        return _build(config, progress)
    finally:
        gc.unfreeze()  # what the build kept from the cycle collector is collectable again


def _build(config: Config, progress: Progress | None) -> BuildReport:
    seconds: dict[str, float] = {}
    started = _process_age()
    if started is not None:
        seconds["python start-up and imports"] = started
    clock = time.perf_counter()

    cache = ResultCache(config.cache_dir / "results.sqlite")
    listed, versions, problems, read_keys = read_and_normalize(config, progress, cache)
    # The versions live as long as the build and hold no reference cycles: kept out of the
    # cycle collector, whose full passes over their millions of objects otherwise slow
    # every later stage that allocates (writing a 10,000-version ledger: 1.5 s -> 1.1 s).
    gc.freeze()
    seconds["read and normalize"] = time.perf_counter() - clock

    clock = time.perf_counter()
    known = fingerprint_versions(
        versions, read_keys, config.grouping, cache, config.workers, progress
    )
    groups, group_problems = group_versions(versions, config.grouping, known)
    problems.extend(group_problems)
    group_of = {member: g.id for g in groups for member in g.members}
    versions = mark_recurring(
        versions, config.recurring_min_files, group_of, config.recurring_min_groups
    )
    titles = shown_titles(versions, groups)
    digests = version_digests(versions, read_keys)
    seconds["group"] = time.perf_counter() - clock

    # Permanence: every URL ever published must still answer, with the same text.
    clock = time.perf_counter()
    previous = read_ledger(config.ledger_file)
    reconciled = reconcile(
        previous,
        versions,
        groups,
        titles={vid: t.text for vid, t in titles.items()},
        metadata={v.id: ledger_metadata(v) for v in versions},
        today=config.today,
        accept_changed=config.accept_changed,
        remove_sources=dict(config.remove_sources),
    )
    seconds["reconcile ledger"] = time.perf_counter() - clock
    if reconciled.errors:
        raise LedgerError(list(reconciled.errors))

    problems = sorted(problems, key=lambda p: (p.file, p.severity, p.code, p.message))
    report = BuildReport(
        files=len(listed),
        versions=tuple(versions),
        groups=tuple(groups),
        problems=tuple(problems),
        written=None,
        site_dir=None,
        seconds=seconds,
    )
    if config.strict and problems:
        return report

    # Which pages are already in docs/ as this build would write them: their keys name
    # everything they show, so only the others are compared, rendered and written.
    clock = time.perf_counter()
    withdrawn_sources = keep_withdrawn_sources(
        reconciled.tombstones(), config.withdrawn_dir, config.docs_dir
    )
    comparison_keys = comparison_keys_of(groups, titles, digests, config.nearest_siblings)
    site = SiteInput(
        versions=versions,
        groups=groups,
        titles=titles,
        problems=problems,
        versions_blocks={},
        group_blocks={},
        sibling_records={},
        reconciled=reconciled,
        withdrawn_sources=withdrawn_sources,
        site_url=config.site_url,
        site_name=config.site_name,
        page_digests={
            v: cache_key(digest, comparison_keys.get(group_of[v], ""))
            for v, digest in digests.items()
        },
        group_digests=comparison_keys,
    )
    record = WriteRecord(config.cache_dir / "written.json", config.docs_dir)
    plan = _plan_pages(site, record)
    seconds["find changed pages"] = time.perf_counter() - clock

    clock = time.perf_counter()
    by_id = {v.id: v for v in versions}
    changed_groups = [g for g in groups if g.id in plan.groups]
    comparison = compare_groups(
        [by_id[m] for g in changed_groups for m in g.members],
        changed_groups,
        titles,
        config.nearest_siblings,
        cache,
        progress,
        config.workers,
        digests,
    )
    cache.keep(comparison_keys.values())  # the comparisons of unchanged groups stay cached
    seconds["compare"] = time.perf_counter() - clock

    clock = time.perf_counter()
    citations = format_all(
        citation_items(site), read_cache(config.cache_file), config.workers, progress
    )
    seconds["cite"] = time.perf_counter() - clock

    clock = time.perf_counter()
    site = replace(
        site,
        versions_blocks=comparison.version_blocks,
        group_blocks=comparison.group_blocks,
        sibling_records=comparison.sibling_records,
        citations=citations,
    )
    done = _render_pages(site, plan, record, config.docs_dir, config.workers, progress)
    files = corpus_files(site)
    seconds["render"] = time.perf_counter() - clock

    clock = time.perf_counter()
    written = write_docs(config.docs_dir, files, record, done)
    seconds["write docs"] = time.perf_counter() - clock

    clock = time.perf_counter()
    if reconciled.ledger != previous or not config.ledger_file.is_file():
        # Unchanged (the usual rebuild), the 14 MB of a 10,000-version ledger are not
        # written out again to find that they are the same.
        write_ledger(config.ledger_file, reconciled.ledger)
    seconds["write ledger"] = time.perf_counter() - clock
    clock = time.perf_counter()
    write_cache(config.cache_file, citations)
    cache.keep_used()
    seconds["write caches"] = time.perf_counter() - clock

    site_dir = None
    mkdocs_warnings: tuple[str, ...] = ()
    if config.build_site:
        built = build_site(config.mkdocs_file, config.docs_dir, config.site_dir)
        site_dir = config.site_dir
        mkdocs_warnings = built.warnings
        seconds.update(built.seconds)
    final = replace(report, written=written, site_dir=site_dir, mkdocs_warnings=mkdocs_warnings)
    clock = time.perf_counter()
    write_build_report(final, config.site_dir.parent / "build-report.json")
    seconds["write build report"] = time.perf_counter() - clock  # shown in the summary only
    return final


def comparison_keys_of(
    groups: Sequence[Group],
    titles: Mapping[str, ShownTitle],
    digests: Mapping[str, str],
    nearest: int,
) -> dict[str, str]:
    """Group ID -> what its comparison is made from, as the key under which compare_groups
    caches it (compare.py): a group with the same key has the same comparison."""
    return {
        group.id: cache_key(
            "compare",
            str(nearest),
            repr(group),
            *(digests[m] + repr(titles[m]) for m in group.members),
        )
        for group in groups
        if len(group.members) > 1
    }


@dataclass(frozen=True)
class _Plan:
    """The pages of a build and which of them must be rendered."""

    keys: Mapping[str, str]  # path -> key of its content, for every version and group page
    versions: Sequence[Version]  # versions whose files are not all current
    groups: frozenset[str]  # groups whose page or some member's files are not current
    current: frozenset[str]  # paths already holding their content, by the write record


def _plan_pages(site: SiteInput, record: WriteRecord) -> _Plan:
    """Key every version and group page; find those that docs/ does not hold yet."""
    page_key = page_keys(site)
    group_key = group_keys(site)
    keys: dict[str, str] = {}
    current: set[str] = set()
    stale_versions = []
    stale_groups = set()
    group_of = {m: g.id for g in site.groups for m in g.members}
    for version in site.versions:
        *pages, source = version_paths(version.id)
        mine = {rel: page_key[version.id] for rel in pages}
        mine[source] = version.source.sha256
        keys.update(mine)
        fresh = {rel for rel, key in mine.items() if record.current(rel, key)}
        current |= fresh
        if len(fresh) < len(mine):
            stale_versions.append(version)
            stale_groups.add(group_of[version.id])
    for group in site.groups:
        rel = group_path(group.id)
        keys[rel] = group_key[group.id]
        if record.current(rel, keys[rel]):
            current.add(rel)
        else:
            stale_groups.add(group.id)
    return _Plan(keys, stale_versions, frozenset(stale_groups), frozenset(current))


def _render_pages(
    site: SiteInput,
    plan: _Plan,
    record: WriteRecord,
    docs_dir: Path,
    workers: int | None,
    progress: Progress | None,
) -> dict[str, bool | None]:
    """Render and write the pages of the plan, in worker processes; path -> True written,
    False unchanged, None current (by the record) for every version and group page."""
    group_of = {m: g for g in site.groups for m in g.members}
    by_id = {v.id: v for v in site.versions}
    problems_of = problems_by_file(site)
    changed_groups = [g for g in site.groups if g.id in plan.groups]
    units: list[Version | Group] = [*plan.versions, *changed_groups]

    def render_and_write(unit: Version | Group) -> list[tuple[str, bool | None, Any]]:
        if isinstance(unit, Version):
            files = version_files(
                unit, group_of[unit.id], problems_of.get(unit.source.path, []), site
            )
        else:
            files = {group_path(unit.id): group_file(unit, by_id, site)}
        out = []
        for rel, content in files.items():
            outcome = write_keyed(docs_dir, rel, plan.keys[rel], content, record)
            out.append((rel, outcome, record.files.get(rel)))
        return out

    done: dict[str, bool | None] = dict.fromkeys(plan.current)
    results: Iterable[list[tuple[str, bool | None, Any]]] = ordered_map(
        render_and_write, units, workers, chunksize=8
    )
    if progress:
        results = progress(results, len(units), "Rendering pages")
    for written in results:
        for rel, outcome, entry in written:
            done[rel] = outcome
            if entry is not None:
                record.files[rel] = entry  # noted by the worker, which had its own copy
    return done


def _process_age() -> float | None:
    """Seconds since this process started (Python's start-up and the imports, when called
    at the start of a build); None where /proc does not tell."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def write_build_report(report: BuildReport, path: Path) -> None:
    """build-report.json: every problem, machine-readable (file, severity, code, message)."""
    record = {
        "files": report.files,
        "published": len(report.versions),
        "groups": len(report.groups),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "problems": [
            {"file": p.file, "severity": p.severity, "code": p.code, "message": p.message}
            for p in report.problems
        ],
        "mkdocs_warnings": list(report.mkdocs_warnings),
        # Wall seconds of each stage: for the benchmark; the only part that varies by run.
        "seconds": {stage: round(s, 3) for stage, s in report.seconds.items()},
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
