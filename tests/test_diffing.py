"""Tests of stage 4: folding, word diffs and paragraph alignment."""

from __future__ import annotations

import difflib
import re
import unicodedata

import pytest
from conftest import Para, make_version
from cydifflib import SequenceMatcher
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_site.diffing import _FOLD_TABLE as FOLD_TABLE
from corpus_site.diffing import _WORD as WORD
from corpus_site.diffing import (
    _swapped_marks,
    _token_diff,
    diff_versions,
    fold,
    swap,
    tokenize,
    word_diff,
)
from corpus_site.models import Diff, Version

WORD_KINDS = {"typographic", "changed", "moved", "split", "merge"}


def shape(diff: Diff) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """The rows of a diff without their word ops, for readable expectations."""
    return [(r.kind, r.a, r.b) for r in diff.rows]


def diff_of(a: list[Para], b: list[Para]) -> Diff:
    return diff_versions(make_version("aaaa", a), make_version("bbbb", b))


# --- fold ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u2018single\u2019 \u201adouble\u201b", "'single' 'double'"),
        (
            "\u201cquoted\u201d \u201elow\u201f \u00abguillemets\u00bb",
            '"quoted" "low" "guillemets"',
        ),
        ("5\u2032 11\u2033, `grave\u00b4", "5' 11\", 'grave'"),
        ("a\u2010b\u2011c\u2012d\u2013e\u2014f\u2015g\u2212h", "a-b-c-d-e-f-g-h"),
        ("\ufb01nance", "finance"),  # ligature "fi" under NFKC
        ("\uff21\uff22\uff23", "ABC"),  # fullwidth letters under NFKC
        ("non\u00a0breaking\u2009thin", "non breaking thin"),
        ("  several\n\n lines\t and   tabs  ", "several lines and tabs"),
        ("Case Stays", "Case Stays"),
        ("", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_fold_keeps_case_apart() -> None:
    assert fold("Kiev") != fold("kiev")


TYPOGRAPHY = (
    "\u2018\u2019\u201c\u201d\u201e\u00ab\u00bb\u2032\u2033\u00b4`\u2013\u2014\u2212\u00a0\ufb01"
)
texts = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(list(TYPOGRAPHY + " \n\t.,;:!?'\"-()")),
        st.sampled_from(["a", "b", "e", "\u0301", "\u00e9"]),
    ),
    max_size=40,
)


@given(texts)
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(texts)
def test_fold_is_its_definition(text: str) -> None:
    # fold's fast paths (ASCII, str.replace of the marks present) give what the definition
    # does: the marks translated, NFKC, the marks translated again, whitespace folded.
    definition = unicodedata.normalize("NFKC", text.translate(FOLD_TABLE)).translate(FOLD_TABLE)
    assert fold(text) == " ".join(definition.split())


# --- word_diff ----------------------------------------------------------------------------


def test_tokenize_keeps_every_character() -> None:
    assert tokenize("Kiev\u2019s  army\u2013 \u201cok\u201d") == [
        "Kiev",
        "\u2019",
        "s",
        "  ",
        "army",
        "\u2013",
        " ",
        "\u201c",
        "ok",
        "\u201d",
    ]


def test_word_diff_corrected_word() -> None:
    assert word_diff("The soldeirs left.", "The soldiers left.") == (
        ("equal", "The ", "The "),
        ("replace", "soldeirs", "soldiers"),
        ("equal", " left.", " left."),
    )


def test_word_diff_quote_change_is_typo() -> None:
    assert word_diff("\u201cIt\u2019s here,\u201d he said", '"It\'s here," he said') == (
        ("typo", "\u201c", '"'),
        ("equal", "It", "It"),
        ("typo", "\u2019", "'"),
        ("equal", "s here,", "s here,"),
        ("typo", "\u201d", '"'),
        ("equal", " he said", " he said"),
    )


def test_word_diff_insertion() -> None:
    assert word_diff("They left.", "They quickly left.") == (
        ("equal", "They", "They"),
        ("insert", "", " quickly"),
        ("equal", " left.", " left."),
    )


