"""Stage 2, normalize: rebuild paragraphs, find the title, mark boilerplate, compute keys.

Pure: a Source in, a Version out. The reading text is derived; the original bytes stay in
the Source and are published unchanged, so nothing done here can lose text.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from .cache import cache_key
from .diffing import fold
from .errors import SourceError
from .models import Group, Paragraph, Source, Summary, Version

# Hard-wrapping tools write at most 100 columns (72, 76 and 80 are usual; the default
# corpus wraps at 65); a line longer than this was not wrapped.
_MAX_WRAP_WIDTH = 100
# A file counts as hard-wrapped when at least half of its continued lines end within this
# many columns of the widest one: ragged text (poetry, lists) does not look like that.
_WRAP_BAND = 20
# A title is a headline, not a paragraph: 200 characters and 30 words hold every headline
# in the BBC and articlecomparisons corpora.
_MAX_TITLE_CHARS = 200
_MAX_TITLE_WORDS = 30
# A line shorter than this share of the wrap width that would have had room for the next
# word ends its paragraph even without a full stop (bylines, datelines, subheads).
_SHORT_LINE_SHARE = 0.6

# First lines of scraped pages that are bylines and timestamps, not headlines (seen in
# articlecomparisons: "Published 23 Mins Ago", "by Michael Cavna July 16 at 8:30 AM").
_NOT_A_TITLE = re.compile(
    r"(?i)(?:by|published|updated|posted|last updated|photo|video|watch|listen)\b.*|.*\bago"
)

_CLOSERS = "\"'”’»)]"
_SENTENCE_END = ".!?…:"


@dataclass(frozen=True)
class _Line:
    text: str  # whitespace-folded
    boilerplate: str | None


Patterns = Sequence[tuple[str, re.Pattern[str]]]


def normalize(
    source: Source,
    patterns: Patterns = (),
    max_paragraphs: int = 10_000,
) -> Version:
    """Turn a source into a version: title, paragraphs with anchors and comparison keys."""
    raw_lines = [line.rstrip() for line in source.text.split("\n")]
    folded = [" ".join(line.split()) for line in raw_lines]
    lines = [_Line(text, _match(text, patterns)) if text else None for text in folded]
    lengths = [len(raw.expandtabs()) if "\t" in raw else len(raw) for raw in raw_lines]
    width = wrap_width(lengths, [line is not None for line in lines])
    title, title_origin, start = _title(source, lines, width)
    paragraphs = _paragraphs(lines[start:], lengths[start:], width)
    if len(paragraphs) > max_paragraphs:
        raise SourceError(
            source.path,
            f"{len(paragraphs):,} paragraphs, over the limit of {max_paragraphs:,}",
            code="too-many-paragraphs",
        )
    return Version(
        source=source,
        title=title,
        title_origin=title_origin,
        paragraphs=tuple(
            Paragraph(n=i, text=text, key=fold(text), boilerplate=why)
            for i, (text, why) in enumerate(paragraphs, start=1)
        ),
        wrap_width=width,
    )


def wrap_width(lengths: Sequence[int], filled: Sequence[bool]) -> int | None:
    """The column a hard-wrapped text was wrapped at, or None when its lines are not wrapped."""
    continued = [
        lengths[i]
        for i in range(len(lengths) - 1)
        if filled[i] and filled[i + 1] and lengths[i] <= _MAX_WRAP_WIDTH
    ]
    all_continued = sum(1 for i in range(len(lengths) - 1) if filled[i] and filled[i + 1])
    # Three wrapped lines are the least that tell a wrap width from chance; and most lines
    # that run on must be short ones, or the text is one paragraph per line.
    if len(continued) < 3 or len(continued) * 2 < all_continued:
        return None
    widest = max(continued)
    in_band = sum(1 for n in continued if n >= widest - _WRAP_BAND)
    return widest if in_band * 2 >= len(continued) else None


def ends_sentence(line: str) -> bool:
    """True when the line ends a sentence (closing quotes and brackets looked through)."""
    stripped = line.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _match(folded: str, patterns: Patterns) -> str | None:
    """The reason a line (its whitespace folded) is boilerplate, or None."""
    screen, rest = _screen(tuple(patterns))
    # Usually no pattern matches, which the screen tells in one call instead of one per
    # pattern; only the patterns it leaves out are then tried.
    candidates = patterns if screen is None or screen.fullmatch(folded) else rest
    for what, pattern in candidates:
        if pattern.fullmatch(folded):
            return f"the line is {what}"
    return None


@functools.lru_cache(maxsize=16)
def _screen(patterns: Patterns) -> tuple[re.Pattern[str] | None, Patterns]:
    """The alternation of the patterns, which fully matches a line when one of them does,
    and the patterns left out of it (capture groups or flags of their own would change
    meaning inside an alternation); None when there is no alternation to make."""
    plain = [p for _, p in patterns if not p.groups and p.flags == re.UNICODE]
    rest = tuple((what, p) for what, p in patterns if p.groups or p.flags != re.UNICODE)
    try:
        screen = re.compile("|".join(f"(?:{p.pattern})" for p in plain)) if plain else None
    except re.error:
        return None, patterns
    return screen, rest


def _title(
    source: Source, lines: list[_Line | None], width: int | None
) -> tuple[str | None, str | None, int]:
    """(title, where it came from, index of the first body line)."""
    first = next((i for i, line in enumerate(lines) if line is not None), len(lines))
    rest = next((i for i in range(first + 1, len(lines)) if lines[i] is not None), None)
    declared = source.metadata.title
    line = lines[first] if first < len(lines) else None
    if declared is not None:
        # A title line that repeats the declared title is the title, not a paragraph.
        if line is not None and fold(line.text).lower() == fold(declared).lower():
            return declared, "metadata", first + 1
        return declared, "metadata", first
    if line is None or rest is None or line.boilerplate is not None:
        return None, None, first
    text = line.text
    if len(text) > _MAX_TITLE_CHARS or len(text.split()) > _MAX_TITLE_WORDS:
        return None, None, first
    if _NOT_A_TITLE.fullmatch(text):
        return None, None, first
    blank_after = rest > first + 1
    if ends_sentence(text) and not (blank_after and text.rstrip(_CLOSERS)[-1] in "?!"):
        return None, None, first
    # In wrapped text, a first line that is full to the width is the start of a paragraph.
    if width is not None and not blank_after and not _fits(len(text), lines[rest], width):
        return None, None, first
    return text, "title line", first + 1


def _fits(length: int, following: _Line | None, width: int) -> bool:
    """Would the next line's first word have fitted on this line? Then the break was a choice."""
    if following is None:
        return True
    first_word = following.text.split(" ", 1)[0]
    return length + 1 + len(first_word) <= width


