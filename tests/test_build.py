"""End to end: the real command line, the real MkDocs build, the real HTML."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from conftest import DEFAULT_CORPUS, Project

A, B = "a9b2f913ca9d78f5", "4d15c612d949296d"


class _Text(HTMLParser):
    """Visible text and the elements of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> _Text:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_both_version_pages_exist_with_their_text(default_site: Project) -> None:
    for vid in (A, B):
        page = parse(default_site.site / "a" / vid / "index.html")
        text = " ".join(page.text)
        assert "Kiev soldiers desert to Russia" in text
        assert "Izvarino" in text
        assert {"p1", "p2", "p3"} <= page.ids
    only_000 = " ".join(parse(default_site.site / "a" / A / "index.html").text)
    assert "A Kiev official confirmed on Sunday" in only_000


def test_source_txt_is_byte_identical_to_the_corpus_file(default_site: Project) -> None:
    for name in ("000_a9b2f913ca9d78f5.txt", "001_4d15c612d949296d.txt"):
        vid = name[4:-4]
        published = default_site.site / "a" / vid / "source.txt"
        assert published.read_bytes() == (DEFAULT_CORPUS / name).read_bytes()


def test_version_json_records_the_page(default_site: Project) -> None:
    record = json.loads((default_site.site / "a" / A / "version.json").read_text())
    assert record["id"] == A
    assert record["title"] == "Kiev soldiers desert to Russia"
    assert record["title_origin"] == f"title of sibling {B}"
    assert (
        record["sha256"]
        == __import__("hashlib")
        .sha256((DEFAULT_CORPUS / "000_a9b2f913ca9d78f5.txt").read_bytes())
        .hexdigest()
    )
    assert [p["n"] for p in record["paragraphs"] if p["boilerplate"]] == [2, 18]


def test_home_page_lists_both_versions(default_site: Project) -> None:
    home = parse(default_site.site / "index.html")
    assert f"a/{A}/" in home.links and f"a/{B}/" in home.links
    text = " ".join(home.text)
    assert "2 versions in 1 group" in text


def test_article_pages_are_not_in_the_sidebar(default_site: Project) -> None:
    page = (default_site.site / "a" / A / "index.html").read_text()
    nav = page[page.index('<nav class="md-nav md-nav--primary"') :]
    nav = nav[: nav.index("</nav>")]
    assert f"a/{B}/" not in nav and "Kiev soldiers" not in nav


def test_no_page_asks_an_outside_host_for_anything(default_site: Project) -> None:
    for page in default_site.site.rglob("*.html"):
        html = page.read_text()
        assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html, page


def test_rebuild_is_byte_identical_and_writes_nothing(
    default_site: Project, tmp_path: Path
) -> None:
    before = {p: p.read_bytes() for p in default_site.docs.rglob("*") if p.is_file()}
    assert default_site.build(DEFAULT_CORPUS, "-q") == 0
    after = {p: p.read_bytes() for p in default_site.docs.rglob("*") if p.is_file()}
    assert after == before


def test_bad_files_are_named_and_the_others_still_publish(project: Project, corpus, capsys) -> None:
    folder = corpus(
        {
            "000_a9b2f913ca9d78f5.txt": (DEFAULT_CORPUS / "000_a9b2f913ca9d78f5.txt").read_bytes(),
            "empty.txt": b"",
            "picture.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            "report.txt": b"%PDF-1.7\n%\xb5\xb5\xb5\xb5\n1 0 obj\n",
            "garbled.txt": bytes(range(128, 256)) * 8,
            "frontmatter.txt": '---\ntitle: "unclosed\n---\nText.\n',
            "badid.txt": "---\nid: a/b\n---\nHeadline\n\nText.\n",
            "dup/003_a9b2f913ca9d78f5.txt": "Another\n\nA different article.\n",
        }
    )
    bad = {
        "empty.txt",
        "picture.txt",
        "report.txt",
        "garbled.txt",
        "frontmatter.txt",
        "badid.txt",
        "dup/003_a9b2f913ca9d78f5.txt",
    }
    code = project.build(folder)
    err = capsys.readouterr().err
    assert code == 1
    for name in bad:
        assert name in err, name
    assert "000_a9b2f913ca9d78f5.txt" in err  # the duplicate-id message names both files
    assert (project.site / "a" / "a9b2f913ca9d78f5" / "index.html").is_file()
    report = json.loads((project.root / "build-report.json").read_text())
    assert report["published"] == 1
    assert {p["file"] for p in report["problems"] if p["severity"] == "error"} == bad


def test_a_removed_version_leaves_a_tombstone_and_hand_written_pages_stay(
    project: Project, corpus
) -> None:
    files = {
        "000_a9b2f913ca9d78f5.txt": (DEFAULT_CORPUS / "000_a9b2f913ca9d78f5.txt").read_bytes(),
        "001_4d15c612d949296d.txt": (DEFAULT_CORPUS / "001_4d15c612d949296d.txt").read_bytes(),
    }
    folder = corpus(files)
    assert project.build(folder, "--no-site") == 0
    (folder / "001_4d15c612d949296d.txt").unlink()
    assert project.build(folder, "--no-site") == 0
    assert "Withdrawn" in (project.docs / "a" / f"{B}.md").read_text()
    assert (project.docs / "a" / f"{B}.source.txt").read_bytes() == files[
        "001_4d15c612d949296d.txt"
    ]
    assert (project.root / "withdrawn" / f"{B}.txt").read_bytes() == files[
        "001_4d15c612d949296d.txt"
    ]
    assert (project.docs / "a" / f"{A}.md").is_file()
    assert (project.docs / "index.md").is_file() and (project.docs / "about.md").is_file()
    assert not project.site.exists()  # --no-site writes only Markdown


