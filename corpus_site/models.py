"""Frozen records passed between the pipeline stages.

Every stage between reading the corpus and writing the site takes these in and
gives these out; none of them touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Literal, NamedTuple

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing the build has to tell the user about one file (or the corpus)."""

    file: str  # corpus-relative POSIX path, or "" for the corpus as a whole
    severity: Severity  # "error": the file is not published; "warning": it is, with a caveat
    code: str  # short stable slug, e.g. "binary-file", "bad-front-matter"
    message: str  # one sentence naming the reason and, where there is one, the fix


class Metadata(NamedTuple):
    """What is known about a file besides its text, merged from manifest, sidecar and front matter.

    A named tuple, as Summary and Group are: the build state holds one per version, and
    10,000 unpickle in 5 ms instead of 30 ms as a dataclass.
    """

    id: str | None = None
    title: str | None = None
    published: str | None = None  # ISO 8601 date ("2014-07-27") or datetime
    retrieved: str | None = None
    outlet: str | None = None
    url: str | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None
    license: str | None = None
    group: str | None = None
    # Fields we do not know, kept and shown: sorted (name, display text) pairs.
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Source:
    """One corpus file as read from disk: its bytes, how they were decoded, and its metadata."""

    path: str  # corpus-relative POSIX path, e.g. "000_a9b2f913ca9d78f5.txt"
    order: int  # position in the sorted walk of the corpus (0-based)
    raw: bytes  # the exact bytes of the file, published unchanged as source.txt
    sha256: str  # hex digest of raw
    encoding: str  # codec used, e.g. "utf-8", "utf-8-sig", "cp1252"
    encoding_detected: bool  # True when the codec was guessed by detection, not known
    text: str  # reading text: front matter removed, "\n" line ends, control characters dropped
    control_chars: int  # how many control characters were dropped from the reading text
    repaired: tuple[str, ...]  # what was repaired in the reading text (e.g. "mojibake")
    id: str
    id_origin: Literal["file name", "metadata", "content hash"]
    metadata: Metadata


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a version, with its anchor number and comparison key."""

    n: int  # 1-based anchor number (#p<n>), in document order, boilerplate included
    text: str  # reading text: wrapped lines joined, whitespace runs folded to one space
    key: str  # comparison key: NFKC, quotes and dashes folded, whitespace folded
    boilerplate: str | None = None  # why it is boilerplate, or None for article text


@dataclass(frozen=True)
class Version:
    """A normalized source: title, paragraphs and comparison keys."""

    source: Source
    title: str | None  # the version's own title, if it has one
    title_origin: Literal["metadata", "title line"] | None
    paragraphs: tuple[Paragraph, ...]
    wrap_width: int | None  # detected hard-wrap width, None when lines are not wrapped

    @property
    def id(self) -> str:
        """The version's ID (its URL is /a/<id>/)."""
        return self.source.id

    # Named as on a Summary, so that the corpus-wide stages take either.
    @property
    def path(self) -> str:
        """Its source file, relative to the corpus folder."""
        return self.source.path

    @property
    def order(self) -> int:
        """Its place in corpus order."""
        return self.source.order

    @property
    def sha256(self) -> str:
        """The SHA-256 of its source file's bytes."""
        return self.source.sha256

    @property
    def metadata(self) -> Metadata:
        """Its source's metadata."""
        return self.source.metadata

    # Cached (in the instance's __dict__, which a frozen dataclass still has): the pages,
    # lists and exports ask for them many times per version, 40,000 splits at 10,000.
    @cached_property
    def body(self) -> tuple[Paragraph, ...]:
        """The article paragraphs, boilerplate left out."""
        return tuple(p for p in self.paragraphs if p.boilerplate is None)

    @cached_property
    def words(self) -> int:
        """Word count of the article paragraphs."""
        return sum(len(p.text.split()) for p in self.body)

    def __getstate__(self) -> dict[str, object]:
        """The fields, and the word count once counted (normalize.summarize counts it in
        the worker that reads the file; counting again where the page is rendered took
        0.5 s of CPU at 10,000 versions); other cached values are not sent to other
        processes or the cache."""
        state = {f: self.__dict__[f] for f in _VERSION_FIELDS}
        if "words" in self.__dict__:
            state["words"] = self.__dict__["words"]
        return state


