"""The MkDocs build on every core (corpus_site/sitebuild.py) makes MkDocs' own site."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from conftest import BROWSER_CORPUS, Project, make_project, many_pages_project, tree

from corpus_site import sitebuild
from corpus_site.output import write_atomic


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The docs/ of 210 made-up versions and the fixture corpus."""
    return many_pages_project(tmp_path_factory.mktemp("sitebuild"))


def build_with(project: Project, site: Path, how: str, progress=None) -> list[str]:  # type: ignore[no-untyped-def]
    """Build the project's docs/ into `site` with MkDocs' build or sitebuild; warnings."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(
        config_file=str(project.root / "mkdocs.yml"),
        docs_dir=str(project.docs),
        site_dir=str(site),
    )
    seen: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.setLevel(logging.WARNING)  # a quiet build (-q) in this process raised it
    logger.addHandler(handler)
    try:
        if how == "mkdocs":
            build(config)
        else:
            sitebuild.build(config, workers=int(how), progress=progress)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return seen


def test_the_site_built_on_two_processes_is_mkdocs_own(docs: Project, tmp_path: Path) -> None:
    pages = len(list(docs.docs.rglob("*.md")))
    assert pages > sitebuild.MIN_PARALLEL_PAGES, pages
    warned = build_with(docs, tmp_path / "mkdocs", "mkdocs")
    assert build_with(docs, tmp_path / "two", "2") == warned
    assert build_with(docs, tmp_path / "one", "1") == warned
    theirs = tree(tmp_path / "mkdocs")
    assert tree(tmp_path / "two") == theirs
    assert tree(tmp_path / "one") == theirs
    assert sum(1 for name in theirs if name.endswith("index.html")) > pages - 5


def test_generated_files_are_linked_and_the_site_keeps_the_bytes_it_was_built_with(
    docs: Project, tmp_path: Path
) -> None:
    """The corpus stage's files are hard-linked into the site, hand-written ones copied; a
    file the corpus stage writes again leaves the built site as it was."""
    site = tmp_path / "two"
    build_with(docs, site, "2")
    record = sorted((docs.docs / "a").glob("*.version.json"))[0]
    vid = record.name.split(".")[0]
    built = site / "a" / vid / "version.json"
    assert os.path.samefile(record, built)
    assert os.path.samefile(record.with_name(f"{vid}.source.txt"), built.with_name("source.txt"))
    written = [p for p in (docs.docs / "stylesheets").glob("*.css")]
    assert written, "the project has a hand-written stylesheet"
    assert not os.path.samefile(written[0], site / written[0].relative_to(docs.docs))
    before = record.read_bytes()
    write_atomic(record, before + b"\n")  # as the corpus stage writes every file
    try:
        assert built.read_bytes() == before
    finally:
        write_atomic(record, before)


def test_a_warning_in_a_worker_reaches_the_parent(docs: Project, tmp_path: Path) -> None:
    """A page read by a worker that links to a missing page: MkDocs' warning is logged."""
    page = sorted((docs.docs / "a").glob("*.md"))[-1]
    original = page.read_text()
    page.write_text(original + "\n[gone](../../nowhere.md)\n")
    try:
        warned = build_with(docs, tmp_path / "two", "2")
    finally:
        page.write_text(original)
    assert any("nowhere.md" in message for message in warned), warned


def test_a_page_that_cannot_be_read_fails_the_build_whoever_reads_it(
    docs: Project, tmp_path: Path
) -> None:
    from mkdocs.config import load_config

    page = sorted((docs.docs / "a").glob("*.md"))[-1]
    original = page.read_bytes()
    page.write_bytes(b"\xff\xfe not UTF-8 \x80")
    try:
        config = load_config(
            config_file=str(docs.root / "mkdocs.yml"),
            docs_dir=str(docs.docs),
            site_dir=str(tmp_path / "site"),
        )
        with pytest.raises(Exception, match=r"building pages failed|Error reading page"):
            sitebuild.build(config, workers=2)
    finally:
        page.write_bytes(original)


def test_progress_counts_every_page_read_and_rendered_by_every_process(
    docs: Project, tmp_path: Path
) -> None:
    """The bar of the MkDocs stage: the workers' steps reach the parent; the site is the
    same with it."""
    seen: list[tuple[str, int, int]] = []

    def progress(steps, total, what):  # type: ignore[no-untyped-def]
        count = 0
        for step in steps:
            count += 1
            yield step
        seen.append((what, count, total))

    build_with(docs, tmp_path / "mkdocs", "mkdocs")
    build_with(docs, tmp_path / "two", "2", progress)
    [(what, count, total)] = seen
    pages = len(list(docs.docs.rglob("*.md")))
    assert "MkDocs" in what
    assert count == total and pages < total <= 2 * pages
    assert tree(tmp_path / "two") == tree(tmp_path / "mkdocs")


def test_the_search_plugin_scans_only_pages_with_attributes_it_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Material's search plugin removes data-search-*="..." attributes from each page. The
    corpus plugin hides a page's content from it when there are none (version pages carry
    bare ones), and puts it back: the page is the same; a page that has one is left to it."""
    from material.plugins.search.plugin import SearchPlugin

    project = make_project(tmp_path / "project")
    about = project.root / "docs" / "about.md"
    about.write_text(about.read_text() + '\n<p data-search-exclude="yes">Kept out.</p>\n')
    seen: dict[str, int] = {}
    real = SearchPlugin.on_page_context

    def watched(self, context, *, page, config, nav):  # type: ignore[no-untyped-def]
        seen[page.file.src_uri] = len(page.content)
        return real(self, context, page=page, config=config, nav=nav)

    monkeypatch.setattr(SearchPlugin, "on_page_context", watched)
    assert project.build(BROWSER_CORPUS, "-q", "--jobs", "1") == 0
    versions = [uri for uri in seen if uri.startswith("a/")]
    assert versions and all(seen[uri] == 0 for uri in versions)  # set aside
    assert seen["about.md"] > 0  # left to the search plugin, which removes the attribute
    about_html = (project.site / "about" / "index.html").read_text()
    assert "Kept out." in about_html and 'data-search-exclude="yes"' not in about_html
    for page in (project.site / "a").glob("*/index.html"):  # put back, whole
        html = page.read_text()
        assert 'class="corpus-text"' in html and "data-search-exclude" in html
