"""Tests of stage 3: grouping versions by manifest label and by shingle similarity."""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import make_version
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_site.grouping import (
    GroupingSettings,
    group_versions,
    minhash_signatures,
    shingle_similarity,
    shingles,
)
from corpus_site.models import Group

# A paragraph given to make_version: its text, or (text, why it is boilerplate).
Para = str | tuple[str, str]

_WORDS = (
    "council bridge river budget mayor vote residents plan traffic school police report "
    "minister election market shares bank rates company workers strike union talks court "
    "judge ruling appeal club season coach match goal injury fans stadium weather storm "
    "flood rescue hospital doctors patients study scientists climate energy prices fuel "
    "farmers harvest exports museum festival artist film director award night city town "
    "village road railway station airport flight passengers delay safety review inquiry"
)
VOCABULARY = tuple(_WORDS.split())


def story(seed: int, words: int = 400, per_paragraph: int = 40) -> list[str]:
    """A made-up story of random words: two seeds share (almost) no five-word run."""
    rng = random.Random(seed)
    drawn = [rng.choice(VOCABULARY) for _ in range(words)]
    return [
        " ".join(drawn[i : i + per_paragraph]).capitalize() + "."
        for i in range(0, words, per_paragraph)
    ]


def members(groups: tuple[Group, ...]) -> list[tuple[str, ...]]:
    """Group members, sorted, for comparisons that do not care about order."""
    return sorted(tuple(sorted(g.members)) for g in groups)


QUOTED = [
    "\u201cWe will build the bridge,\u201d the mayor said on Monday \u2013 a promise she "
    "first made in 2019.",
    "The council voted 7\u20132 in favour; residents\u2019 groups said they would appeal "
    "the decision at the regional court.",
    "Work is due to start in the spring and to last two years, according to the plan "
    "published by the city\u2019s transport office.",
    "Opponents say the crossing will bring more traffic to the old town, while shop "
    "owners expect more customers from the other bank of the river.",
]


def test_quote_and_wrap_differences_group() -> None:
    straight = [p.replace("\u201c", '"').replace("\u201d", '"') for p in QUOTED]
    straight = [p.replace("\u2019", "'").replace("\u2013", "-") for p in straight]
    # The wrapped copy lost a paragraph break: two paragraphs run together.
    wrapped = [straight[0] + " " + straight[1], *straight[2:]]
    groups, problems = group_versions(
        [make_version("a" * 16, QUOTED, order=0), make_version("b" * 16, wrapped, order=1)]
    )
    assert problems == ()
    assert len(groups) == 1
    assert groups[0].origin == "similarity"
    assert groups[0].pairs == (("a" * 16, "b" * 16, 1.0),)


def test_shorter_version_contained_in_longer_groups() -> None:
    full = story(1, words=600)
    cut = full[:5]  # an outlet kept the first 5 of 15 paragraphs
    a, b = make_version("full", full, order=0), make_version("cut", cut, order=1)
    groups, _ = group_versions([a, b])
    assert members(groups) == [("cut", "full")]
    sa, sb = shingles(a), shingles(b)
    jaccard = len(np.intersect1d(sa, sb)) / len(np.union1d(sa, sb))
    assert jaccard < 0.4 < shingle_similarity(a, b) == 1.0


FOOTER = (
    "This article is part of our regional news partnership and may be republished free of "
    "charge with credit to the original outlet. Corrections and complaints can be sent to "
    "the readers' editor by email or post at any time. Sign up to our morning newsletter "
    "for the day's top stories from across the whole region."
)


def test_shared_boilerplate_footer_marked_does_not_link() -> None:
    a = make_version("a", [*story(1), (FOOTER, "a footer")], order=0)
    b = make_version("b", [*story(2), (FOOTER, "a footer")], order=1)
    groups, _ = group_versions([a, b])
    assert members(groups) == [("a",), ("b",)]
    assert shingle_similarity(a, b) == 0.0