def _paragraphs(
    lines: list[_Line | None], lengths: list[int], width: int | None
) -> list[tuple[str, str | None]]:
    """Rebuild paragraphs: blank lines and boilerplate always close one; wrapped lines join."""
    out: list[tuple[str, str | None]] = []
    buffer: list[str] = []

    def close() -> None:
        if buffer:
            out.append((_join(buffer), None))
            buffer.clear()

    for i, line in enumerate(lines):
        if line is None:
            close()
            continue
        if line.boilerplate is not None:
            close()
            out.append((line.text, line.boilerplate))
            continue
        buffer.append(line.text)
        following = lines[i + 1] if i + 1 < len(lines) else None
        if width is None or following is None or lengths[i] > width:
            close()  # unwrapped text: a line is a paragraph
        elif _fits(lengths[i], following, width) and (
            ends_sentence(line.text) or lengths[i] <= width * _SHORT_LINE_SHARE
        ):
            close()
    close()
    return out


def _join(lines: list[str]) -> str:
    """Join wrapped lines; a line broken after a hyphen inside a word joins without a space."""
    text = lines[0]
    for line in lines[1:]:
        if len(text) > 1 and text[-1] == "-" and text[-2].isalpha() and line[:1].isalpha():
            text += line
        else:
            text += " " + line
    return text


def paragraph_hash(key: str) -> int:
    """A 64-bit hash of a paragraph's comparison key, stable across runs: what recurring
    boilerplate is counted by. Two different keys share one with odds of about 1 in 10^8
    for a corpus of a million distinct paragraphs, which would mark both or neither."""
    data = key.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest())


def body_keys(version: Version) -> tuple[int, ...]:
    """The hashes of a version's article paragraph keys, sorted and unique (Summary.keys)."""
    return tuple(sorted({paragraph_hash(p.key) for p in version.body}))


