"""Pages and the search index kept from the last site (corpus_site/lastsite.py,
search.IndexReuse): a build that keeps some is byte for byte the site a build that renders
and indexes every page makes, whatever changed."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from conftest import BROWSER_CORPUS, Project, make_project, many_pages_project, tree

from corpus_site.lastsite import MANIFEST
from corpus_site.output import SiteReport, build_site


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Worker processes keep pages as well as the parent."""
    return many_pages_project(tmp_path_factory.mktemp("lastsite"))


@pytest.fixture
def project(built_docs: Project, tmp_path: Path) -> Project:
    """A copy of the project to change."""
    root = tmp_path / "project"
    shutil.copytree(built_docs.root, root, symlinks=True)
    return Project(root)


def site(project: Project, render_all: bool = False, into: Path | None = None) -> SiteReport:
    """The MkDocs build of the project's docs/ (no search index), keeping pages unless
    render_all."""
    return build_site(
        project.root / "mkdocs.yml",
        project.docs,
        into or project.site,
        search=False,
        workers=2,
        cache_dir=project.root / ".corpus-cache",
        render_all=render_all,
    )


def generated_pages(project: Project) -> list[str]:
    listing = json.loads((project.docs / ".corpus" / "generated.json").read_text())
    return [p for p in listing if p.endswith(".md") and not p.startswith(".corpus/")]


def assert_same_as_full_render(project: Project, tmp_path: Path) -> None:
    """The project's site is the one a build rendering every page makes."""
    full = site(project, render_all=True, into=tmp_path / "full")
    assert full.pages_kept == 0
    assert tree(project.site) == tree(tmp_path / "full")


def a_version_page(project: Project, n: int = 0) -> tuple[Path, str]:
    """The Markdown of a generated version page, and its HTML's path in the site."""
    page = sorted((project.docs / "a").glob("*.md"))[n]
    return page, f"a/{page.stem}/index.html"


def test_an_unchanged_rebuild_keeps_every_generated_page(project: Project, tmp_path: Path) -> None:
    first = site(project)
    assert first.pages_kept == 0  # no last site yet
    pages = generated_pages(project)
    assert len(pages) > 200
    again = site(project)
    assert again.pages_kept == len(pages)
    _, html = a_version_page(project)
    assert (project.site / html).stat().st_nlink >= 1
    assert_same_as_full_render(project, tmp_path)


def test_a_changed_page_is_rendered_again_and_the_others_kept(
    project: Project, tmp_path: Path
) -> None:
    site(project)
    page, html = a_version_page(project, 3)
    before = (project.site / html).read_bytes()
    page.write_text(page.read_text() + "\nA correction was appended to this version.\n")
    report = site(project)
    assert report.pages_kept == len(generated_pages(project)) - 1
    after = (project.site / html).read_bytes()
    assert after != before and b"A correction was appended" in after
    assert_same_as_full_render(project, tmp_path)


@pytest.mark.parametrize(
    "change",
    ["site name", "theme override", "navigation title", "markdown extension", "plugin"],
)
def test_a_change_every_page_shows_renders_every_page(
    project: Project, tmp_path: Path, change: str
) -> None:
    site(project)
    config = project.root / "mkdocs.yml"
    text = config.read_text()
    if change == "site name":
        config.write_text(text.replace("site_name: ", "site_name: Renamed ", 1))
    elif change == "theme override":
        main = project.root / "overrides" / "main.html"
        main.write_text(main.read_text() + "\n{#- a comment: the same HTML, a new theme -#}\n")
    elif change == "navigation title":
        assert "  - About and citing: about.md" in text
        config.write_text(text.replace("About and citing: about.md", "About: about.md"))
    elif change == "markdown extension":
        # Snippets inserts other files into a page: nothing can be kept beside it.
        config.write_text(
            text.replace("markdown_extensions:\n", "markdown_extensions:\n  - pymdownx.snippets\n")
        )
    else:
        config.write_text(text.replace("  - corpus\n", "  - corpus\n  - tags\n"))
    report = site(project)
    assert report.pages_kept == 0
    if change in ("markdown extension", "plugin"):
        assert not (project.root / ".corpus-cache" / MANIFEST).exists()
    assert_same_as_full_render(project, tmp_path)


def test_a_new_title_of_a_page_in_the_navigation_renders_every_page(
    project: Project, tmp_path: Path
) -> None:
    """A navigation entry without a title shows its page's heading, on every page."""
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text().replace("About and citing: about.md", "about.md"))
    site(project)
    about = project.docs / "about.md"
    about.write_text(about.read_text().replace("# About this corpus", "# All about this corpus", 1))
    report = site(project)
    assert report.pages_kept == 0
    _, html = a_version_page(project)
    assert b"All about this corpus" in (project.site / html).read_bytes()
    assert_same_as_full_render(project, tmp_path)


def test_a_page_whose_link_finds_another_file_is_rendered_again(
    project: Project, tmp_path: Path
) -> None:
    """A generated page links to a hand-written page that is then renamed: its own
    Markdown is the same, what its link finds is not."""
    extra = project.docs / "extra.md"
    extra.write_text("# Extra\n\nA hand-written page.\n")
    page, html = a_version_page(project, 5)
    page.write_text(page.read_text() + "\nSee [the extra page](../extra.md).\n")
    first = site(project)
    assert not first.warnings
    assert b'href="../../extra/"' in (project.site / html).read_bytes()
    extra.rename(project.docs / "extra-renamed.md")
    report = site(project)
    assert report.pages_kept == len(generated_pages(project)) - 1
    assert any("extra.md" in warning for warning in report.warnings), report.warnings
    assert b'href="../extra.md"' in (project.site / html).read_bytes()
    assert_same_as_full_render(project, tmp_path)