def test_word_diff_deletion_mirrors_insertion() -> None:
    assert word_diff("They quickly left.", "They left.") == (
        ("equal", "They", "They"),
        ("delete", " quickly", ""),
        ("equal", " left.", " left."),
    )


def test_word_diff_whitespace_only_is_typo() -> None:
    assert word_diff("two  spaces", "two spaces") == (
        ("equal", "two", "two"),
        ("typo", "  ", " "),
        ("equal", "spaces", "spaces"),
    )
    assert word_diff("trailing ", "trailing") == (
        ("equal", "trailing", "trailing"),
        ("typo", " ", ""),
    )


def test_word_diff_case_change_is_real() -> None:
    assert word_diff("kiev said", "Kiev said") == (
        ("replace", "kiev", "Kiev"),
        ("equal", " said", " said"),
    )


def test_word_diff_empty() -> None:
    assert word_diff("", "") == ()
    assert word_diff("", "new") == (("insert", "", "new"),)


def test_word_diff_long_text_keeps_frequent_words() -> None:
    # 300+ tokens where "the" is frequent: with autojunk on, difflib would ignore it.
    a = " ".join(["the soldiers and the border"] * 40)
    b = a.replace("soldiers", "troops", 1)
    ops = word_diff(a, b)
    assert [op for op, _, _ in ops] == ["equal", "replace", "equal"]
    assert ops[1] == ("replace", "soldiers", "troops")


@given(texts, texts)
def test_word_diff_rebuilds_both_texts(a: str, b: str) -> None:
    ops = word_diff(a, b)
    assert "".join(x for _, x, _ in ops) == a
    assert "".join(y for _, _, y in ops) == b
    for op, x, y in ops:
        assert op in {"equal", "typo", "delete", "insert", "replace"}
        assert (op == "equal") == (x == y)
        assert op != "delete" or y == ""
        assert op != "insert" or x == ""
        assert op != "typo" or fold(x) == fold(y)
    assert all(ops[k][0] != ops[k + 1][0] for k in range(len(ops) - 1))


tokens = st.lists(
    st.sampled_from(["the", "soldiers", " ", ",", "Kiev", "'", "border"]), max_size=60
)


@settings(max_examples=500)
@given(tokens, tokens)
def test_the_compiled_matcher_gives_difflibs_opcodes(a: list[str], b: list[str]) -> None:
    # cydifflib stands in for difflib only because it gives the same answer, faster.
    ours = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert ours == difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def test_swapped_quotes_are_found_without_tokenizing() -> None:
    a, b = "\u201cIt\u2019s here,\u201d he said \u2013 ok", '"It\'s here," he said - ok'
    assert _swapped_marks(a, b) is not None
    assert _swapped_marks(a, b) == _token_diff(a, b)
    assert _swapped_marks("It\u2019s", "It s") is None  # a space is no mark
    assert _swapped_marks("x\u2019s", "x-s") is None  # not the same key


marks = st.sampled_from(list("\u2018\u2019\u201c\u201d\u2013\u2014\u00b4'\"-`.,a \u0301"))


@settings(max_examples=500)
@given(texts, st.lists(st.tuples(st.integers(0, 39), marks), max_size=8))
def test_swapped_marks_give_the_token_diff(a: str, swaps: list[tuple[int, str]]) -> None:
    chars = list(a)
    for i, mark in swaps:
        if i < len(chars):
            chars[i] = mark
    b = "".join(chars)
    if a != b:
        ops = _swapped_marks(a, b)
        assert ops is None or ops == _token_diff(a, b)


@given(texts)
def test_word_diff_of_same_text_is_equal(a: str) -> None:
    assert all(op == "equal" for op, _, _ in word_diff(a, a))


@given(texts, texts)
def test_word_diff_is_symmetric(a: str, b: str) -> None:
    mirror = {"delete": "insert", "insert": "delete"}
    assert word_diff(b, a) == tuple((mirror.get(op, op), y, x) for op, x, y in word_diff(a, b))


