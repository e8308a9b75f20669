"""Messy and hostile input: every file published or reported, nothing lost, nothing gets in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import lxml.html
import pytest
from conftest import Project, make_source
from hostile_corpus import INJECTIONS, make_hostile_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path, dict[str, str], int]:
    from conftest import make_project

    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    expected = make_hostile_corpus(corpus)
    project = make_project(root / "project")
    code = project.build(corpus, "-q", "--max-file-size", "200000")
    return project, corpus, expected, code


def published_ids(project: Project) -> dict[str, str]:
    """source file -> version ID, from the published version records."""
    out = {}
    for record in project.site.glob("a/*/version.json"):
        data = json.loads(record.read_text())
        out[data["source_file"]] = data["id"]
    return out


def test_every_file_is_published_or_reported(hostile) -> None:
    project, _, expected, code = hostile
    assert code == 1  # some files failed, and they are named
    report = json.loads((project.root / "build-report.json").read_text())
    problems = {(p["file"], p["code"]) for p in report["problems"]}
    published = published_ids(project)
    for name, outcome in sorted(expected.items()):
        if outcome == "published":
            assert name in published, name
        else:
            assert (name, outcome) in problems, (name, outcome)
            assert name not in published, name
    assert set(published) <= set(expected)


def test_published_sources_are_byte_identical(hostile) -> None:
    project, corpus, _, _ = hostile
    for name, vid in published_ids(project).items():
        assert (project.site / "a" / vid / "source.txt").read_bytes() == (
            corpus / name
        ).read_bytes()


def test_encodings_are_decoded_and_recorded(hostile) -> None:
    project, _, _, _ = hostile
    ids = published_ids(project)

    def record(name: str) -> dict:
        return json.loads((project.site / "a" / ids[name] / "version.json").read_text())

    assert record("enc/utf16-bom.txt")["encoding"] == "utf-16"
    latin = record("enc/cp1252-crlf.txt")
    assert latin["encoding"] == "cp1252" and latin["encoding_detected"] is True
    assert "costs £3 now, up from “£2”" in latin["paragraphs"][0]["text"]
    assert [p["text"] for p in record("enc/mixed-line-ends.txt")["paragraphs"]] == [
        "First paragraph.",
        "Second paragraph.",
    ]
    assert record("enc/control-bytes.txt")["control_chars_dropped"] == 2
    moji = record("enc/mojibake.txt")
    assert moji["paragraphs"][0]["text"] == "It’s the council’s plan, said the mayor."
    assert moji["repaired"] and "mojibake" in moji["repaired"][0]
    unknown = record("meta/unknown-fields.txt")["metadata"]["extra"]
    assert unknown == {"beat": "politics", "desk": '["foreign", "wire"]'}


def test_the_outside_link_target_is_nowhere_in_the_site(hostile) -> None:
    project, _, _, _ = hostile
    for path in project.site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".txt", ".json", ".csv", ".jsonl"}:
            assert "This must never be published" not in path.read_text(errors="replace"), path


def _injected(tree: lxml.html.HtmlElement) -> list[str]:
    """Elements, attributes and links that no corpus text may introduce."""
    bad = []
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in {"iframe", "object", "embed"}:
            bad.append(el.tag)
        if el.tag == "script" and el.get("type") == "application/ld+json":
            json.loads(el.text or "")  # data stays data: it must still parse
        elif el.tag == "script" and not el.get("src") and "alert" in (el.text or ""):
            bad.append("inline script")
        if el.tag == "img" and (el.get("onerror") or "evil" in (el.get("src") or "")):
            bad.append("img")
        for attr, value in el.attrib.items():
            if attr.startswith("on"):
                bad.append(f"{el.tag}[{attr}]")
            if attr in {"href", "src"} and value.strip().lower().startswith("javascript:"):
                bad.append(f"{el.tag}[{attr}=javascript:]")
            if attr in {"href", "src"} and "evil.example" in value:
                bad.append(f"{el.tag}[{attr}]")
        if el.tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and "Not a heading" in el.text_content():
            bad.append("heading")
        if "admonition" in (el.get("class") or "") and "Not an admonition" in el.text_content():
            bad.append("admonition")
        if el.tag in {"b", "strong"} and "not bold" in el.text_content():
            bad.append("bold")
    return bad


def test_no_corpus_text_becomes_markup_and_all_of_it_shows(hostile) -> None:
    project, _, _, _ = hostile
    ids = published_ids(project)
    for name, text in INJECTIONS.items():
        page = project.site / "a" / ids[f"inject/{name}.txt"] / "index.html"
        tree = lxml.html.parse(str(page)).getroot()
        assert _injected(tree) == [], name
        [body] = tree.xpath('//div[@class="corpus-text"]')
        shown = " ".join(body.text_content().replace("¶", " ").split())
        assert " ".join(text.split()) in shown, name
    for page in project.site.rglob("*.html"):
        assert _injected(lxml.html.parse(str(page)).getroot()) == [], page


def test_long_and_multiline_titles_stay_text(hostile) -> None:
    project, _, _, _ = hostile
    ids = published_ids(project)
    long_page = lxml.html.parse(
        str(project.site / "a" / ids["inject/long-title.txt"] / "index.html")
    )
    [h1] = long_page.xpath("//h1")
    assert h1.text_content().count("Very long title") == 700
    assert len(long_page.xpath("//title")[0].text_content()) < 300
    multi = lxml.html.parse(
        str(project.site / "a" / ids["inject/newline-title.txt"] / "index.html")
    )
    assert multi.xpath("//h1")[0].text_content() == "Line one Line two <b>bold</b>"
    assert multi.xpath("//h1//b") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; permissions cannot be tested")
def test_unreadable_file_is_reported(project: Project, corpus) -> None:
    folder = corpus({"ok.txt": "Fine\n\nReadable text.\n", "locked.txt": "Locked\n\nText.\n"})
    (folder / "locked.txt").chmod(0)
    assert project.build(folder, "-q", "--no-site") == 1
    report = json.loads((project.root / "build-report.json").read_text())
    assert [(p["file"], p["code"]) for p in report["problems"]] == [("locked.txt", "unreadable")]


def test_a_failed_site_build_leaves_the_previous_site_whole(project: Project, corpus) -> None:
    folder = corpus({"a.txt": "Headline\n\nThe first edition of the text.\n"})
    assert project.build(folder, "-q") == 0
    before = {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()}
    # A hand-written page asking for a template that does not exist makes MkDocs fail
    # halfway through writing its pages.
    (project.docs / "broken.md").write_text("---\ntemplate: no-such-template.html\n---\n# Broken\n")
    (folder / "b.txt").write_text("Second\n\nA second article arrives.\n")
    assert project.build(folder, "-q") == 2
    after = {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()}
    assert after == before
    leftovers = [p.name for p in project.root.iterdir() if p.name.startswith(".site")]
    assert leftovers == []


# --- The render path, for arbitrary text --------------------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        *INJECTIONS.values(),
        "<",
        ">",
        "&",
        '"',
        "'",
        "`",
        "*",
        "_",
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "%",
        "#",
        "|",
        "!",
        "---",
        "\\",
        "&amp;",
        "&#60;",
        "<!--",
        "-->",
        "]]>",
        "<b>",
    ]
)
_TEXT = st.lists(st.one_of(_FRAGMENTS, st.text(min_size=1, max_size=12)), min_size=1, max_size=8)


@pytest.fixture(scope="module")
def markdown_converter():
    """The Markdown converter with exactly the extensions MkDocs uses for this site."""
    import markdown
    from conftest import ROOT
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    return lambda text: markdown.markdown(
        text, extensions=config["markdown_extensions"], extension_configs=config["mdx_configs"]
    )


def render_one(version):
    """The Markdown page of a single version, through the real pure stages."""
    from corpus_site.compare import compare_groups
    from corpus_site.grouping import group_versions
    from corpus_site.ledger import Ledger, reconcile
    from corpus_site.normalize import shown_titles
    from corpus_site.render import SiteInput, ledger_metadata, render_site

    groups, _ = group_versions([version])
    titles = shown_titles([version], groups)
    comparison = compare_groups([version], groups, titles, 5)
    reconciled = reconcile(
        Ledger(),
        [version],
        groups,
        {version.id: titles[version.id].text},
        {version.id: ledger_metadata(version)},
        "2026-01-01",
    )
    files = render_site(
        SiteInput(
            [version],
            groups,
            titles,
            [],
            comparison.version_blocks,
            comparison.group_blocks,
            comparison.sibling_records,
            reconciled,
            {},
        )
    )
    return files[f"a/{version.id}.md"].decode()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=_TEXT)
def test_any_text_renders_as_itself_and_nothing_else(parts: list[str], markdown_converter) -> None:
    from corpus_site.normalize import normalize
    from corpus_site.sources import drop_control_chars

    # As the sources stage hands text on: one line, control characters dropped.
    text, _ = drop_control_chars(" ".join(p.replace("\n", " ") for p in parts))
    source = make_source("Title\n\n" + text + "\n", id_origin="content hash")
    version = normalize(source)
    page = render_one(version)
    html = markdown_converter(page.split("\n---\n", 1)[1])
    tree = lxml.html.fromstring(f"<div>{html}</div>")
    assert _injected(tree) == []
    for paragraph in version.paragraphs:
        [element] = tree.xpath(f'//*[@id="p{paragraph.n}"]')
        if element.tag == "details":
            shown = element.xpath("./p")[0].text_content()
        else:
            shown = "".join(element.xpath("./text()"))
        assert " ".join(shown.split()) == " ".join(paragraph.text.split())
