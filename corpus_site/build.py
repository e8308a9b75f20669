"""The orchestrator: the pipeline's stages called in order, giving a report.

read → normalize → group → compare → render → write docs/ → MkDocs build.
First gather and compute everything, then write; a strict build that finds a problem
writes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .cache import ResultCache, cache_key, cached_map
from .cite import format_all
from .compare import compare_groups
from .config import Config, Limits
from .errors import CorpusError, LedgerError
from .grouping import group_versions
from .ledger import reconcile
from .models import Group, Problem, Source, Version
from .normalize import mark_recurring, normalize, shown_titles
from .output import (
    WriteReport,
    build_site,
    keep_withdrawn_sources,
    read_cache,
    read_ledger,
    write_cache,
    write_docs,
    write_ledger,
)
from .render import SiteInput, citation_items, ledger_metadata, render_site
from .sources import drop_duplicate_ids, list_corpus_files, manifest_problems, read_source
from .workers import Progress


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
    key of each version's reading (by ID). Files are read in worker processes; a file whose
    bytes, metadata and settings are those of an earlier build is taken from the cache."""
    cache = cache or ResultCache(None)
    files = list_corpus_files(config.corpus_dir)
    problems = manifest_problems(config.manifest, files)
    settings = repr((config.manifest, config.limits, config.boilerplate_patterns))
    items = list(enumerate(files))
    keys = [
        _file_key(config.corpus_dir, rel, order, config.limits, settings) for order, rel in items
    ]
    results, _ = cached_map(
        cache,
        lambda item: _read_file(config, item[1], item[0]),
        items,
        keys,
        config.workers,
        progress,
        "Reading files",
        chunksize=32,
    )
    sources: list[Source] = []
    normalized: dict[str, tuple[Version | Problem, str]] = {}
    for key, (source, outcome, file_problems) in zip(keys, results, strict=True):
        problems.extend(file_problems)
        if source is not None and outcome is not None:
            sources.append(source)
            normalized[source.path] = (outcome, key or "")
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


def _read_file(config: Config, rel: str, order: int) -> _FileResult:
    source, problems = read_source(config.corpus_dir, rel, order, config.manifest, config.limits)
    if source is None:
        return None, None, problems
    try:
        version: Version | Problem = normalize(
            source, config.boilerplate_patterns, config.limits.max_paragraphs
        )
    except CorpusError as exc:
        version = Problem(exc.file, "error", exc.code, exc.message)
    return source, version, problems


def _file_key(corpus_dir: Path, rel: str, order: int, limits: Limits, settings: str) -> str | None:
    """The cache key of one file's reading: where it is, what it is (bytes, sidecar, link
    target) and the settings; None when it cannot be read (read_source reports why)."""
    path = corpus_dir / rel
    try:
        if path.stat().st_size > limits.max_file_bytes:
            return None  # read_source refuses it without reading it all
        raw = path.read_bytes()
        sidecar = path.with_suffix(".yml")
        side = sidecar.read_bytes() if sidecar.is_file() else b""
        where = f"{rel}\0{order}\0{path.is_symlink()}\0{path.resolve()}"
    except OSError:
        return None
    return cache_key("read", settings, where, raw, side)


def build(config: Config, progress: Progress | None = None) -> BuildReport:
    """Run the whole pipeline for one configuration."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    cache = ResultCache(config.cache_dir / "results.sqlite")
    corpus_files, versions, problems, read_keys = read_and_normalize(config, progress, cache)
    seconds["read and normalize"] = time.perf_counter() - clock

    clock = time.perf_counter()
    groups, group_problems = group_versions(versions, config.grouping)
    problems.extend(group_problems)
    seconds["group"] = time.perf_counter() - clock
    group_of = {member: g.id for g in groups for member in g.members}
    versions = mark_recurring(
        versions, config.recurring_min_files, group_of, config.recurring_min_groups
    )
    titles = shown_titles(versions, groups)
    digests = version_digests(versions, read_keys)
    comparison = compare_groups(
        versions,
        groups,
        titles,
        config.nearest_siblings,
        cache,
        progress,
        config.workers,
        digests,
    )
    seconds["compare"] = time.perf_counter() - clock - seconds["group"]

    # Permanence: every URL ever published must still answer, with the same text.
    reconciled = reconcile(
        read_ledger(config.ledger_file),
        versions,
        groups,
        titles={vid: t.text for vid, t in titles.items()},
        metadata={v.id: ledger_metadata(v) for v in versions},
        today=config.today,
        accept_changed=config.accept_changed,
        remove_sources=dict(config.remove_sources),
    )
    if reconciled.errors:
        raise LedgerError(list(reconciled.errors))

    problems = sorted(problems, key=lambda p: (p.file, p.severity, p.code, p.message))
    report = BuildReport(
        files=len(corpus_files),
        versions=tuple(versions),
        groups=tuple(groups),
        problems=tuple(problems),
        written=None,
        site_dir=None,
        seconds=seconds,
    )
    if config.strict and problems:
        return report

    clock = time.perf_counter()
    withdrawn_sources = keep_withdrawn_sources(
        reconciled.tombstones(), config.withdrawn_dir, config.docs_dir
    )
    site = SiteInput(
        versions=versions,
        groups=groups,
        titles=titles,
        problems=problems,
        versions_blocks=comparison.version_blocks,
        group_blocks=comparison.group_blocks,
        sibling_records=comparison.sibling_records,
        reconciled=reconciled,
        withdrawn_sources=withdrawn_sources,
        site_url=config.site_url,
        site_name=config.site_name,
        page_digests={
            v: cache_key(digest, comparison.keys.get(group_of[v], ""))
            for v, digest in digests.items()
        },
    )
    citations = format_all(
        citation_items(site), read_cache(config.cache_file), config.workers, progress
    )
    seconds["cite"] = time.perf_counter() - clock

    clock = time.perf_counter()
    files = render_site(replace(site, citations=citations), cache, config.workers, progress)
    seconds["render"] = time.perf_counter() - clock

    clock = time.perf_counter()
    cache.keep_used()
    written = write_docs(config.docs_dir, files)
    write_ledger(config.ledger_file, reconciled.ledger)
    write_cache(config.cache_file, citations)
    seconds["write docs"] = time.perf_counter() - clock

    site_dir = None
    mkdocs_warnings: tuple[str, ...] = ()
    if config.build_site:
        built = build_site(config.mkdocs_file, config.docs_dir, config.site_dir)
        site_dir = config.site_dir
        mkdocs_warnings = built.warnings
        seconds.update(built.seconds)
    final = replace(report, written=written, site_dir=site_dir, mkdocs_warnings=mkdocs_warnings)
    write_build_report(final, config.site_dir.parent / "build-report.json")
    return final


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
