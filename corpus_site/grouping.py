"""Stage 3, grouping: versions of one article form a group.

Pure: versions in, groups and problems out; no disk, no clock, fixed seeds, and nothing
depends on the order of the input or of set iteration.

1. Manifest. Files with the same ``metadata.group`` label form one group, and a label equal
   to a version's ID pulls that version in too (so two labels are merged when one names a
   file that carries the other: the manifest said so). Labelled files are never split or
   moved by similarity, and two labelled groups are never merged by similarity.
2. Similarity. Each version's article paragraphs (boilerplate left out, so a shared footer
   cannot link two stories) become one stream of lower-cased words of their comparison
   keys, cut into word 5-grams (shingles span paragraph breaks, so a split or merged
   paragraph changes nothing). MinHash + LSH (datasketch's affine32 scheme, fixed seed,
   computed here with numpy) proposes candidate pairs; an over-full LSH bucket is linked in
   a window rather than all pairs, to bound the candidates. The exact shingle sets confirm a pair when max(Jaccard, containment) reaches
   ``min_similarity`` (see ``shingle_similarity``). Texts under ``min_shingles`` shingles
   are never linked by similarity; containment needs ``containment_min_shingles``.
3. Linking. Confirmed pairs are joined with union-find, strongest first (score, then corpus
   order). Without labels and size limit the groups are exactly the connected components.
   An unlabelled version MAY join a labelled group by similarity (a new scraped copy of a
   labelled article belongs with it), but a link that would put two labels in one group is
   skipped, so an unlabelled version similar to two labelled groups joins the closer one.
   A link that would make a similarity group larger than ``max_group_size`` is skipped too
   (a deterministic split, strongest links kept) and reported; a manifest group larger than
   that is kept whole and reported.

Group ID and member order: members are sorted by (dated?, date, corpus order). Undated
members come first, in corpus order; then dated ones by ``metadata.published`` converted to
UTC (a date alone is midnight UTC, a time without zone is UTC), ties by corpus order; an
unparseable date counts as undated. The ID is the first member's. So adding a version dated
later than the group's first member never renames the group; neither does adding an undated
version that comes later in corpus order than the group's first undated member. (A version
that links two existing groups merges them under the ID of the earlier one.)
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import numpy as np

from .models import Group, Problem, Summary, Version
from .workers import cycle_collector_paused

_WORD_RE = re.compile(r"\w+")
_EMPTY = np.zeros(0, dtype=np.uint64)
# Shingles per numpy call when computing MinHash values: the work array of num_perm x this
# many 32-bit values (128 x 4 bytes x 2,048 = 1 MB) stays in the CPU cache (measured: 2.6x
# faster than 32 MB, no faster below).
_CHUNK = 2048


@dataclass(frozen=True)
class GroupingSettings:
    """Thresholds of near-duplicate detection, each with the reason for its value."""

    # Words per shingle. A one-word edit changes at most 5 shingles (about 1% of a 400-word
    # story), while runs of 5 words shared by unrelated stories are rare: stock phrases ("the
    # prime minister said") are 4 words or fewer. k=3 links stories by stock phrases; k=8
    # makes each corrected word cost 8 shingles and leaves short texts with none.
    shingle_words: int = 5
    # A version with fewer shingles (under 14 words, less than one news sentence) is never
    # grouped by similarity: a caption or "Live coverage follows" says nothing about which
    # article it is, and it keeps near-empty texts out of the LSH buckets.
    min_shingles: int = 10
    # Containment counts only when the smaller text has this many shingles (34 words, about
    # two news sentences): one quoted sentence is "contained" in every story that quotes it,
    # while a two-sentence brief inside the full story is a real version. (At 25, a synthetic
    # corpus that reused sentences had one 28-shingle sentence "contained" in 20 stories.)
    containment_min_shingles: int = 30
    # Confirming score (max of Jaccard and containment) at or above this links two versions.
    # BBC (derived_pairs.csv): follow-up stories that reuse passages score 0.31-0.60 (the 6
    # "related" pairs above 0.65 read as updated editions), revised and retitled copies
    # 0.67-1.0 (2 of 69 lower, at 0.57); 0.65 sits in that gap. Synthetic versions below
    # 0.65 are rare (0.7% of pairs), and two 400-word stories sharing an unmarked 3-sentence
    # footer score about 0.15.
    min_similarity: float = 0.65
    # MinHash size and LSH banding (bands x rows <= num_perm). A pair becomes a candidate
    # with probability 1 - (1 - J^rows)^bands: with 64 x 2 that is 0.93 at Jaccard 0.2 and
    # 0.998 at 0.3, and a cut version confirmed by containment 0.65 at a third of the length
    # of the full one has a Jaccard of about 0.2-0.3. Unrelated stories (Jaccard < 0.02)
    # become candidates with probability < 0.03, cheap to reject with the exact sets.
    num_perm: int = 128
    lsh_bands: int = 64
    lsh_rows: int = 2
    seed: int = 1  # MinHash permutations: fixed, so every build proposes the same pairs
    # An LSH bucket with more members than this is not compared all-pairs: it is a large
    # cluster of near-duplicates (or a hostile corpus), and linking each member with its
    # next `bucket_window` members in corpus order connects a near-duplicate cluster as
    # well as all pairs would, in linear instead of quadratic time. 50 is above the number
    # of versions of any one story in our corpora (at most 8 outlets in articlecomparisons).
    max_bucket: int = 50
    bucket_window: int = 4
    # A similarity group stops growing at this size (see the module docstring): the group
    # page and the sibling diffs grow with the members, and no real story in our corpora
    # has more than a few dozen versions, while a hostile corpus could chain 100,000.
    max_group_size: int = 200

    def __post_init__(self) -> None:
        if self.lsh_bands * self.lsh_rows > self.num_perm:
            raise ValueError("lsh_bands * lsh_rows must not exceed num_perm")
        if self.lsh_bands < 2 or self.lsh_rows < 1 or self.shingle_words < 1:
            raise ValueError("need at least 2 LSH bands, 1 row and 1 word per shingle")
        if not 1 <= self.min_shingles <= self.containment_min_shingles:
            raise ValueError("need 1 <= min_shingles <= containment_min_shingles")
        if not 0.0 < self.min_similarity <= 1.0:
            raise ValueError("min_similarity must be in (0, 1]")
        if self.max_group_size < 2 or self.max_bucket < 2 or self.bucket_window < 1:
            raise ValueError("max_group_size and max_bucket need at least 2, bucket_window 1")


DEFAULT_SETTINGS = GroupingSettings()


class _WordHashes(dict[str, int]):
    """Word -> 64-bit hash, computed on first lookup (stable across runs, unlike hash())."""

    def __missing__(self, word: str) -> int:
        data = word.encode("utf-8", "surrogatepass")
        value = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest())
        self[word] = value
        return value


class ShingleCache:
    """Word and paragraph hashes already computed: versions of one story share paragraphs."""

    def __init__(self) -> None:
        self.words = _WordHashes()
        self.paragraphs: dict[str, np.ndarray] = {}

    def paragraph(self, key: str) -> np.ndarray:
        """64-bit hashes of the lower-cased words of one paragraph key."""
        found = self.paragraphs.get(key)
        if found is None:
            words = _WORD_RE.findall(key.lower())
            found = np.fromiter(map(self.words.__getitem__, words), np.uint64, len(words))
            self.paragraphs[key] = found
        return found


def shingles(
    version: Version,
    settings: GroupingSettings = DEFAULT_SETTINGS,
    cache: ShingleCache | None = None,
) -> np.ndarray:
    """Sorted unique 64-bit hashes of the word shingles of a version's article paragraphs."""
    cache = cache or ShingleCache()
    # One stream over all paragraphs: a split or merged paragraph changes no shingle.
    parts = [cache.paragraph(p.key) for p in version.paragraphs if p.boilerplate is None]
    hashed = np.concatenate(parts) if parts else _EMPTY
    k = settings.shingle_words
    count = hashed.size - k + 1
    if count <= 0:
        return _EMPTY
    acc = np.zeros(count, dtype=np.uint64)
    for position, multiplier in enumerate(_multipliers(k)):
        acc += hashed[position : position + count] * multiplier
    # Sort and drop repeats: 6x faster than np.unique on arrays of this size.
    acc = np.sort(_fmix64(acc))
    return acc[np.concatenate(([True], acc[1:] != acc[:-1]))]


