"""Stage 2, normalize: rebuild paragraphs, find the title, mark boilerplate, compute keys.

Pure: a Source in, a Version out. The reading text is derived; the original bytes stay in
the Source and are published unchanged, so nothing done here can lose text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .diffing import fold
from .errors import SourceError
from .models import Group, Paragraph, Source, Version

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


def mark_recurring(
    versions: Sequence[Version],
    min_files: int,
    group_of: Mapping[str, str] | None = None,
    min_groups: int = 1,
) -> list[Version]:
    """Mark as boilerplate the article paragraphs found verbatim (after folding) in at least
    min_files files and, when groups are known, in at least min_groups different groups:
    a paragraph shared by the versions of one story is article text, however often."""
    files: dict[str, set[str]] = {}
    for version in versions:
        for key in {p.key for p in version.body}:
            files.setdefault(key, set()).add(version.id)
    common: dict[str, str] = {}
    for key, ids in files.items():
        if len(ids) < min_files:
            continue
        groups = len({group_of[i] for i in ids}) if group_of is not None else len(ids)
        if groups >= min_groups:
            common[key] = f"it recurs verbatim in {len(ids)} files of the corpus" + (
                f", in {groups} different articles" if group_of is not None else ""
            )
    if not common:
        return list(versions)
    marked = []
    for version in versions:
        if not any(p.boilerplate is None and p.key in common for p in version.paragraphs):
            marked.append(version)  # most versions have none: the same record, not a copy
            continue
        paragraphs = tuple(
            replace(p, boilerplate=common[p.key])
            if p.boilerplate is None and p.key in common
            else p
            for p in version.paragraphs
        )
        marked.append(replace(version, paragraphs=paragraphs))
    return marked


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


@dataclass(frozen=True)
class ShownTitle:
    """The title a version's page shows, and where it came from."""

    text: str
    origin: str  # "metadata", "title line", "sibling <id>", "first sentence", "ID"
    borrowed_from: str | None = None  # version ID when borrowed from a sibling


def shown_titles(versions: Sequence[Version], groups: Sequence[Group]) -> Mapping[str, ShownTitle]:
    """Each version's page title: its own, else its earliest titled sibling's, else its first sentence."""
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
                sentence = first_sentence(version)
                result[member] = (
                    ShownTitle(sentence, "first sentence")
                    if sentence
                    else ShownTitle(version.id, "ID")
                )
    return result