def test_a_version_removed_after_a_build_of_the_folder_layout_keeps_its_bytes(
    project: Project, corpus
) -> None:
    """Builds before the flat layout of docs/ kept a version's bytes in a/<id>/source.txt;
    a version withdrawn after such a build still has them kept in withdrawn/."""
    files = {
        "000_a9b2f913ca9d78f5.txt": (DEFAULT_CORPUS / "000_a9b2f913ca9d78f5.txt").read_bytes(),
        "001_4d15c612d949296d.txt": (DEFAULT_CORPUS / "001_4d15c612d949296d.txt").read_bytes(),
    }
    folder = corpus(files)
    assert project.build(folder, "--no-site", "-q") == 0
    old = project.docs / "a" / B / "source.txt"
    old.parent.mkdir()
    (project.docs / "a" / f"{B}.source.txt").rename(old)
    (folder / "001_4d15c612d949296d.txt").unlink()
    assert project.build(folder, "--no-site", "-q") == 0
    kept = files["001_4d15c612d949296d.txt"]
    assert (project.root / "withdrawn" / f"{B}.txt").read_bytes() == kept
    assert (project.docs / "a" / f"{B}.source.txt").read_bytes() == kept


def test_stale_generated_files_are_removed_and_others_never_touched(
    project: Project, corpus
) -> None:
    folder = corpus({"000_a9b2f913ca9d78f5.txt": "Title\n\nSome article text here.\n"})
    assert project.build(folder, "--no-site", "-q") == 0
    # A page where builds before the flat layout of docs/ (corpus_site/paths.py) wrote it:
    # it would publish a second page at the version's address.
    stale = project.docs / "a" / A / "index.md"
    mine = project.docs / "notes.md"
    mine.write_text("# My notes\n")
    listing = project.docs / ".corpus" / "generated.json"
    listing.write_text(listing.read_text().replace('"a/', '"a/' + A + '/index.md",\n "a/', 1))
    stale.parent.mkdir()
    stale.write_text("left over")
    assert project.build(folder, "--no-site", "-q") == 0
    assert not stale.parent.exists()
    assert mine.read_text() == "# My notes\n"


def test_usage_errors_exit_2(project: Project, tmp_path: Path, capsys) -> None:
    assert project.build(tmp_path / "missing") == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert project.build(tmp_path / "empty") == 2
    assert "no .txt files" in capsys.readouterr().err


def test_strict_fails_on_a_warning_and_writes_nothing(project: Project, corpus) -> None:
    folder = corpus({"a.txt": b"Headline\n\nCosts \xa35 now, said the caf\xe9 owner today.\n"})
    assert project.build(folder, "--strict", "-q") == 1
    assert not (project.docs / "a").exists()
    # What the stopped build computed is committed to the cache, and no lock is left open
    # (one would hold the next build in this process for the cache's minute of timeout).
    from corpus_site.cache import ResultCache

    assert ResultCache(project.root / ".corpus-cache" / "results.sqlite").keys()
    assert project.build(folder, "-q") == 0


def test_raw_blocks_that_skip_markdown_render_as_markdown_would(
    default_site: Project, monkeypatch, tmp_path: Path
) -> None:
    """The plugin's short cut past Python-Markdown changes speed, never the pages."""
    import re

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    import corpus_site.mkdocs_plugin as plugin

    monkeypatch.setattr(plugin, "_RAW", re.compile(r"(?!x)x"))  # never matches: no short cut
    slow = tmp_path / "slow"
    build(
        load_config(
            str(default_site.root / "mkdocs.yml"),
            docs_dir=str(default_site.docs),
            site_dir=str(slow),
        )
    )

    def norm(text: str) -> str:
        text = re.sub(r"<!-- /?corpus:raw -->", "", text)
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", text))

    pages = sorted(default_site.site.rglob("*.html"))
    assert len(pages) > 8
    for page in pages:
        fast_html = page.read_text()
        assert "corpus:slot" not in fast_html
        assert norm(fast_html) == norm((slow / page.relative_to(default_site.site)).read_text()), (
            page
        )


def test_raw_blocks_are_found_as_their_definition_finds_them() -> None:
    """The plugin's line-at-a-time pattern takes out what the plain definition of a raw
    block (`^OPEN\\n(.*?)\\nCLOSE$`, lazy, over characters) takes out, marker for marker."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from corpus_site.mkdocs_plugin import _RAW

    definition = re.compile(
        r"^<!-- corpus:raw -->\n(.*?)\n<!-- /corpus:raw -->$", re.MULTILINE | re.DOTALL
    )
    pieces = st.sampled_from(["<!-- corpus:raw -->", "<!-- /corpus:raw -->", "\n", "x", " "])

    def taken(pattern: re.Pattern[str], text: str, trim: int) -> tuple[str, list[str]]:
        found: list[str] = []
        rest = pattern.sub(
            lambda m: found.append(m.group(1)[: len(m.group(1)) - trim]) or "@", text
        )
        return rest, found

    @settings(max_examples=3000, deadline=None)
    @given(st.lists(pieces, max_size=14).map("".join))
    def check(text: str) -> None:
        assert taken(_RAW, text, 1) == taken(definition, text, 0)

    check()
    # And one that holds: a block with an empty line, and a close marker inside a line.
    text = "a\n<!-- corpus:raw -->\n\nx <!-- /corpus:raw -->\n<!-- /corpus:raw -->\nb"
    assert taken(_RAW, text, 1) == ("a\n@\nb", ["\nx <!-- /corpus:raw -->"])