def test_shared_footer_not_marked_does_not_link() -> None:
    a = make_version("a", [*story(1), FOOTER], order=0)
    b = make_version("b", [*story(2), FOOTER], order=1)
    groups, _ = group_versions([a, b])
    assert members(groups) == [("a",), ("b",)]
    assert 0.05 < shingle_similarity(a, b) < 0.2


def test_one_quoted_sentence_is_not_a_contained_version() -> None:
    quote = story(9, words=26, per_paragraph=26)  # one long sentence: 22 shingles
    full = story(10)
    full.insert(3, quote[0])  # the story quotes it word for word
    groups, _ = group_versions(
        [make_version("quote", quote, order=0), make_version("full", full, order=1)]
    )
    assert members(groups) == [("full",), ("quote",)]


def test_short_texts_are_never_grouped_by_similarity() -> None:
    note = ["Live coverage follows."]
    groups, _ = group_versions([make_version("a", note, order=0), make_version("b", note, order=1)])
    assert members(groups) == [("a",), ("b",)]


def test_manifest_label_wins_over_similarity() -> None:
    text = story(1)
    versions = [
        make_version("x1", text, order=0, group="x"),
        make_version("x2", story(2), order=1, group="x"),  # different text, same label: together
        make_version("y1", text, order=2, group="y"),  # same text, other label: never merged
        make_version("y2", story(8), order=3, group="y"),
        make_version("free", text, order=4),  # unlabelled: joins the closest labelled group
    ]
    groups, problems = group_versions(versions)
    assert problems == ()
    assert members(groups) == [("free", "x1", "x2"), ("y1", "y2")]
    by_id = {g.id: g for g in groups}
    assert by_id["x1"].origin == by_id["y1"].origin == "manifest"
    assert ("free", "x1", 1.0) in by_id["x1"].pairs
    assert all("y1" not in pair for pair in by_id["x1"].pairs)


def test_label_naming_a_version_id_pulls_it_in() -> None:
    groups, problems = group_versions(
        [
            make_version("aaaa", story(1), order=0),
            make_version("bbbb", story(2), order=1, group="aaaa"),
        ]
    )
    assert problems == ()
    assert members(groups) == [("aaaa", "bbbb")]
    assert groups[0].origin == "manifest"


def test_label_naming_no_other_file_warns() -> None:
    groups, problems = group_versions(
        [
            make_version("aaaa", story(1), order=0, group="lonely"),
            make_version("bbbb", story(2), order=1),
        ]
    )
    assert members(groups) == [("aaaa",), ("bbbb",)]
    assert [(p.file, p.severity, p.code) for p in problems] == [
        ("000_aaaa.txt", "warning", "group-names-no-other-file")
    ]


def test_group_id_is_earliest_by_date_and_survives_a_later_version() -> None:
    text = story(3)
    old = [
        make_version("late", text, order=0, published="2014-07-28"),
        make_version("early", text, order=1, published="2014-07-27T09:00:00+02:00"),
    ]
    groups, _ = group_versions(old)
    assert groups[0].id == "early"
    assert groups[0].members == ("early", "late")
    later = make_version("newest", text, order=2, published="2014-07-29T10:00:00Z")
    groups, _ = group_versions([*old, later])
    assert groups[0].id == "early"
    assert groups[0].members == ("early", "late", "newest")


def test_undated_members_come_first_in_corpus_order() -> None:
    text = story(4)
    versions = [
        make_version("dated", text, order=0, published="2001-01-01"),
        make_version("undated2", text, order=2),
        make_version("undated1", text, order=1),
        make_version("baddate", text, order=3, published="last Tuesday"),
    ]
    groups, _ = group_versions(versions)
    assert groups[0].members == ("undated1", "undated2", "baddate", "dated")
    assert groups[0].id == "undated1"


def test_timezones_are_compared_in_utc() -> None:
    text = story(5)
    versions = [
        make_version(
            "a", text, order=0, published="2020-01-02T01:00:00+03:00"
        ),  # 2020-01-01 22:00Z
        make_version("b", text, order=1, published="2020-01-01T23:00:00Z"),
    ]
    groups, _ = group_versions(versions)
    assert groups[0].members == ("a", "b")


