"""The orchestrator: the pipeline's stages called in order, giving a report.

read → normalize → group → compare → render → write docs/ → MkDocs build.
First gather and compute everything, then write; a strict build that finds a problem
writes nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .cite import format_all
from .compare import compare_groups
from .config import Config
from .errors import CorpusError, LedgerError
from .grouping import group_versions
from .ledger import reconcile
from .models import Group, Problem, Version
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
from .sources import list_corpus_files, read_corpus

Progress = Callable[[Iterable[str]], Iterable[str]]


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
    config: Config, progress: Progress | None = None
) -> tuple[list[str], list[Version], list[Problem]]:
    """Stages 1 and 2: the corpus files, their versions, and the problems found."""
    files = list_corpus_files(config.corpus_dir)
    sources, problems = read_corpus(
        config.corpus_dir, config.manifest, config.limits, wrap=progress, files=files
    )
    versions: list[Version] = []
    patterns = config.boilerplate_patterns
    for source in sources:
        try:
            versions.append(normalize(source, patterns, config.limits.max_paragraphs))
        except CorpusError as exc:
            problems.append(Problem(exc.file, "error", exc.code, exc.message))
    return files, versions, problems


def build(config: Config, progress: Progress | None = None) -> BuildReport:
    """Run the whole pipeline for one configuration."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    corpus_files, versions, problems = read_and_normalize(config, progress)
    seconds["read and normalize"] = time.perf_counter() - clock

    clock = time.perf_counter()
    groups, group_problems = group_versions(versions, config.grouping)
    problems.extend(group_problems)
    group_of = {member: g.id for g in groups for member in g.members}
    versions = mark_recurring(
        versions, config.recurring_min_files, group_of, config.recurring_min_groups
    )
    titles = shown_titles(versions, groups)
    comparison = compare_groups(versions, groups, titles, config.nearest_siblings)
    seconds["group and compare"] = time.perf_counter() - clock

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
    )
    citations = format_all(
        citation_items(site), read_cache(config.cache_file), workers=os.cpu_count() or 1
    )
    files = render_site(replace(site, citations=citations))
    written = write_docs(config.docs_dir, files)
    write_ledger(config.ledger_file, reconciled.ledger)
    write_cache(config.cache_file, citations)
    seconds["render and write docs"] = time.perf_counter() - clock

    site_dir = None
    mkdocs_warnings: list[str] = []
    if config.build_site:
        clock = time.perf_counter()
        mkdocs_warnings = build_site(config.mkdocs_file, config.docs_dir, config.site_dir)
        site_dir = config.site_dir
        seconds["mkdocs build"] = time.perf_counter() - clock
    final = replace(
        report, written=written, site_dir=site_dir, mkdocs_warnings=tuple(mkdocs_warnings)
    )
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
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
