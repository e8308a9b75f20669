"""The default corpus compared: the facts DESIGN.md promises, in version.json and on the page."""

from __future__ import annotations

import json
import re

import lxml.html
from conftest import Project, make_version
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from corpus_site import templating
from corpus_site.compare import CONTEXT_WORDS, RowView, compare_group, trim
from corpus_site.models import Group

A, B = "a9b2f913ca9d78f5", "4d15c612d949296d"


def test_000_against_001_is_exactly_the_promised_difference(default_site: Project) -> None:
    record = json.loads((default_site.site / "a" / A / "version.json").read_text())
    [sibling] = record["siblings"]
    assert sibling == {
        "id": B,
        "diffed": True,
        "similarity": sibling["similarity"],
        "equal": 5,
        "typographic": 9,
        "changed": 0,
        "only_here": 2,
        "only_there": 0,
        "moved": 0,
        "split_merge": 0,
        "boilerplate_only_here": 2,
        "boilerplate_only_there": 0,
        "title_changed": True,
    }
    assert 0.9 < sibling["similarity"] < 1.0


def test_001_sees_the_same_diff_from_the_other_side(default_site: Project) -> None:
    record = json.loads((default_site.site / "a" / B / "version.json").read_text())
    [sibling] = record["siblings"]
    assert (sibling["only_here"], sibling["only_there"]) == (0, 2)
    assert (sibling["boilerplate_only_here"], sibling["boilerplate_only_there"]) == (0, 2)
    assert sibling["equal"] + sibling["typographic"] == 14


def test_groups_json_lists_the_group(default_site: Project) -> None:
    data = json.loads((default_site.site / "data" / "groups.json").read_text())
    assert [(g["id"], g["members"]) for g in data["groups"]] == [(A, [A, B])]


def test_version_page_shows_the_paragraphs_only_000_has_in_words(default_site: Project) -> None:
    html = (default_site.site / "a" / B / "index.html").read_text()
    section = html[html.index('class="corpus-versions"') :]
    # Neutral wording (no dates), a visible sign and text for screen readers, not colour alone.
    inline = section[: section.index('class="corpus-table-wrap corpus-diff-side"')]
    assert inline.count('<strong class="corpus-d-what">only in 000</strong>') == 2
    assert inline.count('<strong class="corpus-d-what">boilerplate only in 000</strong>') == 2
    assert "<ins>A Kiev official confirmed" in inline
    assert "data-search-exclude" in html[html.index('class="corpus-versions"') - 80 :][:200]
    # Screen readers hear the change announced, by the stylesheet (tests/browser checks it in
    # a browser): not a span in every <del> and <ins>.
    css = (default_site.site / "stylesheets" / "corpus.css").read_text()
    assert '.corpus-diff ins::before {\n  content: "[inserted: ";' in css
    assert 'class="corpus-sr"' not in section


def test_side_by_side_view_is_made_from_the_inline_view(default_site: Project) -> None:
    """The page carries each text once: the side-by-side tab holds only its column headings
    (corpus.js makes the table, tests/browser checks it) and a note for readers without
    JavaScript."""
    html = (default_site.site / "a" / B / "index.html").read_text()
    section = html[html.index('class="corpus-versions"') :]
    side = section[section.index('class="corpus-table-wrap corpus-diff-side"') :]
    side = side[: side.index("</div>")]
    assert 'data-a="001 (this version)" data-b="000"' in side
    assert "the Inline tab shows every difference" in side
    assert "Kiev" not in side and "<table" not in side
    assert section.count("A Kiev official confirmed") == 1


def test_group_page_alignment_links_to_existing_anchors(default_site: Project) -> None:
    html = (default_site.site / "g" / A / "index.html").read_text()
    links = re.findall(r'href="\.\./\.\./a/([0-9a-f]{16})/#(p\d+)"', html)
    assert len(links) >= 16 + 14
    for vid, anchor in set(links):
        page = (default_site.site / "a" / vid / "index.html").read_text()
        assert f'id="{anchor}"' in page, (vid, anchor)


PARAS = [
    "The council approved the harbour plan on Tuesday after a long debate in the town hall.",
    "Work on the north pier starts in spring, the harbour master told reporters afterwards.",
    "Fishing boats keep their berths on the south side while the building work goes on.",
    "Residents asked for fewer lorries on the harbour road during the two years of works.",
    "The plan sends building traffic along the ring road instead of through the old town.",
]


def _story(extra: str = "", drop: int | None = None) -> str:
    body = [p for i, p in enumerate(PARAS) if i != drop]
    if extra:
        body.append(extra)
    return "Harbour plan approved\n\n" + "\n\n".join(body) + "\n"


def test_dated_versions_are_worded_in_time(project: Project, corpus) -> None:
    folder = corpus(
        {
            "001_1111111111111111.txt": _story(),
            "001_1111111111111111.yml": "published: 2020-01-01\n",
            "002_2222222222222222.txt": _story(
                "The opposition will ask for a referendum on the cost."
            ),
            "002_2222222222222222.yml": "published: 2020-01-02\n",
        }
    )
    assert project.build(folder, "-q", "--no-site") == 0
    page = (project.docs / "a" / "1111111111111111.md").read_text()
    assert "added in the later version</strong>" in page
    assert "only in 002" not in page
    record = json.loads((project.docs / "a" / "2222222222222222.version.json").read_text())
    assert record["siblings"][0]["only_here"] == 1