def test_same_groups_whatever_the_input_order() -> None:
    versions = []
    for n in range(24):
        text = story(n // 3)  # 8 stories, 3 versions each, the third one cut
        versions.append(make_version(f"v{n:02d}", text if n % 3 else text[:6], order=n))
    versions.append(make_version("label", story(99), order=30, group="nowhere"))
    expected = group_versions(versions)
    for seed in range(3):
        shuffled = versions[:]
        random.Random(seed).shuffle(shuffled)
        assert group_versions(shuffled) == expected
    assert len(expected[0]) == 9


def test_group_size_limit_splits_and_warns() -> None:
    text = story(6)
    versions = [make_version(f"v{n}", text, order=n) for n in range(7)]
    groups, problems = group_versions(versions, GroupingSettings(max_group_size=3))
    assert sorted(len(g.members) for g in groups) == [1, 3, 3]
    assert [p.code for p in problems] == ["group-too-large"]
    assert problems[0].file == "000_v0.txt"


def test_manifest_group_over_the_limit_is_kept_whole() -> None:
    versions = [make_version(f"v{n}", story(n), order=n, group="big") for n in range(4)]
    groups, problems = group_versions(versions, GroupingSettings(max_group_size=3))
    assert members(groups) == [("v0", "v1", "v2", "v3")]
    assert [p.code for p in problems] == ["group-too-large"]


def test_giant_bucket_is_linked_in_a_window_not_all_pairs() -> None:
    text = story(7)
    versions = [make_version(f"v{n:02d}", text, order=n) for n in range(30)]
    groups, _ = group_versions(versions, GroupingSettings(max_bucket=5, bucket_window=2))
    assert len(groups) == 1
    assert len(groups[0].pairs) < 30 * 2  # all pairs would be 435


def test_signatures_match_datasketch() -> None:
    rng = np.random.default_rng(0)
    sizes = (1, 7, 400, 2047, 2048, 2049, 5000)
    sets = [np.unique(rng.integers(0, 2**64 - 1, n, dtype=np.uint64)) for n in sizes]
    for shingle_set, row in zip(sets, minhash_signatures(sets), strict=True):
        expected = MinHash(num_perm=128, seed=1, hashfunc=int)
        expected.update_batch((shingle_set >> np.uint64(32)).astype(np.uint32).tolist())
        assert (expected.hashvalues == row).all()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        GroupingSettings(lsh_bands=100, lsh_rows=2, num_perm=128)
    with pytest.raises(ValueError):
        GroupingSettings(min_similarity=0.0)


# Versions drawn from 4 stories, some cut, some labelled from a few labels, in any order.
version_specs = st.lists(
    st.tuples(
        st.integers(0, 3),  # story
        st.integers(1, 10),  # paragraphs kept
        st.sampled_from([None, None, None, "g1", "g2", "aaaa0"]),  # manifest label
        st.sampled_from([None, "2020-01-01", "2020-01-02T12:00:00Z"]),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(version_specs, st.randoms(use_true_random=False))
def test_every_version_in_exactly_one_group(specs: list, rng: random.Random) -> None:
    versions = [
        make_version(f"aaaa{n}", story(s)[:kept], order=n, group=label, published=date)
        for n, (s, kept, label, date) in enumerate(specs)
    ]
    rng.shuffle(versions)
    groups, _ = group_versions(versions)
    placed = [m for g in groups for m in g.members]
    assert sorted(placed) == sorted(v.id for v in versions)
    for group in groups:
        assert group.id == group.members[0]
        assert (group.origin == "single") == (len(group.members) == 1)
        inside = set(group.members)
        assert all(a < b and {a, b} <= inside for a, b, _ in group.pairs)
        assert list(group.pairs) == sorted(group.pairs)
    labels = {v.id: v.source.metadata.group for v in versions}
    for group in groups:  # two labels never share a group unless one names the other's file
        found = {labels[m] for m in group.members} - {None}
        assert len(found) <= 1 or any(label in group.members for label in found)
