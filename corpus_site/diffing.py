"""Stage 4: align the paragraphs of two versions, then the words inside changed paragraphs.

Pure functions, no disk, no clock, no randomness. The sequence matcher is cydifflib's, a
compiled port of difflib.SequenceMatcher with the same results (tests/test_diffing.py checks
it against difflib), about 18 times faster on the token lists of a paragraph. It always runs
with autojunk=False: with it on, tokens that are frequent in a sequence of 200+ items are
ignored and the output would change with the length of the text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate, compress
from operator import ne
from typing import Any, cast

from cydifflib import SequenceMatcher

from .models import AlignedRow, Diff, DiffCounts, Paragraph, RowKind, Version, WordOp

_FOLD_TABLE = str.maketrans(
    dict.fromkeys("\u2018\u2019\u201a\u201b\u2032`\u00b4", "'")
    | dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"')
    | dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-")
)

# Whitespace runs, words (letters/digits plus Latin combining marks, so a decomposed "é" stays
# one word), and any other single character. Every character falls in one class, so joining
# the tokens rebuilds the text exactly.
_WORD = r"[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
_TOKEN_RE = re.compile(rf"\s+|{_WORD}|.", re.DOTALL)
_WORD_RE = re.compile(_WORD)
# A character that is a token by itself wherever it stands: neither space nor part of a word.
_LONE = re.compile(rf"[^\s{_WORD[1:-2]}]")

# Two paragraphs are "the same paragraph, edited" when the Dice coefficient of their distinct
# (case-folded) word sets is at least this. Measured on the default corpus (001, 14 paragraphs):
# different paragraphs of one article share function words and names (Dice 0.05-0.41, mean
# 0.16), while one whose later sentences are rewritten still scores 0.49-0.56 with its first
# sentence kept out of two or three. 0.5 sits above every unrelated pair.
CHANGED_MIN = 0.5
# A piece of a split (or merge) must have at least this share of its words in the whole.
PIECE_MIN = 0.5
# Longest run of consecutive paragraphs tried as one side of a split or merge. Editors split a
# paragraph in two or three; bounding the window keeps the search O(m * n * W) per region
# instead of O(m * n^2).
SPLIT_WINDOW = 4

_MIRROR_KIND = {
    "only_a": "only_b",
    "only_b": "only_a",
    "split": "merge",
    "merge": "split",
    "boilerplate_a": "boilerplate_b",
    "boilerplate_b": "boilerplate_a",
}
_MIRROR_OP = {"delete": "insert", "insert": "delete"}
# Rows whose paragraphs stand in the same order in both versions: they anchor A-only rows.
_IN_ORDER = frozenset({"equal", "typographic", "changed", "split", "merge"})

# (kind, body indices in A, body indices in B); kind "same" is a key-equal pair in sequence.
_Pairing = tuple[str, tuple[int, ...], tuple[int, ...]]


# The same mapping as (character, replacement) pairs: str.replace of the few that occur is
# 6x faster than str.translate, which looks every character up in a dict.
_FOLD_PAIRS = tuple((chr(code), to) for code, to in _FOLD_TABLE.items())
_ASCII_FOLD_PAIRS = tuple(pair for pair in _FOLD_PAIRS if pair[0].isascii())


def fold(text: str) -> str:
    """Comparison key: NFKC, curly quotes to straight, dashes to hyphen, whitespace folded."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return " ".join(_fold_marks(text, _ASCII_FOLD_PAIRS).split())
    # Translate before NFKC too: NFKC turns U+2033 into two primes and U+00B4 into a combining accent.
    text = _fold_marks(unicodedata.normalize("NFKC", _fold_marks(text)))
    return " ".join(text.split())


def _fold_marks(text: str, pairs: tuple[tuple[str, str], ...] = _FOLD_PAIRS) -> str:
    """text.translate(_FOLD_TABLE), faster (pairs: the part of the table text can hold)."""
    for mark, to in pairs:
        if mark in text:
            text = text.replace(mark, to)
    return text