def set_similarity(a: np.ndarray, b: np.ndarray, settings: GroupingSettings) -> float:
    """The confirming score of two shingle sets (see shingle_similarity)."""
    small = min(a.size, b.size)
    if small < settings.min_shingles:
        return 0.0
    common = _common(a, b)
    jaccard = common / (a.size + b.size - common)
    if small < settings.containment_min_shingles:
        return jaccard
    return max(jaccard, common / small)


def shingle_similarity(
    a: Version, b: Version, settings: GroupingSettings = DEFAULT_SETTINGS
) -> float:
    """Confirming score: max(Jaccard, containment) of the shingle sets, 0 for tiny texts."""
    # Containment |A&B| / min(|A|,|B|) lets a cut copy match the full story; it is used only
    # when the smaller text has containment_min_shingles, and neither text counts below
    # min_shingles. Versions with a score >= settings.min_similarity are linked.
    return set_similarity(shingles(a, settings), shingles(b, settings), settings)


def candidate_pairs(
    sets: Sequence[np.ndarray], settings: GroupingSettings = DEFAULT_SETTINGS
) -> list[tuple[int, int]]:
    """Index pairs (i < j) that MinHash LSH proposes among the shingle sets, sorted."""
    indexed = [i for i, s in enumerate(sets) if s.size >= settings.min_shingles]
    signatures = minhash_signatures([sets[i] for i in indexed], settings)
    first, second = lsh_pairs(np.asarray(indexed, dtype=np.int64), signatures, len(sets), settings)
    return list(zip(first.tolist(), second.tolist(), strict=True))