def test_large_groups_show_full_diffs_for_the_nearest_five(project: Project, corpus) -> None:
    files = {
        f"00{i}_{str(i) * 16}.txt": _story(f"Update number {i} adds one more short line.")
        for i in range(1, 8)
    }
    folder = corpus(files)
    assert project.build(folder, "-q", "--no-site") == 0
    page = (project.docs / "a" / f"{'1' * 16}.md").read_text()
    assert page.count('<div class="corpus-diff" id="diff-') == 5
    assert page.count('see the <a href="../../g/') == 1
    assert "against the 5 nearest versions; the group has 7" in page
    record = json.loads((project.docs / "a" / f"{'1' * 16}.version.json").read_text())
    assert [s["diffed"] for s in record["siblings"]] == [True] * 5 + [False]


# --- the Versions section's markup, without a build --------------------------------------

WORDS_AND_SPACE = re.compile(r"\S+\s*|\s+")


def trim_by_tokens(ops: list[tuple[str, str, str]]) -> tuple[tuple[str, str, str], ...]:
    """trim's definition, on the tokens themselves: keep CONTEXT_WORDS of them each side."""
    out: list[tuple[str, str, str]] = []
    for i, (op, a, b) in enumerate(ops):
        tokens = WORDS_AND_SPACE.findall(a)
        head = CONTEXT_WORDS if i > 0 else 0
        tail = CONTEXT_WORDS if i < len(ops) - 1 else 0
        if op != "equal" or len(tokens) <= head + tail + 2:
            out.append((op, a, b))
            continue
        kept = ["".join(tokens[:head]), "… ", "".join(tokens[len(tokens) - tail :] if tail else [])]
        out += [("skip" if k == 1 else "equal", t, t) for k, t in enumerate(kept) if t]
    return tuple(out)


stretch = st.lists(
    st.sampled_from(["a", "bb", "é", " ", "  ", "\u00a0", "\n", "\u3000", "."]), max_size=40
).map("".join)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(["equal", "equal", "replace"]), stretch), max_size=4))
def test_trim_keeps_context_words_around_each_change(ops: list[tuple[str, str]]) -> None:
    full = [(op, text, text) for op, text in ops]
    assert trim(full) == trim_by_tokens(full)


def test_trim_shortens_a_long_unchanged_stretch() -> None:
    words = " ".join(f"w{k}" for k in range(30))
    ops = [("replace", "x", "y"), ("equal", f" {words} ", f" {words} "), ("insert", "", "z")]
    trimmed = trim(ops)
    assert [op for op, _, _ in trimmed] == ["replace", "equal", "skip", "equal", "insert"]
    assert trimmed[1][1] == " w0 w1 w2 w3 w4 w5 w6 "
    assert trimmed[3][1] == "w22 w23 w24 w25 w26 w27 w28 w29 "


@given(st.text())
def test_diff_text_is_escaped_as_the_environment_escapes(text: str) -> None:
    """The escaping in use (MarkupSafe's compiled one where it has it) and the fallback."""
    assert templating._escape(text) == str(escape(text))
    assert templating._escape_text(text) == str(escape(text))


def test_diff_rows_keep_corpus_text_text() -> None:
    hostile = '<script>alert("x")</script> & {{ jinja }}'
    rows = [
        RowView("only_a", "only in 000", a=(3,), text=hostile),
        RowView(
            "changed",
            "edited",
            a=(4,),
            b=(4, 5),
            words=(("equal", hostile, hostile), ("typo", "<b>", "<i>"), ("replace", "'", '"')),
        ),
    ]
    html = str(templating.diff_rows(rows, ("000", "<001>"), ("", '../x"y/')))
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; {{ jinja }}") == 2
    assert 'title="typography only, was: &lt;b&gt;">&lt;i&gt;</span>' in html
    assert "<del>&#39;</del><ins>&#34;</ins>" in html
    assert '<a href="../x&#34;y/#p4">&lt;001&gt; ¶4, ¶5</a>' in html
    assert html.startswith(
        '<p class="corpus-d corpus-d-del"><span class="corpus-sign" aria-hidden="true">−</span> '
        '<strong class="corpus-d-what">only in 000</strong> (<a href="#p3">000 ¶3</a>): <del>'
    )


def test_versions_and_group_sections_keep_corpus_text_text() -> None:
    # The Versions section and the group comparison are made by formats, not by the
    # autoescaping environment: every corpus value in them must still stay text.
    hostile = "<script>alert(\"x\")</script> & <b>{{ jinja }}</b> 'q'"
    paras = ["First paragraph of the story, long enough.", f"Second one {hostile} here."]
    versions = [
        make_version("aaaa", paras, title=f"One {hostile}", order=0, published=f"2024 {hostile}"),
        make_version("bbbb", [*paras, "Added."], title=f"Two {hostile}", order=1),
        make_version("cccc", paras[:1], title=None, order=2, published="<i>when</i>"),
    ]
    group = Group("aaaa", ("aaaa", "bbbb", "cccc"), "similarity", (("aaaa", "bbbb", 0.5),))
    result = compare_group(group, versions, nearest=1)
    blocks = [*result.version_blocks.values(), result.group_block]
    for block in blocks:
        tree = lxml.html.fragment_fromstring(block, create_parent="div")
        assert tree.xpath("//script | //b | //i") == [], block
    shown = " ".join(" ".join(b.split()) for b in blocks)
    for text in (f"One {hostile}", f"Two {hostile}", f"2024 {hostile}", "<i>when</i>"):
        assert str(escape(text)) in shown, text
    # The nearest sibling (by date) is diffed; one beyond is listed with its similarity.
    assert (
        "<code>cccc</code></a> (cccc, &lt;i&gt;when&lt;/i&gt;): " in result.version_blocks["aaaa"]
    )
    assert "<code>bbbb</code></a> (bbbb): similarity 50%; see" in result.version_blocks["aaaa"]
    assert "the group has 3." in result.version_blocks["aaaa"]
