"""The orchestrator: the pipeline's stages called in order, giving a report.

read → normalize → group → cite → compare and render (a group's comparison and pages in one
worker process) → write docs/ → MkDocs build.
First gather and compute everything, then write; a strict build that finds a problem
writes nothing.

A rebuild starts from what the last build kept (state.py): it reads only the corpus files
whose stamp changed, holds the other versions as summaries, finds only the pairs of the
changed versions, keys the pages from what they were made of, and loads whole versions
only for the pages it renders. What it writes is what a build without the state writes.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .cache import ResultCache, cache_key, used_map
from .cite import citation_key, csl_item, format_all
from .compare import GroupComparison, compare_group, comparison_keys
from .config import Config
from .errors import LedgerError
from .grouping import (
    Fingerprint,
    fingerprints,
    member_of,
    regroup,
)
from .ledger import Reconciled, ledger_json, reconcile
from .models import Group, Problem, Summary, Version
from .normalize import (
    ShownTitle,
    apply_marks,
    recurring_marks,
    shown_titles,
    summarize,
)
from .output import (
    WriteRecord,
    WriteReport,
    build_site,
    content_key,
    keep_withdrawn_sources,
    read_ledger,
    write_docs,
    write_keyed,
    write_ledger,
)
from .paths import group_path, version_paths
from .reading import (
    Reading,
    StaleState,
    VersionLoader,
    fingerprint_versions,
    read_corpus,
    read_settings,
)
from .render import (
    CorpusParts,
    SiteInput,
    citation,
    corpus_files,
    group_file,
    group_key,
    ledger_metadata,
    page_key,
    problems_by_file,
    version_files,
)
from .state import BuildState, load_state, same_values, save_state
from .templating import keep_compiled_templates
from .workers import Background, Progress

# Formatted citations are kept in the result cache under this prefix and their
# cite.citation_key, without the code fingerprint: what citeproc-py makes of an item does
# not change with this program (formatting 10,000 takes 5 s).
_CITATION = "citation:"


@dataclass(frozen=True)
class BuildReport:
    """What one build did: counts, problems, what was written, how long each stage took."""

    files: int
    versions: tuple[Summary, ...]
    groups: tuple[Group, ...]
    problems: tuple[Problem, ...]
    written: WriteReport | None
    site_dir: Path | None
    mkdocs_warnings: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    # Pages whose HTML the last site gave, nothing they are made of having changed.
    pages_kept: int = 0
    # The search index was the last site's: Pagefind would have been given the same pages.
    search_index_kept: bool = False

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems that kept a file from being published."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems of files that were published all the same."""
        return tuple(p for p in self.problems if p.severity == "warning")


def _group(
    config: Config,
    reading: Reading,
    loader: VersionLoader,
    cache: ResultCache,
    state: BuildState | None,
    progress: Progress | None,
) -> tuple[tuple[Group, ...], tuple[Problem, ...], Any]:
    """Stage 3 over the summaries: the fingerprints of the versions this build read are
    made (or taken from the cache); the others' only when a changed version's candidate
    pairs need them (grouping.regroup)."""
    settings = config.grouping
    summaries = reading.summaries
    read = [reading.fresh[s.id] for s in summaries if s.id in reading.fresh]
    made = fingerprint_versions(read, reading.read_keys, settings, cache, config.workers, progress)
    keys = [loader.record_of[s.id].fingerprint or "" for s in summaries]

    def fetch(indices: Sequence[int]) -> list[Fingerprint]:
        wanted = [i for i in indices if summaries[i].id not in made]
        found = cache.get_many([keys[i] for i in wanted])
        missing = [i for i in wanted if keys[i] not in found]
        if missing:
            versions = loader.load(summaries[i].id for i in missing)
            computed = fingerprints([versions[summaries[i].id] for i in missing], settings)
            for i, fingerprint in zip(missing, computed, strict=True):
                found[keys[i]] = fingerprint
                cache.put(keys[i], fingerprint, compress=False)
        return [made.get(summaries[i].id) or found[keys[i]] for i in indices]

    members = [member_of(s) for s in summaries]
    previous = state.pairs if state is not None else None
    return regroup(members, keys, fetch, settings, previous)