_VERSION_FIELDS = tuple(f.name for f in fields(Version))


class Summary(NamedTuple):
    """What the corpus-wide stages (grouping, titles, lists, exports, the ledger) need of
    one version: a few hundred bytes instead of its whole text, so that a rebuild keeps
    10,000 of them from the last build and loads whole versions only for the pages it
    renders (normalize.summarize makes it).

    A named tuple, not a dataclass: 10,000 of them unpickle in 10 ms instead of 90 ms.
    """

    id: str
    path: str
    order: int
    sha256: str
    size: int  # bytes of the source file
    encoding: str
    id_origin: str
    metadata: Metadata
    title: str | None  # the version's own title (Version.title)
    title_origin: str | None
    words: int  # Version.words
    body: int  # article paragraphs: len(Version.body)
    first_sentence: str | None  # normalize.first_sentence of the version
    # Stand-in for the version in cache keys: the key of its reading plus what was marked
    # after reading; the same digest, the same version (normalize.version_digest).
    digest: str
    # 64-bit hashes of the comparison keys of its article paragraphs as read, sorted and
    # unique: what normalize.recurring_marks counts.
    keys: tuple[int, ...]


class Group(NamedTuple):
    """Versions of one article. The ID is that of the earliest member, so it never changes later."""

    id: str
    members: tuple[str, ...]  # version IDs, earliest first (by published, else corpus order)
    origin: Literal["manifest", "similarity", "single"]
    # Similarity of every confirmed pair inside the group: (id_a, id_b, score), sorted.
    pairs: tuple[tuple[str, str, float], ...] = ()


# A word-level edit: (op, text in A, text in B). Joining every A text rebuilds A's
# paragraph exactly, joining every B text rebuilds B's. op is one of
#   "equal"   a == b
#   "typo"    a != b, but they are equal once quotes, dashes, whitespace and NFKC are folded
#   "delete"  only in A (b == "")
#   "insert"  only in B (a == "")
#   "replace" both non-empty and really different
WordOp = tuple[str, str, str]

RowKind = Literal[
    "equal",  # byte-equal paragraphs
    "typographic",  # equal once typography is folded
    "changed",  # the same paragraph, edited
    "only_a",  # article paragraph only in A
    "only_b",  # article paragraph only in B
    "moved",  # equal (after folding) but at another place in the order
    "split",  # one paragraph in A became several consecutive ones in B
    "merge",  # several consecutive paragraphs in A became one in B
    "boilerplate_a",  # boilerplate only in A
    "boilerplate_b",  # boilerplate only in B
    "boilerplate_equal",  # the same boilerplate in both
]


class AlignedRow(NamedTuple):
    """One row of the alignment of two versions: paragraphs of A against paragraphs of B.

    A named tuple, not a frozen dataclass: a build makes about a million of them (each diff
    and its mirror), and a tuple is made in less than half the time."""

    kind: RowKind
    a: tuple[int, ...]  # paragraph numbers (Paragraph.n) in A, empty when absent
    b: tuple[int, ...]  # paragraph numbers (Paragraph.n) in B, empty when absent
    words: tuple[WordOp, ...] = ()  # word diff for changed/typographic/split/merge/moved rows


@dataclass(frozen=True)
class DiffCounts:
    """How many aligned rows of each class; each row counts once, in one class."""

    equal: int = 0
    typographic: int = 0
    changed: int = 0
    only_a: int = 0
    only_b: int = 0
    moved: int = 0
    split_merge: int = 0
    boilerplate_only_a: int = 0
    boilerplate_only_b: int = 0
    title_changed: bool = False


@dataclass(frozen=True)
class Diff:
    """The alignment of version A against version B."""

    a: str  # version ID
    b: str  # version ID
    rows: tuple[AlignedRow, ...]  # in reading order of B, with A-only rows where they stood in A
    counts: DiffCounts
    similarity: float  # 0..1, share of article words the two have in common
    title_a: str | None = None
    title_b: str | None = None