# --- diff_versions: one class at a time ---------------------------------------------------

P1 = "Over 40 Ukrainian soldiers crossed into Russian territory on Sunday."
P2 = "The border patrol unit said they asked the militia for help."
P3 = "Meanwhile a hospital near the border has been treating wounded soldiers."
P4 = "The country is falling apart, but for them everything is fine, he added."
P5 = "Ukraine's parliament approved a decree on the limited mobilization of reserves."


def test_identical_versions() -> None:
    diff = diff_of([P1, P2], [P1, P2])
    assert shape(diff) == [("equal", (1,), (1,)), ("equal", (2,), (2,))]
    assert all(r.words == () for r in diff.rows)
    assert diff.similarity == 1.0
    assert diff.counts.equal == 2


def test_typographic() -> None:
    curly = P5.replace("'", "\u2019")
    diff = diff_of([P1, curly], [P1, P5])
    assert shape(diff) == [("equal", (1,), (1,)), ("typographic", (2,), (2,))]
    assert diff.rows[1].words[:3] == (
        ("equal", "Ukraine", "Ukraine"),
        ("typo", "\u2019", "'"),
        ("equal", P5[8:], P5[8:]),
    )
    assert diff.similarity == 1.0


def test_changed() -> None:
    edited = P2.replace("militia", "self-defense forces")
    diff = diff_of([P1, P2, P3], [P1, edited, P3])
    assert shape(diff) == [
        ("equal", (1,), (1,)),
        ("changed", (2,), (2,)),
        ("equal", (3,), (3,)),
    ]
    assert ("replace", "militia", "self-defense forces") in diff.rows[1].words
    assert diff.counts.changed == 1
    assert 0.9 < diff.similarity < 1.0


def test_only_a_and_only_b() -> None:
    diff = diff_of([P1, P2, P3], [P1, P3, P4])
    assert shape(diff) == [
        ("equal", (1,), (1,)),
        ("only_a", (2,), ()),
        ("equal", (3,), (2,)),
        ("only_b", (), (3,)),
    ]
    assert (diff.counts.only_a, diff.counts.only_b) == (1, 1)


def test_unrelated_paragraphs_are_not_paired() -> None:
    diff = diff_of([P1, P2], [P1, P4])
    assert shape(diff) == [("equal", (1,), (1,)), ("only_a", (2,), ()), ("only_b", (), (2,))]


def test_disjoint_versions_have_similarity_zero() -> None:
    diff = diff_of(["Alpha beta gamma."], ["Delta epsilon zeta."])
    assert shape(diff) == [("only_a", (1,), ()), ("only_b", (), (1,))]
    assert diff.similarity == 0.0


def test_moved() -> None:
    diff = diff_of([P1, P2, P3, P4], [P2, P3, P4, P1.replace("Sunday", "Sunday")])
    assert shape(diff) == [
        ("equal", (2,), (1,)),
        ("equal", (3,), (2,)),
        ("equal", (4,), (3,)),
        ("moved", (1,), (4,)),
    ]
    assert diff.counts.moved == 1
    assert diff.similarity == 1.0


def test_moved_with_typography() -> None:
    curly = P5.replace("'", "\u2019")
    diff = diff_of([curly, P1, P2], [P1, P2, P5])
    assert shape(diff) == [
        ("equal", (2,), (1,)),
        ("equal", (3,), (2,)),
        ("moved", (1,), (3,)),
    ]
    assert ("typo", "\u2019", "'") in diff.rows[2].words


def test_split() -> None:
    whole = f"{P2} {P3}"
    diff = diff_of([P1, whole, P4], [P1, P2, P3, P4])
    assert shape(diff) == [
        ("equal", (1,), (1,)),
        ("split", (2,), (2, 3)),
        ("equal", (3,), (4,)),
    ]
    assert diff.rows[1].words == (("equal", whole, whole),)
    assert diff.counts.split_merge == 1
    assert (diff.counts.only_a, diff.counts.only_b, diff.counts.changed) == (0, 0, 0)