def _mark(
    config: Config,
    summaries: Sequence[Summary],
    group_of: Mapping[str, str],
    loader: VersionLoader,
    known: Mapping[str, Summary],
) -> tuple[list[Summary], dict[int, str], dict[str, Summary]]:
    """Recurring boilerplate: the summaries with it marked, the marks (paragraph hash ->
    why), and the marked summaries by what marked them (for the next build)."""
    marks = recurring_marks(
        [s.keys for s in summaries],
        [s.id for s in summaries],
        config.recurring_min_files,
        group_of,
        config.recurring_min_groups,
    )
    if not marks:
        return list(summaries), marks, {}
    marked: dict[str, Summary] = {}
    todo: dict[int, str] = {}
    for i, summary in enumerate(summaries):
        found = [(k, marks[k]) for k in summary.keys if k in marks]
        if found:
            todo[i] = summary.digest + repr(found)  # what its marked summary is made of
    missing = [summaries[i].id for i, key in todo.items() if key not in known]
    versions = loader.load(missing)
    out = list(summaries)
    for i, key in todo.items():
        summary = summaries[i]
        if key in known:
            out[i] = known[key]
        else:
            version = apply_marks(versions[summary.id], marks)
            out[i] = summarize(version, loader.reading.read_keys.get(summary.id), summary.keys)
        marked[key] = out[i]
    return out, marks, marked


def build(config: Config, progress: Progress | None = None) -> BuildReport:
    """Run the whole pipeline for one configuration."""
    try:
        return _build(config, progress)
    finally:
        gc.unfreeze()  # what the build kept from the cycle collector is collectable again


def _state_settings(config: Config) -> str:
    """What the parts of a build state were made with (load_state keeps none of a state
    made with anything else): the program, the settings, the folders."""
    return cache_key(
        "build state",
        read_settings(config),
        os.fspath(config.corpus_dir.resolve()),
        os.fspath(config.docs_dir.resolve()),
        repr(config.grouping),
        repr((config.recurring_min_files, config.recurring_min_groups, config.nearest_siblings)),
        repr((config.site_url, config.site_name)),
    )


def _build(config: Config, progress: Progress | None) -> BuildReport:
    seconds: dict[str, float] = {}
    started = _process_age()
    if started is not None:
        seconds["python start-up and imports"] = started
    clock = time.perf_counter()
    # What docs/ holds is checked on the other core while the state loads and the corpus
    # is read and grouped.
    record = WriteRecord(config.cache_dir / "written.marshal", config.docs_dir)
    record.check_in_background(config.workers)
    settings = _state_settings(config)
    state = load_state(config.cache_dir / "state.pickle", settings, freeze=True)
    seconds["load build state"] = time.perf_counter() - clock
    cache = ResultCache(config.cache_dir / "results.sqlite")
    keep_compiled_templates(config.cache_dir / "templates")
    try:
        try:
            return _build_from(config, progress, cache, record, state, settings, seconds)
        except StaleState:
            # The state or the cache did not match the corpus (a file changed under an
            # unchanged stamp, or the cache lost an entry it vouched for): nothing has
            # been written yet; build again from the corpus alone, once what the first
            # attempt held is let go (its Background child is stopped).
            pass
        gc.unfreeze()
        return _build_from(config, progress, cache, record, None, settings, seconds)
    finally:
        # Also after a build that stopped early (strict, or an error): what it computed
        # is kept, and its write lock is not left to block the next build for a minute.
        cache.close()
        record.close()


