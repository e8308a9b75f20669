"""Measure grouping against a ground truth: pair precision and recall, and wall time.

    python bench/eval_grouping.py CORPUS TRUTH [--lsh-recall SAMPLE]
    python bench/eval_grouping.py CORPUS --bbc-pairs derived_pairs.csv [--lsh-recall SAMPLE]

CORPUS is read and normalized by the project's own reader and normalizer, exactly as a
build does; then group_versions runs once and is timed. TRUTH is a CSV with columns
file,article (as written by make_corpus.py): pair precision = share of the pairs put in
one group that are versions of one article; pair recall = share of the pairs of versions of
one article that were put in one group. --bbc-pairs reads the BBC pair list instead
(file_a,file_b,label,...): exact_duplicate, same_title_variant and retitled_near_duplicate
rows are positives, related_overlap rows are uncertain and reported apart.

--lsh-recall SAMPLE compares the LSH candidate stage with an exact computation of the same
confirming similarity over all pairs of SAMPLE versions (whole articles of the truth when
there is one, so the sample holds many true pairs; a uniform sample otherwise): the share of
the pairs that the exact computation confirms which LSH also proposed. Pairs sharing no
shingle score 0, so the exact side only scores pairs found through an inverted index.

Prints figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus_site.grouping import (
    GroupingSettings,
    ShingleCache,
    candidate_pairs,
    group_versions,
    set_similarity,
    shingles,
)
from corpus_site.models import Group, Problem, Version


def load_versions(corpus: Path) -> tuple[list[Version], list[Problem]]:
    """Read and normalize the corpus the way a build does (corpus_site.reading)."""
    from corpus_site.config import load_config
    from corpus_site.reading import read_and_normalize

    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            corpus_dir=corpus,
            docs_dir=Path(tmp) / "docs",
            site_dir=Path(tmp) / "site",
            mkdocs_file=Path(tmp) / "mkdocs.yml",
            build_site=False,
        )
    _, versions, problems, _ = read_and_normalize(config)
    return versions, problems


def pairs_in(n: int) -> int:
    """Number of unordered pairs among n items."""
    return n * (n - 1) // 2


def group_of_path(versions: Sequence[Version], groups: Sequence[Group]) -> dict[str, str]:
    """Corpus-relative path -> group ID."""
    path_of = {v.id: v.source.path for v in versions}
    return {path_of[m]: g.id for g in groups for m in g.members}


def report_truth(found: dict[str, str], truth_csv: Path, problems: Sequence[Problem]) -> None:
    """Pair precision and recall against a file,article truth."""
    with open(truth_csv, newline="", encoding="utf-8") as f:
        truth = {row["file"]: row["article"] for row in csv.DictReader(f)}
    both = sorted(set(found) & set(truth))
    cells = Counter((found[f], truth[f]) for f in both)
    true_positive = sum(pairs_in(n) for n in cells.values())
    predicted = sum(pairs_in(n) for n in Counter(found[f] for f in both).values())
    actual = sum(pairs_in(n) for n in Counter(truth[f] for f in both).values())
    articles: dict[str, set[str]] = defaultdict(set)
    for f in both:
        articles[truth[f]].add(found[f])
    whole = sum(1 for g in articles.values() if len(g) == 1)
    print(f"files in truth {len(truth)}, grouped {len(found)}, in both {len(both)}")
    missing = Counter(p.code for p in problems if p.file in set(truth) - set(found))
    if missing:
        print(f"  truth files not grouped, by the reader's problem code: {dict(missing)}")
    print(f"pairs: predicted {predicted}, true {actual}, both {true_positive}")
    print(f"pair precision {true_positive / max(predicted, 1):.4f}")
    print(f"pair recall    {true_positive / max(actual, 1):.4f}")
    print(f"articles kept in a single group: {whole}/{len(articles)}")


def report_bbc(found: dict[str, str], pairs_csv: Path, problems: Sequence[Problem]) -> None:
    """Recall per label of the BBC pair list, and where the predicted pairs fall in it."""

    def local(name: str) -> str | None:
        if name in found:
            return name
        tail = name.split("/", 1)[-1]  # the list names files as bbc/<topic>/<n>.txt
        return tail if tail in found else None

    labels: dict[tuple[str, str], str] = {}
    outcome: Counter[tuple[str, str]] = Counter()
    code_of = {p.file: p.code for p in problems}
    with open(pairs_csv, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            a, b = local(row["file_a"]), local(row["file_b"])
            if a is None or b is None:
                absent = row["file_a"] if a is None else row["file_b"]
                code = code_of.get(absent.split("/", 1)[-1], "not in corpus")
                outcome[(row["label"], f"not grouped ({code})")] += 1
                continue
            labels[tuple(sorted((a, b)))] = row["label"]  # type: ignore[index]
            same = found[a] == found[b]
            outcome[(row["label"], "same group" if same else "different groups")] += 1
    for (label, result), n in sorted(outcome.items()):
        print(f"  {label:26} {result:40} {n}")
    members: dict[str, list[str]] = defaultdict(list)
    for path, gid in found.items():
        members[gid].append(path)
    where: Counter[str] = Counter()
    for paths in members.values():
        paths.sort()
        for i, a in enumerate(paths):
            for b in paths[i + 1 :]:
                where[labels.get((a, b), "unlisted")] += 1
    positives = ("exact_duplicate", "same_title_variant", "retitled_near_duplicate")
    hit = sum(where[k] for k in positives)
    listed = sum(outcome[(k, r)] for k in positives for r in ("same group", "different groups"))
    print(f"predicted pairs by label: {dict(sorted(where.items()))}")
    print(f"pair precision (related_overlap left out) {hit / max(hit + where['unlisted'], 1):.4f}")
    print(f"pair recall of positives with both files grouped {hit / max(listed, 1):.4f}")


def lsh_recall(
    versions: Sequence[Version], sample: int, truth_csv: Path | None, settings: GroupingSettings
) -> None:
    """Recall of the LSH candidates against exact all-pairs confirmation on a sample."""
    rng = random.Random(1)
    ordered = sorted(versions, key=lambda v: v.source.order)
    if truth_csv is not None:
        with open(truth_csv, newline="", encoding="utf-8") as f:
            article_of = {row["file"]: row["article"] for row in csv.DictReader(f)}
        by_article: dict[str, list[Version]] = defaultdict(list)
        for v in ordered:
            by_article[article_of.get(v.source.path, v.source.path)].append(v)
        names = sorted(by_article)
        rng.shuffle(names)
        chosen: list[Version] = []
        for name in names:
            if len(chosen) >= sample:
                break
            chosen.extend(by_article[name])
        how = "whole articles"
    else:
        chosen = rng.sample(ordered, min(sample, len(ordered)))
        how = "uniform"
    chosen.sort(key=lambda v: v.source.order)
    cache = ShingleCache()
    sets = [shingles(v, settings, cache) for v in chosen]
    n = len(sets)

    clock = time.perf_counter()
    candidates = {i * n + j for i, j in candidate_pairs(sets, settings)}
    lsh_seconds = time.perf_counter() - clock

    # Exact side: every pair sharing a shingle, via an inverted index.
    clock = time.perf_counter()
    usable = [i for i, s in enumerate(sets) if s.size >= settings.min_shingles]
    values = np.concatenate([sets[i] for i in usable])
    owners = np.concatenate([np.full(sets[i].size, i, dtype=np.int64) for i in usable])
    order = np.argsort(values, kind="stable")
    values, owners = values[order], owners[order]
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    ends = np.r_[starts[1:], values.size]
    codes = []
    lengths = ends - starts
    for m in np.unique(lengths[lengths > 1]):  # all shingles held by m versions at once
        docs = owners[starts[lengths == m][:, None] + np.arange(m)]  # one row per shingle
        a, b = np.triu_indices(m, 1)
        codes.append((docs[:, a] * n + docs[:, b]).ravel())
    shared, common = np.unique(np.concatenate(codes or [np.zeros(0, np.int64)]), return_counts=True)
    size = np.array([s.size for s in sets])
    first, second = shared // n, shared % n
    small = np.minimum(size[first], size[second])
    bound = np.maximum(common / small, common / (size[first] + size[second] - common))
    maybe = shared[bound >= settings.min_similarity - 1e-9]
    exact = {
        int(code)
        for code in maybe
        if set_similarity(sets[code // n], sets[code % n], settings) >= settings.min_similarity
    }
    exact_seconds = time.perf_counter() - clock

    hit = len(exact & candidates)
    print(f"LSH recall sample: {n} versions ({how}), {len(shared)} pairs share a shingle")
    print(f"  exact confirmed pairs {len(exact)} ({exact_seconds:.1f} s)")
    print(f"  LSH candidates {len(candidates)} ({lsh_seconds:.1f} s), of them confirmed {hit}")
    print(f"  LSH-stage pair recall {hit / max(len(exact), 1):.4f}")
    # The hard case: pairs confirmed by containment alone (a cut copy), with a low Jaccard.
    where = {int(code): k for k, code in enumerate(shared)}
    low = {
        c for c in exact if common[where[c]] / (size[c // n] + size[c % n] - common[where[c]]) < 0.4
    }
    found = len(low & candidates)
    print(f"  of them with Jaccard < 0.4: {len(low)}, LSH recall {found / max(len(low), 1):.4f}")
    missed = sorted(exact - candidates)
    for code in missed[:10]:
        a, b = sets[code // n], sets[code % n]
        inter = np.intersect1d(a, b, assume_unique=True).size
        print(
            f"  missed {chosen[code // n].id} {chosen[code % n].id}: sizes {a.size}/{b.size}, "
            f"Jaccard {inter / (a.size + b.size - inter):.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("truth", type=Path, nargs="?", help="file,article CSV")
    parser.add_argument("--bbc-pairs", type=Path, help="BBC derived_pairs.csv")
    parser.add_argument("--lsh-recall", type=int, metavar="SAMPLE", help="sample size")
    args = parser.parse_args(argv)
    settings = GroupingSettings()

    clock = time.perf_counter()
    versions, problems = load_versions(args.corpus)
    print(f"read and normalize: {len(versions)} versions in {time.perf_counter() - clock:.1f} s")
    clock, cpu = time.perf_counter(), time.process_time()
    groups, group_problems = group_versions(versions, settings)
    seconds, cpu = time.perf_counter() - clock, time.process_time() - cpu
    sizes = Counter(len(g.members) for g in groups)
    print(
        f"grouping: {len(versions)} versions -> {len(groups)} groups in {seconds:.1f} s "
        f"wall, {cpu:.1f} s CPU (load average before: {os.getloadavg()[0]:.1f})"
    )
    print(f"  group sizes {dict(sorted(sizes.items()))}; problems {len(group_problems)}")
    found = group_of_path(versions, groups)
    if args.truth is not None:
        report_truth(found, args.truth, problems)
    if args.bbc_pairs is not None:
        report_bbc(found, args.bbc_pairs, problems)
    if args.lsh_recall:
        lsh_recall(versions, args.lsh_recall, args.truth, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