def test_split_in_three_with_an_edit() -> None:
    whole = f"{P2} {P3} {P4}"
    diff = diff_of([whole], [P2, P3.replace("wounded", "injured"), P4])
    assert shape(diff) == [("split", (1,), (1, 2, 3))]
    assert ("replace", "wounded", "injured") in diff.rows[0].words


def test_merge() -> None:
    whole = f"{P2} {P3}"
    diff = diff_of([P1, P2, P3], [P1, whole])
    assert shape(diff) == [("equal", (1,), (1,)), ("merge", (2, 3), (2,))]
    assert diff.counts.split_merge == 1


def test_split_next_to_a_changed_paragraph() -> None:
    whole = f"{P2} {P3}"
    diff = diff_of([whole, P5], [P2, P3, P5.replace("limited", "partial")])
    assert shape(diff) == [("split", (1,), (1, 2)), ("changed", (2,), (3,))]


def test_split_beats_pairing_with_a_weak_neighbour() -> None:
    # Pairing P2+P3 with P2 and the look-alike with P3 would pair every paragraph, but the
    # split explains more shared words, so the look-alike stays unpaired.
    look_alike = "Meanwhile a hospital near the border has been visited by officials."
    diff = diff_of([f"{P2} {P3}", look_alike], [P2, P3])
    assert shape(diff) == [("split", (1,), (1, 2)), ("only_a", (2,), ())]


def test_boilerplate() -> None:
    follow = ("Follow RT's live updates on the campaign", "follow-live")
    read_a = ("Read more: Kiev soldiers desert", "read-more")
    read_b = ("Read more: Another story", "read-more")
    diff = diff_of([P1, follow, P2, read_a], [follow, P1, P2, read_b])
    assert shape(diff) == [
        ("boilerplate_equal", (2,), (1,)),
        ("equal", (1,), (2,)),
        ("equal", (3,), (3,)),
        ("boilerplate_a", (4,), ()),
        ("boilerplate_b", (), (4,)),
    ]
    assert diff.counts == diff.counts.__class__(equal=2, boilerplate_only_a=1, boilerplate_only_b=1)


def test_boilerplate_multiset() -> None:
    # Copies pair in order (first with first); the extra copies of A stay where they stood in A.
    ad = ("Advertisement", "recurring")
    diff = diff_of([ad, P1, ad, P2, ad], [P1, ad, P2])
    assert shape(diff) == [
        ("equal", (2,), (1,)),
        ("boilerplate_a", (3,), ()),
        ("boilerplate_equal", (1,), (2,)),
        ("equal", (4,), (3,)),
        ("boilerplate_a", (5,), ()),
    ]
    assert diff.counts.boilerplate_only_a == 2


def test_title_changed() -> None:
    def changed(ta: str | None, tb: str | None) -> bool:
        a, b = make_version("aaaa", [P1], ta), make_version("bbbb", [P1], tb)
        return diff_versions(a, b).counts.title_changed

    assert changed(None, "Kiev soldiers desert to Russia")
    assert changed("Kiev soldiers desert", None)
    assert not changed(None, None)
    assert not changed("Kiev\u2019s soldiers", "Kiev's soldiers")
    assert changed("Kiev soldiers", "Kiev troops")


