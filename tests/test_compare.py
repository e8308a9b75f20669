"""The default corpus compared: the facts DESIGN.md promises, in version.json and on the page."""

from __future__ import annotations

import json

from conftest import Project

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
    assert (
        "[deleted: </span>A Kiev official confirmed" in section
        or "[inserted: </span>A Kiev official confirmed" in section
    )
    assert "data-search-exclude" in html[html.index('class="corpus-versions"') - 80 :][:200]


def test_group_page_alignment_links_to_existing_anchors(default_site: Project) -> None:
    import re

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
    page = (project.docs / "a" / "1111111111111111" / "index.md").read_text()
    assert "added in the later version</strong>" in page
    assert "only in 002" not in page
    record = json.loads((project.docs / "a" / "2222222222222222" / "version.json").read_text())
    assert record["siblings"][0]["only_here"] == 1


def test_large_groups_show_full_diffs_for_the_nearest_five(project: Project, corpus) -> None:
    files = {
        f"00{i}_{str(i) * 16}.txt": _story(f"Update number {i} adds one more short line.")
        for i in range(1, 8)
    }
    folder = corpus(files)
    assert project.build(folder, "-q", "--no-site") == 0
    page = (project.docs / "a" / ("1" * 16) / "index.md").read_text()
    assert page.count('<div class="corpus-diff" id="diff-') == 5
    assert page.count('see the <a href="../../g/') == 1
    assert "against the 5 nearest versions; the group has 7" in page
    record = json.loads((project.docs / "a" / ("1" * 16) / "version.json").read_text())
    assert [s["diffed"] for s in record["siblings"]] == [True] * 5 + [False]