def lsh_pairs(
    indices: np.ndarray, signatures: np.ndarray, n: int, settings: GroupingSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs (first < second, sorted) of MinHash LSH over signature rows.

    The buckets are those of datasketch's MinHashLSH with the same banding (the rows whose
    values in one band are equal), found by sorting each band instead of hashing one
    version at a time: 20x faster. A bucket gives all its pairs, an over-full one its
    members linked in a window (see GroupingSettings.max_bucket); a pair found in several
    bands counts once. indices[row] is the version index of signature row `row`, ascending;
    n bounds the indices.
    """
    rows = settings.lsh_rows
    codes: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    if len(indices) >= 2:
        for band in range(settings.lsh_bands):
            block = signatures[:, band * rows : (band + 1) * rows].astype(np.uint64)
            # Two 32-bit values per 64-bit key: the band is equal exactly when its keys are.
            keys = [
                (block[:, c] << np.uint64(32)) | block[:, c + 1] if c + 1 < rows else block[:, c]
                for c in range(0, rows, 2)
            ]
            # Stable: equal keys keep row order, so each bucket's members come out ascending.
            order = np.lexsort(keys[::-1]) if len(keys) > 1 else np.argsort(keys[0], kind="stable")
            fresh = np.zeros(len(order), dtype=bool)
            fresh[0] = True
            for key in keys:
                ranked = key[order]
                fresh[1:] |= ranked[1:] != ranked[:-1]
            starts = np.flatnonzero(fresh)
            lengths = np.diff(np.append(starts, len(order)))
            members = indices[order]
            for size in np.unique(lengths[lengths > 1]).tolist():
                buckets = members[starts[lengths == size][:, None] + np.arange(size)]
                x, y = _bucket_pairs(size, settings)
                codes.append((buckets[:, x] * n + buckets[:, y]).ravel())
    found = np.unique(np.concatenate(codes))
    return found // n, found % n


@cache
def _bucket_pairs(size: int, settings: GroupingSettings) -> tuple[np.ndarray, np.ndarray]:
    """Positions (x < y) of the pairs a bucket of this size links: all, or a window."""
    if size <= settings.max_bucket:
        x, y = np.triu_indices(size, 1)
    else:
        x = np.concatenate([np.arange(size - d) for d in range(1, settings.bucket_window + 1)])
        y = np.concatenate([np.arange(d, size) for d in range(1, settings.bucket_window + 1)])
    return x.astype(np.int64), y.astype(np.int64)


def minhash_signatures(
    sets: Sequence[np.ndarray], settings: GroupingSettings = DEFAULT_SETTINGS
) -> np.ndarray:
    """datasketch MinHash values (scheme affine32) of non-empty shingle sets, one row each."""
    # What MinHash(seed=settings.seed).update_batch(top 32 bits of each shingle) gives
    # (a test checks it), computed for many sets per numpy call instead of per shingle.
    a, b = _permutations(settings.num_perm, settings.seed)
    out = np.empty((len(sets), settings.num_perm), dtype=np.uint32)
    chunk: list[int] = []  # rows of small sets, computed together
    total = 0
    for row, shingle_set in enumerate([*sets, _EMPTY]):  # the empty sentinel flushes the rest
        if chunk and (total + shingle_set.size > _CHUNK or row == len(sets)):
            pieces = [sets[r] for r in chunk]
            offsets = np.cumsum([0] + [p.size for p in pieces[:-1]])
            out[chunk] = _permuted_min(np.concatenate(pieces), offsets, a, b).T
            chunk, total = [], 0
        if row == len(sets):
            break
        if shingle_set.size > _CHUNK:  # a long text alone, in slices, to bound the memory
            slices = range(0, shingle_set.size, _CHUNK)
            lows = [_permuted_min(shingle_set[i : i + _CHUNK], [0], a, b)[:, 0] for i in slices]
            out[row] = np.minimum.reduce(lows)
        else:
            chunk.append(row)
            total += shingle_set.size
    return out


@cache
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The affine32 permutations (a odd, b) as datasketch's MinHash(num_perm, seed) draws
    them (a test checks it); drawn here so that datasketch, which imports SciPy (1 s), is
    not imported by every build."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """What grouping needs of one version's text, computed once per text (and cached by the
    build): its shingle set, and its MinHash signature when it has enough shingles."""

    shingles: np.ndarray  # sorted unique 64-bit shingle hashes (see shingles())
    signature: np.ndarray | None  # uint32 x num_perm; None under min_shingles (never linked)

    def __reduce__(self) -> tuple[object, tuple[bytes, bytes | None]]:
        """Pickled as raw bytes: 10,000 of them load from the cache 5x faster than arrays."""
        signature = None if self.signature is None else self.signature.tobytes()
        return _fingerprint, (self.shingles.tobytes(), signature)


def _fingerprint(shingle_bytes: bytes, signature: bytes | None) -> Fingerprint:
    """A Fingerprint from the bytes Fingerprint.__reduce__ pickles (read-only arrays)."""
    return Fingerprint(
        np.frombuffer(shingle_bytes, dtype=np.uint64),
        None if signature is None else np.frombuffer(signature, dtype=np.uint32),
    )


def fingerprints(
    versions: Sequence[Version],
    settings: GroupingSettings = DEFAULT_SETTINGS,
    cache: ShingleCache | None = None,
) -> list[Fingerprint]:
    """The fingerprint of each version; signatures are computed many at a time."""
    cache = cache or ShingleCache()
    sets = [shingles(v, settings, cache) for v in versions]
    indexed = [i for i, s in enumerate(sets) if s.size >= settings.min_shingles]
    signed: list[np.ndarray | None] = [None] * len(sets)
    signatures = minhash_signatures([sets[i] for i in indexed], settings)
    for i, signature in zip(indexed, signatures, strict=True):
        signed[i] = signature
    return [Fingerprint(s, signature) for s, signature in zip(sets, signed, strict=True)]


def _permuted_min(
    shingle_hashes: np.ndarray, offsets: Sequence[int], a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Min over each segment of the affine32 permutations: one row per permutation."""
    values = _fmix32((shingle_hashes >> np.uint64(32)).astype(np.uint32))
    # One row per permutation, one column per shingle: the min runs along contiguous memory
    # (7x faster than the transposed layout), computed in place to spare temporaries.
    permuted = a[:, None] * values
    permuted += b[:, None]
    return np.minimum.reduceat(permuted, offsets, axis=1)


