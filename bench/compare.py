"""Benchmark the compare stage alone: CPU seconds of diffing and rendering every group.

    python bench/compare.py /tmp/corpus-bench-1000/corpus [--profile 25]
                            [--save FILE] [--against FILE]

Reads, normalizes and groups the corpus as a build does (not timed), then runs
`compare_groups` serially and without the result cache, and prints its CPU seconds
(time.process_time, which other work on a shared machine does not inflate), the split
between diffing and rendering, and the sizes of the Versions sections it made.
`--save` writes every block and record the stage made (JSON); `--against` compares them
with an earlier `--save` and prints the ratio of CPU seconds and what differs, so a change
of the stage can be checked for byte-identical output. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_site import compare as compare_module  # noqa: E402
from corpus_site.config import load_config  # noqa: E402
from corpus_site.grouping import group_versions  # noqa: E402
from corpus_site.normalize import mark_recurring, shown_titles, version_digest  # noqa: E402
from corpus_site.reading import read_and_normalize  # noqa: E402


def prepare(corpus: Path) -> tuple[list, list, dict, int, dict]:
    """Versions, groups, shown titles, siblings diffed and version digests of a corpus, as
    build.build makes them."""
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            corpus_dir=corpus,
            docs_dir=Path(tmp) / "docs",
            site_dir=Path(tmp) / "site",
            mkdocs_file=Path(tmp) / "mkdocs.yml",
            build_site=False,
            quiet=True,
        )
        _, versions, _, read_keys = read_and_normalize(config)
    groups, _ = group_versions(versions, config.grouping)
    group_of = {member: g.id for g in groups for member in g.members}
    versions = mark_recurring(
        versions, config.recurring_min_files, group_of, config.recurring_min_groups
    )
    titles = shown_titles(versions, groups)
    digests = {v.id: version_digest(v, read_keys.get(v.id)) for v in versions}
    return versions, groups, titles, config.nearest_siblings, digests


# What the timed runs work on, set before they fork (inherited, not pickled).
_INPUT: tuple = ()


def _run(profile: int) -> tuple[float, float, dict]:
    """One run of the stage in a fresh forked process, so nothing a run remembers (memos,
    compiled templates) helps the next: (CPU seconds, of which diff_versions, output)."""
    versions, groups, titles, nearest, digests = _INPUT
    diff_seconds = 0.0
    real_diff = compare_module.diff_versions

    def timed_diff(a, b):  # type: ignore[no-untyped-def]
        nonlocal diff_seconds
        start = time.process_time()
        try:
            return real_diff(a, b)
        finally:
            diff_seconds += time.process_time() - start

    compare_module.diff_versions = timed_diff
    profiler = cProfile.Profile() if profile else None
    start = time.process_time()
    if profiler:
        profiler.enable()
    result = compare_module.compare_groups(
        versions, groups, titles, nearest, workers=1, digests=digests
    )
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
    cpu = time.process_time() - start
    output = {
        "version_blocks": dict(result.version_blocks),
        "group_blocks": dict(result.group_blocks),
        "records": {k: list(v) for k, v in result.sibling_records.items()},
    }
    return cpu, diff_seconds, output


def main() -> None:
    """Time the compare stage on one corpus; print figures and, with --against, ratios."""
    global _INPUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest counts")
    parser.add_argument("--profile", type=int, metavar="N", help="print the top N functions")
    parser.add_argument("--save", type=Path, help="write the stage's output and time (JSON)")
    parser.add_argument("--against", type=Path, help="compare with an earlier --save")
    args = parser.parse_args()

    _INPUT = prepare(args.corpus)
    versions, groups = _INPUT[0], _INPUT[1]
    multi = [g for g in groups if len(g.members) > 1]
    print(f"{len(versions)} versions, {len(multi)} groups of 2 or more")

    # Other work on a shared machine slows a run down even in CPU time (shared caches and
    # cores): the fastest of a few runs is the stage's own figure.
    context = multiprocessing.get_context("fork")
    runs = []
    for _ in range(1 if args.profile else args.repeat):
        with context.Pool(1) as pool:
            runs.append(pool.apply(_run, (args.profile or 0,)))
    cpu, diff_seconds, output = min(runs, key=lambda run: run[0])
    print(
        f"compare CPU s: {cpu:.2f} (diff_versions {diff_seconds:.2f}, rest "
        f"{cpu - diff_seconds:.2f}); all runs: {', '.join(f'{r[0]:.2f}' for r in runs)}"
    )
    sizes = [len(block.encode()) for block in output["version_blocks"].values()]
    print(
        f"Versions section KB: median {statistics.median(sizes) / 1000:.1f}, "
        f"largest {max(sizes) / 1000:.1f}, total {sum(sizes) / 1000:.0f}"
    )
    output["cpu"] = cpu
    if args.save:
        args.save.write_text(json.dumps(output, sort_keys=True), encoding="utf-8")
    if args.against:
        before = json.loads(args.against.read_text(encoding="utf-8"))
        print(f"CPU s before {before['cpu']:.2f}, now {cpu:.2f}: {before['cpu'] / cpu:.1f}x")
        for part in ("version_blocks", "group_blocks", "records"):
            differ = sorted(k for k in before[part] if before[part][k] != output[part].get(k))
            print(f"{part}: {len(differ)} of {len(before[part])} differ {differ[:5]}")


if __name__ == "__main__":
    main()