def recurring_marks(
    keysets: Sequence[tuple[int, ...]],
    ids: Sequence[str],
    min_files: int,
    group_of: Mapping[str, str] | None = None,
    min_groups: int = 1,
) -> dict[int, str]:
    """Paragraph hash -> why it is boilerplate, for the article paragraphs found verbatim
    (after folding) in at least min_files files and, when groups are known, in at least
    min_groups different groups: a paragraph shared by the versions of one story is article
    text, however often. keysets[i]: body_keys of version ids[i], as read (before marking).
    Counted with numpy: 100,000 paragraphs in a few milliseconds."""
    lengths = np.fromiter(map(len, keysets), np.int64, len(keysets))
    flat = np.fromiter(itertools.chain.from_iterable(keysets), np.uint64, int(lengths.sum()))
    if not flat.size:
        return {}
    unique, inverse, files = np.unique(flat, return_inverse=True, return_counts=True)
    owner = np.repeat(np.arange(len(keysets)), lengths)
    rows = np.flatnonzero(files[inverse] >= min_files)
    if not rows.size:
        return {}
    if group_of is None:
        groups = files
    else:
        index: dict[str, int] = {}
        group_index = np.fromiter(
            (index.setdefault(group_of[vid], len(index)) for vid in ids), np.int64, len(ids)
        )
        width = max(len(index), 1)
        seen = np.unique(inverse[rows].astype(np.int64) * width + group_index[owner[rows]])
        groups = np.bincount(seen // width, minlength=unique.size)
    marks = {}
    for k in np.flatnonzero((files >= min_files) & (groups >= min_groups)).tolist():
        marks[int(unique[k])] = f"it recurs verbatim in {int(files[k])} files of the corpus" + (
            f", in {int(groups[k])} different articles" if group_of is not None else ""
        )
    return marks


def apply_marks(version: Version, marks: Mapping[int, str]) -> Version:
    """The version with its article paragraphs whose hash is in marks marked as boilerplate
    (the same record when it has none)."""
    if not marks:
        return version
    hashes = [paragraph_hash(p.key) if p.boilerplate is None else None for p in version.paragraphs]
    if not any(h in marks for h in hashes if h is not None):
        return version
    paragraphs = tuple(
        replace(p, boilerplate=marks[h]) if h is not None and h in marks else p
        for p, h in zip(version.paragraphs, hashes, strict=True)
    )
    return replace(version, paragraphs=paragraphs)


def mark_recurring(
    versions: Sequence[Version],
    min_files: int,
    group_of: Mapping[str, str] | None = None,
    min_groups: int = 1,
) -> list[Version]:
    """Mark as boilerplate the article paragraphs that recur (see recurring_marks)."""
    marks = recurring_marks(
        [body_keys(v) for v in versions], [v.id for v in versions], min_files, group_of, min_groups
    )
    # Most versions have none: the same record, not a copy.
    return [apply_marks(v, marks) for v in versions]


def version_digest(version: Version, read_key: str | None) -> str:
    """A short stand-in for a version in cache keys (Summary.digest): the cache key of its
    reading (None: the version itself) plus what was marked after reading (recurring
    boilerplate). Cheaper than hashing the version."""
    marks = repr(tuple(p.boilerplate for p in version.paragraphs))
    return cache_key("version", read_key or repr(version), marks)


def summarize(
    version: Version, read_key: str | None, keys: tuple[int, ...] | None = None
) -> Summary:
    """The Summary of a version. read_key: the cache key of its reading (None: the version
    itself stands in); keys: body_keys of the version as read, when it has been marked since."""
    source = version.source
    return Summary(
        id=version.id,
        path=source.path,
        order=source.order,
        sha256=source.sha256,
        size=len(source.raw),
        encoding=source.encoding,
        id_origin=source.id_origin,
        metadata=source.metadata,
        title=version.title,
        title_origin=version.title_origin,
        words=version.words,
        body=len(version.body),
        first_sentence=first_sentence(version),
        digest=version_digest(version, read_key),
        keys=body_keys(version) if keys is None else keys,
    )


def first_sentence(version: Version, limit: int = 120) -> str | None:
    """The first sentence of the article text, cut at a word boundary past limit characters."""
    body = version.body
    if not body:
        return None
    text = body[0].text
    match = re.match(r"(.+?[.!?])(?:\s|$)", text)
    sentence = match.group(1) if match else text
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0] + "…"
    return sentence


class ShownTitle(NamedTuple):
    """The title a version's page shows, and where it came from (a named tuple: the build
    state keeps one per version)."""

    text: str
    origin: str  # "metadata", "title line", "sibling <id>", "first sentence", "ID"
    borrowed_from: str | None = None  # version ID when borrowed from a sibling


def shown_titles(
    versions: Sequence[Version] | Sequence[Summary], groups: Sequence[Group]
) -> dict[str, ShownTitle]:
    """Each version's page title: its own, else its earliest titled sibling's, else its first
    sentence (of versions or of their summaries)."""
    by_id = {v.id: v for v in versions}
    result: dict[str, ShownTitle] = {}
    for group in groups:
        titled = [by_id[m] for m in group.members if by_id[m].title is not None]
        for member in group.members:
            version = by_id[member]
            if version.title is not None:
                result[member] = ShownTitle(version.title, version.title_origin or "metadata")
            elif titled:
                donor = titled[0]
                result[member] = ShownTitle(
                    donor.title or "", f"title of sibling {donor.id}", borrowed_from=donor.id
                )
            else:
                sentence = (
                    version.first_sentence
                    if isinstance(version, Summary)
                    else first_sentence(version)
                )
                result[member] = (
                    ShownTitle(sentence, "first sentence")
                    if sentence
                    else ShownTitle(version.id, "ID")
                )
    return result