def group_versions(
    versions: Sequence[Version],
    settings: GroupingSettings = DEFAULT_SETTINGS,
    known: Mapping[str, Fingerprint] | None = None,
) -> tuple[tuple[Group, ...], tuple[Problem, ...]]:
    """Group versions of one article: manifest labels first, then confirmed similarity.

    known: fingerprints already computed with these settings, by version ID (the build
    makes them while reading, in parallel, and caches them); the others are computed here.
    """
    ordered = sorted(versions, key=lambda v: (v.source.order, v.id))
    known = known or {}

    def fetch(indices: Sequence[int]) -> list[Fingerprint]:
        missing = [ordered[i] for i in indices if ordered[i].id not in known]
        made = dict(zip((v.id for v in missing), fingerprints(missing, settings), strict=True))
        return [known.get(ordered[i].id) or made[ordered[i].id] for i in indices]

    members = [member_of(v) for v in ordered]
    keys = [v.id for v in ordered]  # no earlier grouping to compare with: any key will do
    groups, problems, _ = regroup(members, keys, fetch, settings)
    return groups, problems


@dataclass(frozen=True)
class Member:
    """What grouping needs of a version besides its text: who it is, where it stands in the
    corpus, its manifest label and its date."""

    id: str
    order: int
    path: str
    label: str | None  # metadata.group ("" counts as none)
    published: str | None