def tokenize(text: str) -> list[str]:
    """Split text into words, whitespace runs and single other characters; they join back."""
    return _TOKEN_RE.findall(text)


class _Memo(dict[Any, Any]):
    """fn(key), remembered by key. A hit is one dict lookup in C (map(memo.__getitem__, ...)
    needs no Python call); when full, the memo starts again empty."""

    def __init__(self, fn: Callable[[Any], Any], size: int) -> None:
        super().__init__()
        self.fn, self.size = fn, size

    def __missing__(self, key: Any) -> Any:
        if len(self) >= self.size:
            self.clear()
        value = self[key] = self.fn(key)
        return value


# A paragraph takes part in one diff per sibling it is compared with (up to ten), and the same
# tokens recur across them: their keys, word counts and word sets are remembered. 2**17
# entries hold the vocabulary of the 10,000-version benchmark corpus (about 39,000 distinct
# tokens); the bound keeps a corpus of random tokens from growing a memo without end.
_MEMO_SIZE = 1 << 17
_token_keys = _Memo(fold, _MEMO_SIZE)
_word_counts = _Memo(lambda text: _count_words(text), _MEMO_SIZE)
_word_sets = _Memo(lambda key: frozenset(_WORD_RE.findall(key.casefold())), _MEMO_SIZE)
# Tokens, their keys and where each starts, of the texts word-diffed lately: 60% of the text
# word-diffed in the 1,000-version benchmark had been word-diffed before (against another
# sibling). The diffs of one group come one after another, so a window of 4,096 texts is
# enough; a larger one would hold hundreds of megabytes of token lists at 10,000 versions.
_tokenized = _Memo(lambda text: _tokens_and_keys(text), 1 << 12)


# Word diffs of paragraph pairs lately diffed: versions of one article share paragraphs, so
# the same pair recurs in the diffs of a group (45% of the text word-diffed in the
# 1,000-version benchmark).
_word_diffs = _Memo(lambda pair: _word_diff(*pair), 1 << 12)


def _tokens_and_keys(text: str) -> tuple[list[str], list[str], list[int]]:
    """The tokens of text, their keys, and the offset in text of each token and of its end."""
    tokens = tokenize(text)
    keys = list(map(_token_keys.__getitem__, tokens))
    return tokens, keys, [0, *accumulate(map(len, tokens))]


def _count_words(text: str) -> int:
    return len(_WORD_RE.findall(text))


def word_count(text: str) -> int:
    """Number of word tokens (runs of letters and digits) in text."""
    return _word_counts[text]


def word_diff(a: str, b: str) -> tuple[WordOp, ...]:
    """Word-level ops turning a into b; the A sides join to a and the B sides join to b."""
    if a == b:
        return (("equal", a, b),) if a else ()
    # SequenceMatcher breaks ties toward its first argument; running it in one canonical
    # direction makes word_diff(b, a) the exact mirror of word_diff(a, b).
    if a > b:
        return _mirror_ops(_word_diffs[b, a])
    return _word_diffs[a, b]


def _word_diff(a: str, b: str) -> tuple[WordOp, ...]:
    if len(a) == len(b):
        ops = _swapped_marks(a, b)
        if ops is not None:
            return ops
    return _token_diff(a, b)


# Each changed character found costs a few slice comparisons: a text with more changes than
# this is tokenized instead (the result is the same either way).
_MAX_SWAPPED = 32