def test_a_page_that_includes_a_corpus_listing_is_rendered_again(
    project: Project, tmp_path: Path
) -> None:
    """The listing the corpus plugin inserts is another file: such a page is not kept."""
    page, html = a_version_page(project, 4)
    page.write_text(page.read_text() + "\n<!-- corpus:include home -->\n")
    site(project)
    listing = project.docs / ".corpus" / "home.md"
    listing.write_text(listing.read_text() + "\nA line added to the listing.\n")
    report = site(project)
    assert report.pages_kept == len(generated_pages(project)) - 1
    assert b"A line added to the listing." in (project.site / html).read_bytes()
    assert_same_as_full_render(project, tmp_path)


def test_a_page_that_warned_is_rendered_again_and_warns_again(project: Project) -> None:
    page, _ = a_version_page(project, 7)
    page.write_text(page.read_text() + "\n[gone](../nowhere.md)\n")
    for _ in range(2):
        report = site(project)
        assert any("nowhere.md" in warning for warning in report.warnings), report.warnings
    assert report.pages_kept == len(generated_pages(project)) - 1


def test_pages_are_kept_when_mkdocs_logs_its_debug_lines(project: Project) -> None:
    """MkDocs logs a debug line for every page it renders: that is not a page that logged."""
    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        site(project)
        assert site(project).pages_kept == len(generated_pages(project))
    finally:
        logger.setLevel(level)


def test_a_page_changed_in_the_site_is_rendered_again(project: Project, tmp_path: Path) -> None:
    """Only the file the last build wrote is kept: one edited in place since is not."""
    site(project)
    _, html = a_version_page(project, 2)
    built = project.site / html
    original = built.read_bytes()
    with open(built, "ab") as out:
        out.write(b"<!-- edited by hand -->")
    report = site(project)
    assert report.pages_kept == len(generated_pages(project)) - 1
    assert built.read_bytes() == original
    assert_same_as_full_render(project, tmp_path)


def test_a_manifest_of_another_site_folder_keeps_nothing(project: Project, tmp_path: Path) -> None:
    site(project)
    report = site(project, into=tmp_path / "elsewhere")
    assert report.pages_kept == 0


def test_the_command_keeps_pages_and_renders_all_when_asked(project: Project) -> None:
    """build_corpus.py says how many pages it kept; --render-all keeps none."""
    corpus = project.root.parent / "corpus"
    shutil.copytree(BROWSER_CORPUS, corpus)
    assert project.build(corpus, "-q") == 0
    assert project.build(corpus, "-q") == 0
    report = json.loads((project.root / "build-report.json").read_text())
    assert report["site_pages_kept"] == len(generated_pages(project))
    assert project.build(corpus, "-q", "--render-all") == 0
    report = json.loads((project.root / "build-report.json").read_text())
    assert report["site_pages_kept"] == 0
    # The pages rendered again are new files, not the last site's.
    _, html = a_version_page(project)
    assert os.stat(project.site / html).st_nlink == 1


@pytest.fixture
def small(tmp_path: Path) -> tuple[Project, Path]:
    """A project and a corpus of the fixture's files, built once, with its search index."""
    project = make_project(tmp_path / "project")
    corpus = tmp_path / "corpus"
    shutil.copytree(BROWSER_CORPUS, corpus)
    assert project.build(corpus, "-q") == 0
    return project, corpus


def index_kept(project: Project) -> bool:
    report = json.loads((project.root / "build-report.json").read_text())
    return bool(report["search_index_kept"])


def assert_index_of_full_build(project: Project, corpus: Path) -> None:
    """The site's search index is the one a build that indexes again makes."""
    kept = tree(project.site / "pagefind")
    assert project.build(corpus, "-q", "--render-all") == 0
    assert not index_kept(project)
    assert tree(project.site / "pagefind") == kept


def test_a_rebuild_that_changes_no_indexed_text_keeps_the_search_index(
    small: tuple[Project, Path],
) -> None:
    project, corpus = small
    assert not index_kept(project)  # the first build: no last index
    assert project.build(corpus, "-q") == 0
    assert index_kept(project)
    # A new site name changes every page, but not what Pagefind is given.
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text().replace("site_name: ", "site_name: Renamed ", 1))
    assert project.build(corpus, "-q") == 0
    assert index_kept(project)
    assert b"Renamed" in (project.site / "index.html").read_bytes()
    assert_index_of_full_build(project, corpus)


def test_a_new_text_indexes_again(small: tuple[Project, Path]) -> None:
    project, corpus = small
    (corpus / "zz_new.txt").write_text(
        "A new story\n\nThe word quetzalcoatlus is in no other version of the corpus.\n"
    )
    assert project.build(corpus, "-q") == 0
    assert not index_kept(project)
    assert_index_of_full_build(project, corpus)


def test_an_index_changed_in_the_site_is_made_again(small: tuple[Project, Path]) -> None:
    project, corpus = small
    entry = project.site / "pagefind" / "pagefind-entry.json"
    with open(entry, "ab") as out:
        out.write(b" ")
    assert project.build(corpus, "-q") == 0
    assert not index_kept(project)
    assert_index_of_full_build(project, corpus)