def member_of(version: Version | Summary) -> Member:
    """The Member of a version or of its summary."""
    meta = version.metadata
    return Member(version.id, version.order, version.path, meta.group, meta.published)


@dataclass(frozen=True, eq=False)
class PairIndex:
    """What a grouping keeps for the next one: every version's fingerprint key and MinHash
    signature, and the confirmed pairs. A rebuild after a few changes then proposes and
    confirms only the pairs of the versions whose fingerprint changed (see regroup)."""

    settings: GroupingSettings
    ids: tuple[str, ...]  # in corpus order
    keys: tuple[str, ...]  # fingerprint key of each (the build's cache key)
    signatures: np.ndarray  # (len(ids), num_perm) uint32; zeros where not signed
    signed: np.ndarray  # bool per row: has a signature (enough shingles)
    first: np.ndarray  # confirmed pairs: row indices, first < second
    second: np.ndarray
    scores: np.ndarray  # their confirming scores (float64)


# Above this many changed fingerprints a regrouping computes every pair again: each change
# costs two scans of the signature matrix and the look-up of its candidates' shingles (about
# 5 ms at 10,000 versions), a full pass about 0.7 s (loading 10,000 fingerprints included).
MAX_INCREMENTAL_CHANGES = 100


def regroup(
    members: Sequence[Member],
    keys: Sequence[str],
    fetch: Callable[[Sequence[int]], list[Fingerprint]],
    settings: GroupingSettings = DEFAULT_SETTINGS,
    previous: PairIndex | None = None,
) -> tuple[tuple[Group, ...], tuple[Problem, ...], PairIndex]:
    """group_versions over members in corpus order, whose fingerprints fetch(indices) gives
    (keys[i] names the fingerprint of members[i]: equal keys, equal fingerprints).

    With the PairIndex of an earlier grouping, only the pairs of members whose key is new
    are proposed and confirmed; the others are those of the earlier grouping. That gives
    the same pairs as a full pass whenever no LSH bucket that changed holds more than
    max_bucket versions (then a bucket links all its pairs, before and after, and only
    pairs of changed members can differ); otherwise, or after many changes, every pair is
    computed again. Returns the groups, the problems and the index for the next grouping.
    """
    ids = [m.id for m in members]
    if len(set(ids)) != len(ids):
        raise ValueError("group_versions needs unique version IDs")
    if [(m.order, m.id) for m in members] != sorted((m.order, m.id) for m in members):
        raise ValueError("regroup needs its members in corpus order")
    with cycle_collector_paused():
        index = None
        if previous is not None and previous.settings == settings:
            index = _pairs_after_changes(ids, keys, fetch, settings, previous)
        if index is None:
            index = _all_pairs(ids, keys, fetch(range(len(members))), settings)
        groups, problems = _link(members, index, settings)
    return groups, problems, index