def _swapped_marks(a: str, b: str) -> tuple[WordOp, ...] | None:
    """The word diff of two texts of one length that differ only in lone marks of the same
    key (’ for ', “ for "), found without tokenizing; None when they differ otherwise.

    Such marks are tokens by themselves in both texts and every other token is the same, so
    the token keys are equal and the diff is the runs of changed marks between unchanged text
    (what _token_diff gives, tests/test_diffing.py checks)."""
    changed: list[int] = []
    if not _find_changed(a, b, 0, len(a), changed):
        return None
    runs: list[list[int]] = []  # [first, end) of each run of changed marks
    for i in changed:
        x, y = a[i], b[i]
        if not (_LONE.match(x) and _LONE.match(y)) or _token_keys[x] != _token_keys[y]:
            return None
        if runs and runs[-1][1] == i:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    ops: list[WordOp] = []
    at = 0
    for first, end in runs:
        if at < first:
            ops.append(("equal", a[at:first], a[at:first]))
        ops.append(("typo", a[first:end], b[first:end]))
        at = end
    if at < len(a):
        ops.append(("equal", a[at:], a[at:]))
    return tuple(ops)


def _find_changed(a: str, b: str, lo: int, hi: int, changed: list[int]) -> bool:
    """Add the positions in [lo, hi) where a and b differ, halving the range (each half
    compared in C); False when there are more than _MAX_SWAPPED."""
    if a[lo:hi] == b[lo:hi]:
        return True
    if hi - lo <= 8:
        changed.extend(i for i in range(lo, hi) if a[i] != b[i])
        return len(changed) <= _MAX_SWAPPED
    mid = (lo + hi) // 2
    return _find_changed(a, b, lo, mid, changed) and _find_changed(a, b, mid, hi, changed)


def _token_diff(a: str, b: str) -> tuple[WordOp, ...]:
    """Word diff of the tokens of a and b, by the sequence matcher."""
    # Texts are cut at token offsets (at, bt) rather than joined back from tokens.
    (ta, ka, at), (tb, kb, bt) = _tokenized[a], _tokenized[b]
    if ka == kb:
        # Typography only: the matcher would give one "equal" opcode over everything.
        opcodes = [("equal", 0, len(ka), 0, len(kb))]
    else:
        opcodes = SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes()
    ops: list[WordOp] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            # Tokens with equal keys, paired one to one: runs of identical tokens are
            # "equal", runs of tokens that differ in typography only are "typo".
            start = i1  # where the run of identical tokens before the next difference starts
            for first, last in _runs(compress(range(i1, i2), map(ne, ta[i1:i2], tb[j1:j2]))):
                if start < first:
                    ops.append(("equal", a[at[start] : at[first]], a[at[start] : at[first]]))
                ops.append(
                    ("typo", a[at[first] : at[last]], b[bt[first - i1 + j1] : bt[last - i1 + j1]])
                )
                start = last
            if start < i2:
                ops.append(("equal", a[at[start] : at[i2]], a[at[start] : at[i2]]))
        else:
            x, y = a[at[i1] : at[i2]], b[bt[j1] : bt[j2]]
            ops.append((_classify(x, y), x, y))
    merged: list[WordOp] = []
    for op in ops:
        if merged and merged[-1][0] == op[0]:
            last = merged[-1]
            merged[-1] = (op[0], last[1] + op[1], last[2] + op[2])
        else:
            merged.append(op)
    return tuple(merged)


def _runs(indices: Iterable[int]) -> Iterator[tuple[int, int]]:
    """(first, last + 1) of each run of consecutive numbers in increasing indices."""
    first = last = -2
    for k in indices:
        if k != last + 1:
            if first >= 0:
                yield first, last + 1
            first = k
        last = k
    if first >= 0:
        yield first, last + 1


def _classify(x: str, y: str) -> str:
    if x == y:
        return "equal"
    if fold(x) == fold(y):
        return "typo"  # includes whitespace-only inserts and deletes
    if not y:
        return "delete"
    return "insert" if not x else "replace"


def _mirror_ops(ops: Sequence[WordOp]) -> tuple[WordOp, ...]:
    return tuple((_MIRROR_OP.get(op, op), y, x) for op, x, y in ops)


def _dice(common: int, size_a: int, size_b: int) -> float:
    return 2 * common / (size_a + size_b) if size_a + size_b else 0.0