def test_realistic_scraped_against_cleaned() -> None:
    cleaned = [
        "More than 40 Ukrainian soldiers have abandoned their military posts.",
        "At least 41 soldiers asked the self-defense forces for help, the FSB's unit said.",
        '"At around 20:30 Moscow time, 41 soldiers left their bases," Malaev said.',
        "All of the soldiers were able to cross at the Donetsk checkpoint.",
        "Meanwhile, a Russian hospital has been treating wounded Ukrainian soldiers.",
        "\"I wouldn't want to. We don't know who we are fighting,\" Ivan told RT.",
        '"What right do they have to make us fight?" he asked.',
        "Another soldier questioned the purpose of the military offensive.",
        '"It is all so confusing, who is fighting who," soldier Sergey said.',
        "Two other soldiers - major and senior warrant officers - also fled.",
        "Officers rarely come to the frontline - RT's Roman Kosarev reported.",
        '"Millions of dollars have already been spent," Kosarev added.',
        "Ukraine's parliament approved a decree authorizing limited mobilization.",
        "This was part of the peace plan.",
    ]

    def scrape(text: str) -> str:
        curly = text.replace(" - ", " \u2013 ").replace("'", "\u2019")
        if curly.startswith('"'):
            curly = "\u201c" + curly[1:]
        return curly.replace('," ', ",\u201d ").replace('?" ', "?\u201d ")

    scraped: list[Para] = [scrape(t) for t in cleaned]
    assert sum(s != t for s, t in zip(scraped, cleaned, strict=True)) == 9
    scraped[4:4] = [
        "A Kiev official confirmed on Sunday that over 40 soldiers had crossed.",
        "\u201cIndeed, this took place,\u201d Ukrainian minister of defense Valery Geletey said.",
    ]
    scraped.append(("Read more: Kiev soldiers desert to Russia", "read-more"))
    a = make_version("a9b2f913ca9d78f5", scraped)
    b = make_version("4d15c612d949296d", list(cleaned), "Kiev soldiers desert to Russia")
    diff = diff_versions(a, b)
    assert diff.counts == diff.counts.__class__(
        equal=5, typographic=9, only_a=2, boilerplate_only_a=1, title_changed=True
    )
    assert shape(diff) == [
        ("equal", (1,), (1,)),
        ("typographic", (2,), (2,)),
        ("typographic", (3,), (3,)),
        ("equal", (4,), (4,)),
        ("only_a", (5,), ()),
        ("only_a", (6,), ()),
        ("equal", (7,), (5,)),
        ("typographic", (8,), (6,)),
        ("typographic", (9,), (7,)),
        ("equal", (10,), (8,)),
        ("typographic", (11,), (9,)),
        ("typographic", (12,), (10,)),
        ("typographic", (13,), (11,)),
        ("typographic", (14,), (12,)),
        ("typographic", (15,), (13,)),
        ("equal", (16,), (14,)),
        ("boilerplate_a", (17,), ()),
    ]
    assert diff.rows[2].words[0] == ("typo", "\u201c", '"')
    assert (diff.title_a, diff.title_b) == (None, "Kiev soldiers desert to Russia")
    assert 0.85 < diff.similarity < 0.95


# --- diff_versions: properties ------------------------------------------------------------

# A small pool so that generated versions share, move, split and edit paragraphs.
POOL: list[Para] = [
    P1,
    P2,
    P3,
    P4,
    P5,
    P5.replace("'", "\u2019"),
    P2.replace("militia", "self-defense forces"),
    f"{P2} {P3}",
    f"{P3} {P4} {P1}",
    "Short.",
    "",
    ("Read more: elsewhere", "read-more"),
    ("Advertisement", "recurring"),
]
paragraph = st.one_of(st.sampled_from(POOL), texts)
versions = st.tuples(
    st.lists(paragraph, max_size=8), st.one_of(st.none(), st.sampled_from(POOL[:2]))
)


def build(vid: str, spec: tuple[list[Para], object]) -> Version:
    paras, title = spec
    return make_version(vid, paras, title if isinstance(title, str) else None)


@given(versions)
def test_diff_with_itself_is_all_equal(spec: tuple[list[Para], object]) -> None:
    v = build("aaaa", spec)
    diff = diff_versions(v, v)
    assert {r.kind for r in diff.rows} <= {"equal", "boilerplate_equal"}
    assert diff.similarity == 1.0
    assert diff.counts == diff.counts.__class__(equal=len(v.body))