def _all_pairs(
    ids: Sequence[str],
    keys: Sequence[str],
    prints: Sequence[Fingerprint],
    settings: GroupingSettings,
) -> PairIndex:
    """Every confirmed pair: LSH candidates of all signed versions, confirmed by their sets."""
    sets = [p.shingles for p in prints]
    signatures = np.zeros((len(prints), settings.num_perm), dtype=np.uint32)
    signed = np.zeros(len(prints), dtype=bool)
    indexed = np.asarray([i for i, p in enumerate(prints) if p.signature is not None], np.int64)
    if indexed.size:
        signatures[indexed] = np.stack([prints[i].signature for i in indexed.tolist()])  # type: ignore[misc]
        signed[indexed] = True
    first, second = lsh_pairs(indexed, signatures[indexed], len(sets), settings)
    return _confirmed(
        ids, keys, signatures, signed, first.tolist(), second.tolist(), sets, settings
    )


def _confirmed(
    ids: Sequence[str],
    keys: Sequence[str],
    signatures: np.ndarray,
    signed: np.ndarray,
    first: Sequence[int],
    second: Sequence[int],
    sets: Sequence[np.ndarray] | Mapping[int, np.ndarray],
    settings: GroupingSettings,
    kept: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> PairIndex:
    """The index of these candidate pairs that their shingle sets confirm (plus the pairs
    kept from an earlier index)."""
    a, b, scores = [], [], []
    for i, j in zip(first, second, strict=True):
        score = set_similarity(sets[i], sets[j], settings)
        if score >= settings.min_similarity:
            a.append(i)
            b.append(j)
            scores.append(score)
    found = (
        np.asarray(a, dtype=np.int64),
        np.asarray(b, dtype=np.int64),
        np.asarray(scores, dtype=np.float64),
    )
    if kept is not None:
        found = tuple(np.concatenate(parts) for parts in zip(kept, found, strict=True))  # type: ignore[assignment]
    return PairIndex(settings, tuple(ids), tuple(keys), signatures, signed, *found)


def _pairs_after_changes(
    ids: Sequence[str],
    keys: Sequence[str],
    fetch: Callable[[Sequence[int]], list[Fingerprint]],
    settings: GroupingSettings,
    previous: PairIndex,
) -> PairIndex | None:
    """The index of a grouping whose members differ from the previous one's in a few
    fingerprints; None when it cannot be had that way (see regroup)."""
    where = {vid: row for row, vid in enumerate(previous.ids)}
    old_row = np.full(len(ids), -1, dtype=np.int64)
    for i, (vid, key) in enumerate(zip(ids, keys, strict=True)):
        row = where.get(vid)
        if row is not None and previous.keys[row] == key:
            old_row[i] = row
    same = np.flatnonzero(old_row >= 0)
    changed = np.flatnonzero(old_row < 0)
    new_row = np.full(len(previous.ids), -1, dtype=np.int64)
    new_row[old_row[same]] = same
    gone = np.flatnonzero(new_row < 0)  # rows of the previous index that left or changed
    if len(changed) + len(gone) > MAX_INCREMENTAL_CHANGES:
        return None
    if not len(changed) and not len(gone) and len(ids) == len(previous.ids):
        return previous
    fresh = dict(zip(changed.tolist(), fetch(changed.tolist()), strict=True))
    signatures = np.zeros((len(ids), settings.num_perm), dtype=np.uint32)
    signed = np.zeros(len(ids), dtype=bool)
    signatures[same] = previous.signatures[old_row[same]]
    signed[same] = previous.signed[old_row[same]]
    for i, p in fresh.items():
        if p.signature is not None:
            signatures[i] = p.signature
            signed[i] = True
    # Every bucket whose members changed, before and after: none may be over-full.
    before = (previous.signatures, previous.signed)
    after = (signatures, signed)
    touched = [previous.signatures[row] for row in gone if previous.signed[row]]
    touched += [signatures[i] for i in changed if signed[i]]
    for signature in touched:
        for matrix, rows in (before, after):
            if _band_members(matrix, rows, signature, settings).sum(axis=0).max(initial=0) > (
                settings.max_bucket
            ):
                return None
    candidates: set[tuple[int, int]] = set()
    for i in changed.tolist():
        if signed[i]:
            hits = _band_members(signatures, signed, signatures[i], settings).any(axis=1)
            hits[i] = False
            candidates.update((min(i, j), max(i, j)) for j in np.flatnonzero(hits).tolist())
    pairs = sorted(candidates)
    wanted = sorted({i for pair in pairs for i in pair} - fresh.keys())
    sets = {i: p.shingles for i, p in fresh.items()}
    sets.update((i, p.shingles) for i, p in zip(wanted, fetch(wanted), strict=True))
    a, b = new_row[previous.first], new_row[previous.second]
    keep = (a >= 0) & (b >= 0)
    kept = (a[keep], b[keep], previous.scores[keep])
    first, second = [p[0] for p in pairs], [p[1] for p in pairs]
    return _confirmed(ids, keys, signatures, signed, first, second, sets, settings, kept)


def _band_members(
    matrix: np.ndarray, rows: np.ndarray, signature: np.ndarray, settings: GroupingSettings
) -> np.ndarray:
    """(rows of matrix, bands) booleans: which signed rows share each band with signature."""
    width = settings.lsh_bands * settings.lsh_rows
    shape = (settings.lsh_bands, settings.lsh_rows)
    block = matrix[:, :width].reshape(len(matrix), *shape)
    return (block == signature[:width].reshape(shape)).all(axis=2) & rows[:, None]


def _link(
    ordered: Sequence[Member], index: PairIndex, settings: GroupingSettings
) -> tuple[tuple[Group, ...], tuple[Problem, ...]]:
    """The groups of the manifest labels and the confirmed pairs, strongest first."""
    ids = [m.id for m in ordered]
    keys = [_order_key(m) for m in ordered]
    links = _Links(len(ordered))
    problems = _manifest(ordered, keys, links, settings)
    # Strongest first, ties by corpus order: (-score, i, j), as a list of tuples sorts.
    rank = np.lexsort((index.second, index.first, -index.scores))
    confirmed = list(
        zip(
            index.scores[rank].tolist(),
            index.first[rank].tolist(),
            index.second[rank].tolist(),
            strict=True,
        )
    )
    too_large = [(i, j) for _, i, j in confirmed if not links.join(i, j, settings.max_group_size)]
    problems += _split_warnings(ordered, keys, links, too_large, settings)

    members_of: dict[int, list[int]] = defaultdict(list)
    for i in range(len(ordered)):
        members_of[links.find(i)].append(i)
    pairs_of: dict[int, list[tuple[str, str, float]]] = defaultdict(list)
    for score, i, j in confirmed:
        root = links.find(i)
        if root == links.find(j):
            a, b = sorted((ids[i], ids[j]))
            pairs_of[root].append((a, b, round(score, 4)))
    groups = []
    for root, members in members_of.items():  # roots appear in corpus order of their first file
        members.sort(key=keys.__getitem__)
        if len(members) == 1:
            origin = "single"
        elif links.anchored[root]:
            origin = "manifest"
        else:
            origin = "similarity"
        groups.append(
            Group(
                id=ids[members[0]],
                members=tuple(ids[m] for m in members),
                origin=origin,
                pairs=tuple(sorted(pairs_of[root])),
            )
        )
    return tuple(groups), tuple(sorted(problems, key=lambda p: (p.file, p.code, p.message)))


class _Links:
    """Union-find over version indices that knows which sets hold a manifest label."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        self.anchored = [False] * n  # the set holds a labelled file

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if ra > rb:  # the smaller index stays root: roots are then first members in corpus order
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        self.anchored[ra] = self.anchored[ra] or self.anchored[rb]
        return ra

    def join(self, a: int, b: int, limit: int) -> bool:
        """Link a similarity pair unless it joins two labels; False when only size forbids it."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb or (self.anchored[ra] and self.anchored[rb]):
            return True
        if self.size[ra] + self.size[rb] > limit:
            return False
        self.union(ra, rb)
        return True


def _manifest(
    ordered: Sequence[Member],
    keys: Sequence[tuple[int, str, int]],
    links: _Links,
    settings: GroupingSettings,
) -> list[Problem]:
    """Join labelled files (and files whose ID a label names); warn about lone labels."""
    index_of = {v.id: i for i, v in enumerate(ordered)}
    labelled: dict[str, list[int]] = defaultdict(list)
    for i, member in enumerate(ordered):
        if member.label:  # an empty label is no label
            labelled[member.label].append(i)
    problems = []
    for label in sorted(labelled):
        members = labelled[label]
        named = index_of.get(label)
        everyone = sorted({*members, named} - {None})
        if len(everyone) == 1:
            problems.append(
                Problem(
                    ordered[members[0]].path,
                    "warning",
                    "group-names-no-other-file",
                    f"group {label!r} names no other file of the corpus (neither another "
                    "file's group nor an ID); check it for a typo",
                )
            )
        for i in everyone:
            links.anchored[i] = True
            links.union(everyone[0], i)
    sizes: dict[int, list[int]] = defaultdict(list)
    for i in range(len(ordered)):
        if links.anchored[links.find(i)]:
            sizes[links.find(i)].append(i)
    for members in sizes.values():
        if len(members) > settings.max_group_size:
            first = min(members, key=keys.__getitem__)
            problems.append(
                Problem(
                    ordered[first].path,
                    "warning",
                    "group-too-large",
                    f"the manifest puts {len(members)} files in one group, over the limit of "
                    f"{settings.max_group_size}; kept whole because manifest labels win",
                )
            )
    return problems


def _split_warnings(
    ordered: Sequence[Member],
    keys: Sequence[tuple[int, str, int]],
    links: _Links,
    too_large: Sequence[tuple[int, int]],
    settings: GroupingSettings,
) -> list[Problem]:
    """One warning per cluster of groups that similarity links but the size limit kept apart."""
    split = [(links.find(i), links.find(j)) for i, j in too_large]
    split = [(a, b) for a, b in split if a != b]  # later links may have joined them after all
    if not split:
        return []
    clusters = _Links(len(ordered))
    for a, b in split:
        clusters.union(a, b)
    roots_of: dict[int, set[int]] = defaultdict(set)
    for a, b in split:
        roots_of[clusters.find(a)].update((a, b))
    members_of: dict[int, list[int]] = defaultdict(list)
    for i in range(len(ordered)):
        members_of[links.find(i)].append(i)
    problems = []
    for roots in roots_of.values():
        members = [m for root in roots for m in members_of[root]]
        first = min(members, key=keys.__getitem__)
        problems.append(
            Problem(
                ordered[first].path,
                "warning",
                "group-too-large",
                f"{len(members)} files are linked by similarity, over the group size limit of "
                f"{settings.max_group_size}; split into {len(roots)} groups, strongest links "
                "kept",
            )
        )
    return problems


def _order_key(member: Member) -> tuple[int, str, int]:
    """Sort key of a member: undated first by corpus order, then dated by UTC time."""
    published = member.published
    if published:
        try:
            when = datetime.fromisoformat(published.strip())
        except ValueError:
            pass
        else:
            if when.tzinfo is not None:
                when = when.astimezone(UTC).replace(tzinfo=None)
            return (1, when.isoformat(timespec="microseconds"), member.order)
    return (0, "", member.order)


@cache
def _multipliers(k: int) -> tuple[np.uint64, ...]:
    """One odd 64-bit multiplier per shingle position, so word order matters."""
    return tuple(
        np.uint64(int.from_bytes(hashlib.blake2b(b"shingle-%d" % j, digest_size=8).digest()) | 1)
        for j in range(k)
    )


def _common(a: np.ndarray, b: np.ndarray) -> int:
    """Size of the intersection of two non-empty sorted unique arrays."""
    if a.size > b.size:
        a, b = b, a
    # Look the smaller set up in the larger: 1.7x faster than np.intersect1d here.
    at = b.searchsorted(a)
    np.minimum(at, b.size - 1, out=at)
    return int(np.count_nonzero(b.take(at) == a))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch applies it before its permutations."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: spreads the sums over all bits."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))