def _align_keys(ka: Sequence[str], kb: Sequence[str]) -> list[_Pairing]:
    """Pair body paragraphs by their keys (indices into the bodies), in a canonical direction."""
    # As in word_diff: align the smaller key list against the larger so that swapping the
    # versions gives the mirrored alignment, not a different one.
    if tuple(ka) > tuple(kb):
        return [(_MIRROR_KIND.get(k, k), ib, ia) for k, ia, ib in _align_directed(kb, ka)]
    return _align_directed(ka, kb)


def _align_directed(ka: Sequence[str], kb: Sequence[str]) -> list[_Pairing]:
    pairs: list[_Pairing] = []
    regions: list[tuple[range, range]] = []
    matcher = SequenceMatcher(None, list(ka), list(kb), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend(("same", (i1 + d,), (j1 + d,)) for d in range(i2 - i1))
        else:
            regions.append((range(i1, i2), range(j1, j2)))
    # Moved: the k-th unmatched A paragraph with a key pairs with the k-th unmatched B one.
    free_b: dict[str, list[int]] = defaultdict(list)
    for _, rb in regions:
        for j in rb:
            free_b[kb[j]].append(j)
    taken_b: dict[str, int] = defaultdict(int)
    moved_a: set[int] = set()
    moved_b: set[int] = set()
    for ra, _ in regions:
        for i in ra:
            key = ka[i]
            if taken_b[key] < len(free_b.get(key, ())):
                j = free_b[key][taken_b[key]]
                taken_b[key] += 1
                pairs.append(("moved", (i,), (j,)))
                moved_a.add(i)
                moved_b.add(j)
    for ra, rb in regions:
        left_a = [i for i in ra if i not in moved_a]
        left_b = [j for j in rb if j not in moved_b]
        pairs.extend(_pair_region(left_a, left_b, ka, kb))
    return pairs


def _pair_region(
    left_a: list[int], left_b: list[int], ka: Sequence[str], kb: Sequence[str]
) -> list[_Pairing]:
    """Pair the unmatched paragraphs of one region as changed, split or merge; rest are only_*."""
    m, n = len(left_a), len(left_b)
    if not m or not n:
        return [("only_a", (i,), ()) for i in left_a] + [("only_b", (), (j,)) for j in left_b]
    sa = [_word_sets[ka[i]] for i in left_a]
    sb = [_word_sets[kb[j]] for j in left_b]
    common = [[len(x & y) for y in sb] for x in sa]
    dice = [[_dice(common[x][y], len(sa[x]), len(sb[y])) for y in range(n)] for x in range(m)]
    if m == n == 1:  # the usual region, one paragraph each: what the search below finds
        if dice[0][0] >= CHANGED_MIN:
            return [("changed", (left_a[0],), (left_b[0],))]
        return [("only_b", (), (left_b[0],)), ("only_a", (left_a[0],), ())]
    # Candidate moves ending at DP cell (x, y): (steps in A, steps in B, kind, gain).
    cands: dict[tuple[int, int], list[tuple[int, int, str, int]]] = defaultdict(list)
    for x in range(m):
        for y in range(n):
            if dice[x][y] >= CHANGED_MIN:
                cands[x + 1, y + 1].append((1, 1, "changed", common[x][y]))
    if n > 1:  # a split needs two paragraphs in B, a merge two in A
        for x, y, k, gain in _splits(sa, sb, common, dice):
            cands[x + 1, y + k].append((1, k, "split", gain))
    if m > 1:
        common_t = [list(col) for col in zip(*common, strict=True)]
        dice_t = [list(col) for col in zip(*dice, strict=True)]
        for y, x, k, gain in _splits(sb, sa, common_t, dice_t):
            cands[x + k, y + 1].append((k, 1, "merge", gain))
    # Monotone alignment maximising the number of shared words: a true split shares more words
    # than pairing its first piece and leaving the rest to a weaker neighbour.
    best = [[0] * (n + 1) for _ in range(m + 1)]
    move: list[list[tuple[int, int, str]]] = [[(0, 0, "")] * (n + 1) for _ in range(m + 1)]
    for x in range(m + 1):
        for y in range(n + 1):
            if x == 0 and y == 0:
                continue
            if x:
                value, step = best[x - 1][y], (1, 0, "only_a")
            if y and (not x or best[x][y - 1] > value):
                value, step = best[x][y - 1], (0, 1, "only_b")
            for dx, dy, kind, gain in cands.get((x, y), ()):
                if best[x - dx][y - dy] + gain > value:
                    value, step = best[x - dx][y - dy] + gain, (dx, dy, kind)
            best[x][y], move[x][y] = value, step
    out: list[_Pairing] = []
    x, y = m, n
    while x or y:
        dx, dy, kind = move[x][y]
        out.append((kind, tuple(left_a[x - dx : x]), tuple(left_b[y - dy : y])))
        x, y = x - dx, y - dy
    return out[::-1]


def _splits(
    one: list[frozenset[str]],
    many: list[frozenset[str]],
    common: list[list[int]],
    dice: list[list[float]],
) -> list[tuple[int, int, int, int]]:
    """(x, y, k, shared words) where one[x] is best matched by many[y:y+k], k >= 2."""
    found = []
    for x, whole in enumerate(one):
        for y in range(len(many)):
            union: frozenset[str] = frozenset()
            best_single = 0.0
            for k in range(1, SPLIT_WINDOW + 1):
                piece = y + k - 1
                if (
                    piece >= len(many)
                    or common[x][piece] < PIECE_MIN * len(many[piece])
                    or not many[piece]
                ):
                    break
                union |= many[piece]
                best_single = max(best_single, dice[x][piece])
                shared = len(whole & union)
                score = _dice(shared, len(whole), len(union))
                if k >= 2 and score >= CHANGED_MIN and score > best_single:
                    found.append((x, y, k, shared))
    return found


def _row(kind: str, pa: list[Paragraph], pb: list[Paragraph]) -> AlignedRow:
    a_ns, b_ns = tuple(p.n for p in pa), tuple(p.n for p in pb)
    if kind in ("only_a", "only_b"):
        return AlignedRow(cast(RowKind, kind), a_ns, b_ns)
    if kind == "same":
        if pa[0].text == pb[0].text:
            return AlignedRow("equal", a_ns, b_ns)
        kind = "typographic"
    words = word_diff(" ".join(p.text for p in pa), " ".join(p.text for p in pb))
    return AlignedRow(cast(RowKind, kind), a_ns, b_ns, words)


def _boilerplate_rows(a: Version, b: Version) -> list[AlignedRow]:
    """Match boilerplate by key as a multiset: the k-th copy in A pairs with the k-th in B."""
    in_b: dict[str, list[int]] = defaultdict(list)
    for p in b.paragraphs:
        if p.boilerplate is not None:
            in_b[p.key].append(p.n)
    rows = []
    for p in a.paragraphs:
        if p.boilerplate is not None:
            if in_b.get(p.key):
                rows.append(AlignedRow("boilerplate_equal", (p.n,), (in_b[p.key].pop(0),)))
            else:
                rows.append(AlignedRow("boilerplate_a", (p.n,), ()))
    rows.extend(AlignedRow("boilerplate_b", (), (n,)) for ns in in_b.values() for n in ns)
    return rows


def _order_rows(rows: Sequence[AlignedRow]) -> tuple[AlignedRow, ...]:
    """Reading order of B; a row with nothing in B follows the in-order row above it in A."""
    with_b = sorted((r for r in rows if r.b), key=lambda r: min(r.b))
    a_only = sorted((r for r in rows if not r.b), key=lambda r: min(r.a))
    anchor_ns: list[int] = []
    anchor_at: list[int] = []
    for pos, r in sorted(
        ((pos, r) for pos, r in enumerate(with_b) if r.kind in _IN_ORDER), key=lambda t: t[1].a
    ):
        anchor_ns.append(max(r.a))
        anchor_at.append(pos)
    after: dict[int, list[AlignedRow]] = defaultdict(list)
    for r in a_only:
        k = bisect.bisect_left(anchor_ns, min(r.a))
        after[anchor_at[k - 1] if k else -1].append(r)
    ordered = list(after[-1])
    for pos, r in enumerate(with_b):
        ordered.append(r)
        ordered.extend(after[pos])
    return tuple(ordered)


def _counts(rows: Sequence[AlignedRow], title_changed: bool) -> DiffCounts:
    tally: dict[str, int] = defaultdict(int)
    for r in rows:
        tally[r.kind] += 1
    return DiffCounts(
        equal=tally["equal"],
        typographic=tally["typographic"],
        changed=tally["changed"],
        only_a=tally["only_a"],
        only_b=tally["only_b"],
        moved=tally["moved"],
        split_merge=tally["split"] + tally["merge"],
        boilerplate_only_a=tally["boilerplate_a"],
        boilerplate_only_b=tally["boilerplate_b"],
        title_changed=title_changed,
    )


def _title_changed(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return fold(a) != fold(b)


def diff_versions(a: Version, b: Version) -> Diff:
    """Align A and B; similarity = (shared words of A + shared words of B) / (words A + B).

    Words are word tokens of article paragraphs (see tokenize). A word is shared when its row is
    equal, typographic or moved, or when it lies in an "equal"/"typo" op of a changed, split or
    merged row. 1.0 for identical bodies (and for two bodies without words), 0.0 for disjoint.
    """
    body_a, body_b = a.body, b.body
    rows: list[AlignedRow] = []
    shared = 0
    for kind, ia, ib in _align_keys([p.key for p in body_a], [p.key for p in body_b]):
        if kind == "same" and body_a[ia[0]].text == body_b[ib[0]].text:
            # Most rows: byte-equal paragraphs, all their words shared.
            pa1, pb1 = body_a[ia[0]], body_b[ib[0]]
            rows.append(AlignedRow("equal", (pa1.n,), (pb1.n,)))
            shared += 2 * word_count(pa1.text)
            continue
        pa, pb = [body_a[i] for i in ia], [body_b[j] for j in ib]
        row = _row(kind, pa, pb)
        rows.append(row)
        if row.kind in ("equal", "typographic", "moved"):
            shared += sum(word_count(p.text) for p in pa + pb)
        elif row.kind in ("changed", "split", "merge"):
            # The words of the "equal" and "typo" ops: all the row's words but those of the
            # other ops (ops end between tokens, so no word is cut in two).
            shared += sum(word_count(p.text) for p in pa + pb) - sum(
                _count_words(x) + _count_words(y)
                for op, x, y in row.words
                if op not in ("equal", "typo")
            )
    total = sum(word_count(p.text) for p in body_a + body_b)
    rows.extend(_boilerplate_rows(a, b))
    ordered = _order_rows(rows)
    return Diff(
        a=a.id,
        b=b.id,
        rows=ordered,
        counts=_counts(ordered, _title_changed(a.title, b.title)),
        similarity=shared / total if total else 1.0,
        title_a=a.title,
        title_b=b.title,
    )


def swap(diff: Diff) -> Diff:
    """The same diff seen from B: diff_versions(b, a) == swap(diff_versions(a, b))."""
    rows = [
        AlignedRow(
            cast(RowKind, _MIRROR_KIND.get(r.kind, r.kind)),
            r.b,
            r.a,
            _mirror_ops(r.words) if r.words else (),
        )
        for r in diff.rows
    ]
    ordered = _order_rows(rows)
    return Diff(
        a=diff.b,
        b=diff.a,
        rows=ordered,
        counts=_counts(ordered, diff.counts.title_changed),
        similarity=diff.similarity,
        title_a=diff.title_b,
        title_b=diff.title_a,
    )