@settings(max_examples=300)
@given(versions, versions)
def test_diff_invariants(
    spec_a: tuple[list[Para], object], spec_b: tuple[list[Para], object]
) -> None:
    a, b = build("aaaa", spec_a), build("bbbb", spec_b)
    diff = diff_versions(a, b)
    # Every paragraph appears in exactly one row, on its side.
    assert sorted(n for r in diff.rows for n in r.a) == [p.n for p in a.paragraphs]
    assert sorted(n for r in diff.rows for n in r.b) == [p.n for p in b.paragraphs]
    text_a = {p.n: p.text for p in a.paragraphs}
    text_b = {p.n: p.text for p in b.paragraphs}
    for r in diff.rows:
        if r.kind in WORD_KINDS:
            assert "".join(x for _, x, _ in r.words) == " ".join(text_a[n] for n in r.a)
            assert "".join(y for _, _, y in r.words) == " ".join(text_b[n] for n in r.b)
        else:
            assert r.words == ()
    # Rows with a B side come in B's reading order.
    b_starts = [min(r.b) for r in diff.rows if r.b]
    assert b_starts == sorted(b_starts)
    # Counts tally the rows.
    kinds = [r.kind for r in diff.rows]
    c = diff.counts
    assert c.equal == kinds.count("equal")
    assert c.split_merge == kinds.count("split") + kinds.count("merge")
    assert c.only_a == kinds.count("only_a")
    assert c.boilerplate_only_b == kinds.count("boilerplate_b")
    # Similarity, as diff_versions defines it: the words of equal, typographic and moved
    # rows, and of the "equal" and "typo" ops of the other rows with words.
    words = re.compile(WORD)
    shared = sum(
        len(words.findall(text_a[n])) + len(words.findall(text_b[m]))
        for r in diff.rows
        if r.kind in ("equal", "typographic", "moved")
        for n, m in zip(r.a, r.b, strict=True)
    ) + sum(
        len(words.findall(x)) + len(words.findall(y))
        for r in diff.rows
        if r.kind in ("changed", "split", "merge")
        for op, x, y in r.words
        if op in ("equal", "typo")
    )
    total = sum(len(words.findall(p.text)) for p in a.body + b.body)
    assert diff.similarity == (shared / total if total else 1.0)
    assert 0.0 <= diff.similarity <= 1.0


@settings(max_examples=300)
@given(versions, versions)
def test_swapping_versions_mirrors_the_diff(
    spec_a: tuple[list[Para], object], spec_b: tuple[list[Para], object]
) -> None:
    a, b = build("aaaa", spec_a), build("bbbb", spec_b)
    forward, backward = diff_versions(a, b), diff_versions(b, a)
    f, k = forward.counts, backward.counts
    assert (f.only_a, f.only_b) == (k.only_b, k.only_a)
    assert (f.boilerplate_only_a, f.boilerplate_only_b) == (
        k.boilerplate_only_b,
        k.boilerplate_only_a,
    )
    assert f.split_merge == k.split_merge
    splits = [r.kind for r in forward.rows].count("split")
    assert splits == [r.kind for r in backward.rows].count("merge")
    assert backward == swap(forward)


def test_deterministic() -> None:
    a = make_version("aaaa", [P1, f"{P2} {P3}", P4, P5])
    b = make_version("bbbb", [P5, P2, P3, P4.replace("fine", "good")])
    assert diff_versions(a, b) == diff_versions(a, b)


def test_large_unrelated_articles_account_for_every_paragraph() -> None:
    # 200 paragraphs against 200 unrelated-but-similar ones: the worst region for pairing.
    # (Its speed is measured in bench/, not asserted here: these machines are shared.)
    vocab = [f"w{k}" for k in range(400)]
    common = "the soldiers and the border of the country"

    def para(seed: int) -> str:
        words = [vocab[(seed * 7 + k * 13) % 400] for k in range(25)]
        return f"{common} {' '.join(words)}."

    a = make_version("aaaa", [para(s) for s in range(200)])
    b = make_version("bbbb", [para(s + 1000) for s in range(200)])
    diff = diff_versions(a, b)
    assert len(diff.rows) >= 200
    assert sorted(n for row in diff.rows for n in row.a) == list(range(1, 201))
    assert sorted(n for row in diff.rows for n in row.b) == list(range(1, 201))
