"""Normalize: paragraphs, titles, boilerplate and keys, on the default corpus and fixtures."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from conftest import make_source
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_site.config import Config
from corpus_site.models import Metadata, Source, Version
from corpus_site.normalize import _match, mark_recurring, normalize, shown_titles, wrap_width
from corpus_site.sources import read_corpus

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = Config(Path("."), Path("."), Path("."), Path(".")).boilerplate_patterns


def default_versions() -> dict[str, Version]:
    sources, problems = read_corpus(ROOT / "corpus")
    assert problems == []
    return {s.path[:3]: normalize(s, PATTERNS) for s in sources}


def source(text: str, title: str | None = None, path: str = "x.txt") -> Source:
    return make_source(text, path=path, metadata=Metadata(title=title), id_origin="content hash")


def test_default_corpus_titles() -> None:
    v = default_versions()
    assert v["001"].title == "Kiev soldiers desert to Russia"
    assert v["001"].title_origin == "title line"
    assert v["000"].title is None  # its first line is a sentence, not a headline


def test_default_corpus_hard_wrapped_000_rebuilds_into_001s_paragraphs() -> None:
    v = default_versions()
    a, b = v["000"], v["001"]
    assert a.wrap_width == 66 and b.wrap_width is None
    keys_a = [p.key for p in a.body]
    keys_b = [p.key for p in b.body]
    assert len(keys_a) == 16 and len(keys_b) == 14
    shared = [k for k in keys_a if k in keys_b]
    assert shared == keys_b  # all 14 of 001's paragraphs, in the same order
    only_a = [p.text for p in a.body if p.key not in keys_b]
    assert [t[:30] for t in only_a] == [
        "A Kiev official confirmed on S",
        "“Indeed, this took place,” Ukr",
    ]
    byte_equal = {p.text for p in a.body} & {p.text for p in b.body}
    assert len(byte_equal) == 5


def test_default_corpus_boilerplate_is_marked_not_deleted() -> None:
    a = default_versions()["000"]
    marked = [(p.n, p.text[:25]) for p in a.paragraphs if p.boilerplate]
    assert marked == [(2, "Follow RT's live updates "), (18, "Read more: Over 20 killed")]
    assert all(
        "live-updates" in p.boilerplate or "Read more" in p.boilerplate
        for p in a.paragraphs
        if p.boilerplate
    )


def test_default_corpus_000_borrows_the_title_of_its_sibling() -> None:
    from corpus_site.models import Group

    v = default_versions()
    group = Group(v["000"].id, (v["000"].id, v["001"].id), "similarity")
    titles = shown_titles(list(v.values()), [group])
    assert titles[v["000"].id].text == "Kiev soldiers desert to Russia"
    assert titles[v["000"].id].borrowed_from == v["001"].id
    assert titles[v["001"].id].origin == "title line"


def test_first_sentence_is_the_title_when_no_sibling_has_one() -> None:
    from corpus_site.models import Group

    v = normalize(source("It rained in Oslo on Monday. Streets flooded.\n\nMore later.\n"))
    titles = shown_titles([v], [Group(v.id, (v.id,), "single")])
    assert titles[v.id].text == "It rained in Oslo on Monday."
    assert titles[v.id].origin == "first sentence"


def test_blank_lines_separate_paragraphs() -> None:
    v = normalize(source("Headline here\n\nFirst paragraph.\n\nSecond one.\n"))
    assert v.title == "Headline here"
    assert [p.text for p in v.paragraphs] == ["First paragraph.", "Second one."]
    assert [p.n for p in v.paragraphs] == [1, 2]


def test_hard_wrapped_lines_join_and_short_sentence_ends_close() -> None:
    text = (
        "The council met on Tuesday to discuss the new budget for the\n"
        "coming year, which includes money for roads and schools and a\n"
        "new library in the north of the city.\n"
        "Members voted eight to three in favour of the plan after a long\n"
        "debate that lasted into the evening and ended with a roll call.\n"
    )
    v = normalize(source(text))
    assert v.wrap_width == 63  # the widest line that runs on
    assert [p.text[:22] for p in v.paragraphs] == [
        "The council met on Tue",
        "Members voted eight to",
    ]
    assert v.paragraphs[0].text.endswith("north of the city.")


def test_hyphen_at_wrap_joins_without_space() -> None:
    text = (
        "The spokesperson said that on the first day of talks a well-\n"
        "known figure had visited the site on the morning of the fourth\n"
        "day of the talks and left before the press conference began, as\n"
        "officials from both delegations confirmed later that afternoon.\n"
    )
    v = normalize(source(text))
    assert v.title is None
    assert "a well-known figure" in v.paragraphs[0].text


def test_declared_title_swallows_a_matching_first_line() -> None:
    v = normalize(source("Kiev Soldiers Desert\n\nBody text.\n", title="Kiev soldiers desert"))
    assert v.title == "Kiev soldiers desert" and v.title_origin == "metadata"
    assert [p.text for p in v.paragraphs] == ["Body text."]


def test_keys_fold_typography_but_not_case() -> None:
    v = normalize(source('Title\n\n“Quoted” – text\n\n"Quoted" - text\n\n"quoted" - text\n'))
    keys = [p.key for p in v.paragraphs]
    assert keys[0] == keys[1] != keys[2]


def test_recurring_paragraphs_become_boilerplate() -> None:
    versions = [
        normalize(
            replace(
                source(f"Story {i} is about thing {i}.\n\nSubscribe to our daily brief.\n"),
                id=f"{i:016x}",
            )
        )
        for i in range(4)
    ]
    marked = mark_recurring(versions, min_files=3)
    assert all(v.paragraphs[1].boilerplate for v in marked)
    assert not any(v.paragraphs[0].boilerplate for v in marked)
    assert mark_recurring(versions, min_files=5) == versions
    # Shared by the versions of one story only: article text, not furniture.
    one_story = {v.id: "g1" for v in versions}
    assert mark_recurring(versions, 3, one_story, min_groups=2) == versions
    four_stories = {v.id: f"g{i}" for i, v in enumerate(versions)}
    across = mark_recurring(versions, 3, four_stories, min_groups=2)
    assert [v.paragraphs[1].boilerplate for v in across] == [
        "it recurs verbatim in 4 files of the corpus, in 4 different articles"
    ] * 4


def test_wrap_width_needs_a_band_of_full_lines() -> None:
    assert wrap_width([60, 61, 58, 30], [True] * 4) == 61
    assert wrap_width([300, 250, 400], [True] * 3) is None  # one paragraph per line


_words = st.text(alphabet="abcdefghij “”‘’–—-.,?!", min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(_words, min_size=1, max_size=8))
def test_normalizing_its_own_output_changes_nothing(paragraphs: list[str]) -> None:
    first = normalize(source("\n\n".join(paragraphs)))
    again = normalize(
        source(
            "\n\n".join(([first.title] if first.title else []) + [p.text for p in first.paragraphs])
        )
    )
    assert [p.text for p in again.paragraphs] == [p.text for p in first.paragraphs]
    assert again.title == first.title


def test_bylines_and_timestamps_are_not_titles() -> None:
    for line in ("By Jane Roe, Associated Press", "Published 23 Mins Ago", "Updated 5:01 PM"):
        v = normalize(source(f"{line}\n\nThe article starts here.\n"))
        assert v.title is None, line
        assert v.paragraphs[0].text == line


_PATTERNS = (
    ("a", re.compile(r"(?i:read more):.*")),
    ("b", re.compile(r"Follow .{0,80}\blive updates\b.*")),
    ("c", re.compile(r"(e-mail|Email|Share)")),  # a capture group: checked on its own
    ("d", re.compile(r"advert", re.IGNORECASE)),  # flags of its own: checked on its own
    ("e", re.compile(r"x|y")),  # an alternation of its own
)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="readmoRExyAdvertShaFollw :.", max_size=30),
    st.lists(st.sampled_from(range(len(_PATTERNS))), max_size=5),
)
def test_the_boilerplate_screen_finds_what_each_pattern_finds(line: str, chosen: list) -> None:
    patterns = tuple(_PATTERNS[i] for i in chosen)
    expected = next((f"the line is {w}" for w, p in patterns if p.fullmatch(line)), None)
    assert _match(line, patterns) == expected