def _build_from(
    config: Config,
    progress: Progress | None,
    cache: ResultCache,
    record: WriteRecord,
    state: BuildState | None,
    settings: str,
    seconds: dict[str, float],
) -> BuildReport:
    clock = time.perf_counter()
    reading = read_corpus(config, state.files if state else {}, cache, progress)
    loader = VersionLoader(config, reading, cache)
    problems = reading.problems
    # What the build keeps holds no reference cycles: kept out of the cycle collector,
    # whose full passes over its millions of objects otherwise slow every later stage
    # that allocates (writing a 10,000-version ledger: 1.5 s -> 1.1 s).
    gc.freeze()
    seconds["read and normalize"] = time.perf_counter() - clock

    clock = time.perf_counter()
    groups, group_problems, pairs = _group(config, reading, loader, cache, state, progress)
    problems.extend(group_problems)
    group_of = {member: g for g in groups for member in g.members}
    summaries, marks, marked = _mark(
        config,
        reading.summaries,
        {m: g.id for m, g in group_of.items()},
        loader,
        state.marked if state else {},
    )
    titles = shown_titles(summaries, groups)
    digests = {s.id: s.digest for s in summaries}
    seconds["group"] = time.perf_counter() - clock

    # Permanence: every URL ever published must still answer, with the same text.
    clock = time.perf_counter()
    known_ledger = None
    if state is not None and state.ledger_sha256 and state.ledger is not None:
        known_ledger = (state.ledger_sha256, state.ledger)
    previous, ledger_sha256 = read_ledger(config.ledger_file, known_ledger)
    reconciled = reconcile(
        previous,
        summaries,
        groups,
        titles={vid: t.text for vid, t in titles.items()},
        metadata={s.id: ledger_metadata(s) for s in summaries},
        today=config.today,
        accept_changed=config.accept_changed,
        remove_sources=dict(config.remove_sources),
    )
    seconds["reconcile ledger"] = time.perf_counter() - clock
    if reconciled.errors:
        raise LedgerError(list(reconciled.errors))

    problems = sorted(problems, key=lambda p: (p.file, p.severity, p.code, p.message))
    report = BuildReport(
        files=len(reading.files),
        versions=tuple(summaries),
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
    site = SiteInput(
        versions=(),
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
        summaries=summaries,
    )
    parts = CorpusParts(state.corpus_parts if state else None)
    # The lists, the exports and the pages of old addresses need no comparison and no
    # citation: they are made on the other core while this one finds the changed pages
    # and cites, and then the workers compare and render.
    overview = Background(lambda: _corpus_files_made(site, parts), config.workers, len(summaries))
    compare_keys, compare_memo = _comparison_keys(
        groups, titles, digests, config, state.comparisons if state else {}
    )
    plan = _plan_pages(
        summaries,
        group_of,
        titles,
        problems,
        reconciled,
        compare_keys,
        config,
        record,
        state,
    )
    seconds["find changed pages"] = time.perf_counter() - clock

    # Whole versions, marked, for the pages to render and the groups to compare again.
    clock = time.perf_counter()
    changed_groups = [g for g in groups if g.id in plan.groups]
    wanted = [v.id for v in plan.versions]
    wanted += [m for g in changed_groups if len(g.members) > 1 for m in g.members]
    whole = {vid: apply_marks(v, marks) for vid, v in loader.load(wanted).items()}
    seconds["load versions"] = time.perf_counter() - clock

    # Citations first: they do not depend on the comparisons, and the pages need both.
    clock = time.perf_counter()
    site = replace(site, versions=[whole[v.id] for v in plan.versions])
    citations = _format_citations(site, group_of, cache, config.workers, progress)
    cache.keep(_CITATION + key for key in plan.citations)
    seconds["cite"] = time.perf_counter() - clock

    clock = time.perf_counter()
    site = replace(site, citations=citations)
    ledger_parts = state.ledger_parts if state else None
    # Unchanged (the usual rebuild), the 14 MB of a 10,000-version ledger are not made
    # again to find that they are the same.
    new_ledger = reconciled.ledger != previous or ledger_sha256 is None
    tail: dict[str, Any] = {}

    def meanwhile() -> None:
        # Made by this process while the workers compare and render. The ledger is
        # written only after the pages, as before.
        start = time.perf_counter()
        if new_ledger:
            tail["ledger"] = ledger_json(reconciled.ledger, ledger_parts)
        seconds["ledger, while comparing"] = time.perf_counter() - start

    done = _compare_and_render(
        site, plan, whole, compare_keys, config, cache, record, progress, meanwhile
    )
    cache.keep(compare_keys.values())  # the comparisons of unchanged groups stay cached
    seconds["compare and render pages"] = time.perf_counter() - clock

    clock = time.perf_counter()
    made = overview.result()
    if made is None:  # no second core, or the child failed: made here
        files = corpus_files(site, parts)
        seconds["corpus files"] = time.perf_counter() - clock
    else:
        seconds["wait for corpus files"] = time.perf_counter() - clock
        files, made_parts, used, seconds["corpus files, on the other core"] = made
        parts.adopt(made_parts, used)

    clock = time.perf_counter()
    written = write_docs(config.docs_dir, files, record, done)
    seconds["write docs"] = time.perf_counter() - clock

    clock = time.perf_counter()
    if new_ledger:
        content, ledger_parts = tail["ledger"]
        write_ledger(config.ledger_file, content)
        ledger_sha256 = content_key(content)
    seconds["write ledger"] = time.perf_counter() - clock

    clock = time.perf_counter()
    cache.keep(r.key for r in reading.records if r.key)
    cache.keep(r.fingerprint for r in reading.records if r.fingerprint)
    kept = cache.keep_used(state.cache_keys if state else None)
    new_state = BuildState(
        settings=settings,
        files=dict(zip(reading.files, reading.records, strict=True)),
        marked=marked,
        pairs=pairs,
        ledger_sha256=ledger_sha256,
        ledger=reconciled.ledger,
        ledger_parts=ledger_parts,
        comparisons=compare_memo,
        pages=plan.memo,
        group_pages=plan.group_memo,
        corpus_parts=parts.keep(),
        cache_keys=kept,
    )
    if state is None or _changed(state, new_state):
        save_state(config.cache_dir / "state.pickle", new_state, state)
    seconds["write caches"] = time.perf_counter() - clock

    site_dir = None
    mkdocs_warnings: tuple[str, ...] = ()
    pages_kept = 0
    search_index_kept = False
    if config.build_site:
        built = build_site(
            config.mkdocs_file,
            config.docs_dir,
            config.site_dir,
            workers=config.workers,
            progress=progress,
            cache_dir=config.cache_dir,
            render_all=config.render_all,
        )
        site_dir = config.site_dir
        mkdocs_warnings = built.warnings
        pages_kept = built.pages_kept
        search_index_kept = built.search is not None and built.search.kept
        seconds.update(built.seconds)
    final = replace(
        report,
        written=written,
        site_dir=site_dir,
        mkdocs_warnings=mkdocs_warnings,
        pages_kept=pages_kept,
        search_index_kept=search_index_kept,
    )
    clock = time.perf_counter()
    write_build_report(final, config.site_dir.parent / "build-report.json")
    seconds["write build report"] = time.perf_counter() - clock  # shown in the summary only
    return final


def _changed(old: BuildState, new: BuildState) -> bool:
    """Whether the new state holds anything the old one does not (else it is not written:
    an unchanged rebuild writes nothing)."""
    same = (
        old.pairs is new.pairs
        and old.ledger is new.ledger
        and old.ledger_sha256 == new.ledger_sha256
        and old.cache_keys == new.cache_keys
        and old.corpus_parts is new.corpus_parts
        and same_values(old.files, new.files)
        and same_values(old.marked, new.marked)
        and same_values(old.comparisons, new.comparisons)
        and same_values(old.pages, new.pages)
        and same_values(old.group_pages, new.group_pages)
    )
    return not same


def _format_citations(
    site: SiteInput,
    group_of: Mapping[str, Group],
    cache: ResultCache,
    workers: int | None,
    progress: Progress | None,
) -> dict[str, dict[str, str]]:
    """The formatted citations of the pages to render: from the cache where an earlier
    build formatted the same item, the others with citeproc-py (cite.format_all)."""
    items = [csl_item(citation(v, group_of[v.id], site)) for v in site.versions]
    keys = [citation_key(item) for item in items]
    stored = cache.get_many([_CITATION + key for key in keys])
    known = {key: stored[_CITATION + key] for key in keys if _CITATION + key in stored}
    citations = format_all(items, known, workers, progress)
    for key in keys:
        if key not in known:
            cache.put(_CITATION + key, citations[key])
    return citations


@dataclass(frozen=True)
class _Plan:
    """The pages of a build and which of them must be rendered."""

    keys: Mapping[str, str]  # path -> key of its content, for every version and group page
    versions: Sequence[Summary]  # versions whose files are not all current
    groups: frozenset[str]  # groups whose page or some member's files are not current
    current: frozenset[str]  # paths already holding their content, by the write record
    citations: Sequence[str]  # cite.citation_key of every version's citation
    # What the keys were made from, for the next build: ID -> (inputs, keys...).
    memo: dict[str, tuple[Any, str, str]]
    group_memo: dict[str, tuple[Any, str]]


def _comparison_keys(
    groups: Sequence[Group],
    titles: Mapping[str, ShownTitle],
    digests: Mapping[str, str],
    config: Config,
    known: Mapping[str, tuple[Any, str]],
) -> tuple[dict[str, str], dict[str, tuple[Any, str]]]:
    """compare.comparison_keys, each made again only when its group, digests or titles
    changed since the last build (known; 10,000 versions: 0.09 s -> 0.01 s); and the memo
    for the next build."""
    keys: dict[str, str] = {}
    memo: dict[str, tuple[Any, str]] = {}
    for group in groups:
        if len(group.members) < 2:
            continue
        inputs = (group, [digests[m] for m in group.members], [titles[m] for m in group.members])
        last = known.get(group.id)
        if last is None or last[0] != inputs:
            key = comparison_keys([group], titles, digests, config.nearest_siblings)[group.id]
            last = (inputs, key)
        memo[group.id] = last
        keys[group.id] = last[1]
    return keys, memo


def _plan_pages(
    summaries: Sequence[Summary],
    group_of: Mapping[str, Group],
    titles: Mapping[str, ShownTitle],
    problems: Sequence[Problem],
    reconciled: Reconciled,
    comparison_keys: Mapping[str, str],
    config: Config,
    record: WriteRecord,
    state: BuildState | None,
) -> _Plan:
    """Key every version and group page; find those that docs/ does not hold yet. A key
    is made again only when what it is made from changed since the last build."""
    known = state.pages if state is not None else {}
    known_groups = state.group_pages if state is not None else {}
    problems_of = problems_by_file(problems)
    entries = reconciled.ledger.versions
    site = (config.site_url, config.site_name)
    keys: dict[str, str] = {}
    current: set[str] = set()
    stale_versions = []
    stale_groups = set()
    memo: dict[str, tuple[Any, str, str]] = {}
    for summary in summaries:
        vid = summary.id
        group = group_of[vid]
        comparison = comparison_keys.get(group.id, "")
        mine = tuple(problems_of.get(summary.path, ()))
        inputs = (summary.digest, comparison, group, titles[vid], mine, entries[vid], site)
        last = known.get(vid)
        if last is None or last[0] != inputs:
            key, cite = page_key(
                summary,
                group,
                titles[vid],
                mine,
                entries[vid],
                cache_key(summary.digest, comparison),
                *site,
            )
            last = (inputs, key, cite)
        memo[vid] = last
        *pages, source = version_paths(vid)
        fresh = 0
        for rel in pages:
            keys[rel] = last[1]
            if record.current(rel, last[1]):
                current.add(rel)
                fresh += 1
        keys[source] = summary.sha256
        if record.current(source, summary.sha256):
            current.add(source)
            fresh += 1
        if fresh < len(pages) + 1:
            stale_versions.append(summary)
            stale_groups.add(group.id)
    by_id = {s.id: s for s in summaries}
    group_memo: dict[str, tuple[Any, str]] = {}
    for group in dict.fromkeys(group_of.values()):
        comparison = comparison_keys.get(group.id, "")
        inputs = (group, comparison, tuple((by_id[m].digest, titles[m]) for m in group.members))
        last_group = known_groups.get(group.id)
        if last_group is None or last_group[0] != inputs:
            members = [by_id[m] for m in group.members]
            last_group = (inputs, group_key(group, comparison, members, titles))
        group_memo[group.id] = last_group
        rel = group_path(group.id)
        keys[rel] = last_group[1]
        if record.current(rel, last_group[1]):
            current.add(rel)
        else:
            stale_groups.add(group.id)
    return _Plan(
        keys,
        stale_versions,
        frozenset(stale_groups),
        frozenset(current),
        [m[2] for m in memo.values()],
        memo,
        group_memo,
    )


def _corpus_files_made(
    site: SiteInput, parts: CorpusParts
) -> tuple[dict[str, bytes], dict[Any, Any], list[Any], float]:
    """render.corpus_files in a Background child: the files, the parts it made and the
    keys of those it used (CorpusParts.adopt), and its seconds."""
    start = time.perf_counter()
    files = corpus_files(site, parts)
    made, used = parts.made()
    return files, made, used, time.perf_counter() - start


def _compare_and_render(
    site: SiteInput,
    plan: _Plan,
    whole: Mapping[str, Version],
    compare_keys: Mapping[str, str],
    config: Config,
    cache: ResultCache,
    record: WriteRecord,
    progress: Progress | None,
    meanwhile: Callable[[], Any] | None = None,
) -> dict[str, bool | None]:
    """Compare each group of the plan (or take its comparison from the cache), then render
    and write its pages, in worker processes; path -> True written, False unchanged, None
    current (by the record) for every version and group page. meanwhile() runs in this
    process while they do (cache.used_map).

    A group's comparison is made, or decoded from the cache, in the process that renders
    its pages (cache.used_map), so its diffs never travel between processes whole: a new one comes back
    encoded, for the parent to store. (At 10,000 versions that is 150 MB of diff HTML,
    which the parent used to decode only for the render workers to inherit it.)"""
    by_id = {s.id: s for s in site.summaries}
    problems_of = problems_by_file(site.problems)
    to_render = {v.id for v in site.versions}
    units = [g for g in site.groups if g.id in plan.groups]
    docs_dir = config.docs_dir

    def compare(group: Group) -> GroupComparison | None:
        if group.id not in compare_keys:  # a group of one: nothing to compare
            return None
        members = [whole[m] for m in group.members]
        return compare_group(group, members, config.nearest_siblings)

    def write(files: Mapping[str, bytes]) -> list[tuple[str, bool | None, Any]]:
        out = []
        for rel, content in files.items():
            outcome = write_keyed(docs_dir, rel, plan.keys[rel], content, record)
            out.append((rel, outcome, record.files.get(rel)))
        return out

    def render(
        group: Group, comparison: GroupComparison | None
    ) -> list[tuple[str, bool | None, Any]]:
        data = site
        if comparison is not None:
            data = replace(
                site,
                versions_blocks=comparison.version_blocks,
                group_blocks={group.id: comparison.group_block},
                sibling_records=comparison.records,
            )
        out = []
        for vid in group.members:
            if vid in to_render:
                version = whole[vid]
                problems = problems_of.get(version.source.path, [])
                out += write(version_files(version, group, problems, data))
        out += write({group_path(group.id): group_file(group, by_id, data)})
        return out

    results = used_map(
        cache,
        compare,
        render,
        units,
        [compare_keys.get(g.id) for g in units],
        config.workers,
        progress,
        "Comparing groups and rendering pages",
        chunksize=2,
        meanwhile=meanwhile,
    )
    done: dict[str, bool | None] = dict.fromkeys(plan.current)
    for written in results:
        for rel, outcome, entry in written:
            done[rel] = outcome
            if entry is not None:
                record.adopt(rel, entry)  # noted by the worker, which had its own copy
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
        "site_pages_kept": report.pages_kept,
        "search_index_kept": report.search_index_kept,
        # Wall seconds of each stage: for the benchmark; the only part that varies by run.
        "seconds": {stage: round(s, 3) for stage, s in report.seconds.items()},
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
