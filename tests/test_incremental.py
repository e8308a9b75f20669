"""Worker processes and the result cache change how fast a build is, never what it writes."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Project, make_project, write_synthetic_corpus
from conftest import tree as snapshot

from corpus_site.cache import ResultCache

# Enough versions that reading, comparing and rendering all go to worker processes
# (workers.MIN_PARALLEL is 64 items).
ARTICLES = 70  # 210 versions in 70 groups


def cache_entries(project: Project) -> set[str]:
    return ResultCache(project.root / ".corpus-cache" / "results.sqlite").keys()


def damage_cache(project: Project) -> Path:
    """Overwrite every entry of the project's result cache with bytes that are none."""
    database = project.root / ".corpus-cache" / "results.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE results SET value = ?", (b"not a cache entry",))
    return database


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return tmp_path / "corpus"


@pytest.fixture
def ids(corpus: Path) -> list[str]:
    return write_synthetic_corpus(corpus, ARTICLES)


def test_workers_write_the_same_docs_as_one_process(
    tmp_path: Path, corpus: Path, ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import corpus_site.build as build_module
    from corpus_site.render import CorpusParts

    # Where the hubs and exports were made: a call in this process is recorded; one in the
    # Background child is not, and this process then adopts the child's parts.
    made_here: list[str] = []
    real_files, real_adopt = build_module.corpus_files, CorpusParts.adopt
    monkeypatch.setattr(
        build_module,
        "corpus_files",
        lambda *a: made_here.append(f"files {os.getpid()}") or real_files(*a),
    )
    monkeypatch.setattr(
        CorpusParts, "adopt", lambda *a: made_here.append("adopted") or real_adopt(*a)
    )
    serial, parallel = make_project(tmp_path / "one"), make_project(tmp_path / "two")
    assert serial.build(corpus, "--no-site", "-q", "--jobs", "1") == 0
    assert made_here == [f"files {os.getpid()}"]  # made here
    made_here.clear()
    assert parallel.build(corpus, "--no-site", "-q", "--jobs", "2") == 0
    assert made_here == ["adopted"]  # made on the other core, not here after a failed child
    one, two = snapshot(serial.docs), snapshot(parallel.docs)
    assert (
        len([p for p in one if p.endswith(".md") and p.startswith("a/")])
        == len(ids)
        == 3 * ARTICLES
    )
    assert one == two


def test_a_cached_rebuild_after_one_edit_equals_a_fresh_build(
    tmp_path: Path, corpus: Path, ids: list[str]
) -> None:
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    before_docs, before_cache = snapshot(project.docs), cache_entries(project)
    # One more sentence in one version: its text changes, not its ID.
    first, vid, third = ids[15:18]  # the three versions of one article
    [edited] = corpus.glob(f"*_{vid}.txt")
    edited.write_text(edited.read_text() + "\nA late correction was added.\n")
    assert project.build(corpus, "--no-site", "-q", "--accept-changed", vid) == 0
    after_docs, after_cache = snapshot(project.docs), cache_entries(project)

    fresh = make_project(tmp_path / "fresh")
    shutil.copy(project.root / "permalinks.json", fresh.root / "permalinks.json")
    assert fresh.build(corpus, "--no-site", "-q", "--accept-changed", vid) == 0
    assert after_docs == snapshot(fresh.docs)

    # Only the edited version, its sibling and the corpus-wide lists changed.
    rewritten = {p for p in after_docs if before_docs.get(p) != after_docs[p]}
    pages = {p.split("/")[1].split(".")[0] for p in rewritten if p.startswith(("a/", "g/"))}
    assert vid in pages
    assert pages <= {first, vid, third}  # the article's versions and its group page
    hubs = ("data/", "versions/", "dates/", "outlets/", "groups/", ".corpus/")
    assert all(p.startswith(("a/", "g/", *hubs)) for p in rewritten), rewritten
    # The cache answered for everything else: new entries only for the edited file, its
    # group's comparison and the three pages of that group.
    new = after_cache - before_cache
    assert 1 <= len(new) <= 5, new
    assert len(after_cache) == len(before_cache)  # entries nobody used any more are gone


def test_a_damaged_cache_entry_is_computed_again(
    tmp_path: Path, corpus: Path, ids: list[str]
) -> None:
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    before = snapshot(project.docs)
    database = damage_cache(project)
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before
    database.write_bytes(b"not a database")
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before


def test_damaged_comparisons_are_made_again_by_the_workers_that_render_their_pages(
    tmp_path: Path, corpus: Path, ids: list[str]
) -> None:
    """Every version page gone and every cache entry damaged: the workers that render the
    pages find their groups' comparisons unreadable, compare again, and the parent stores
    what they made."""
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    before = snapshot(project.docs)
    database = damage_cache(project)
    shutil.rmtree(project.docs / "a")
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before
    cache = ResultCache(database)
    stored = cache.get_many(sorted(cache.keys()))
    comparisons = [v for v in stored.values() if type(v).__name__ == "GroupComparison"]
    assert len(comparisons) == ARTICLES  # every group of three, stored again, readable


def test_a_pages_files_deleted_are_made_again_and_the_others_are_compared_not_rewritten(
    tmp_path: Path, corpus: Path, ids: list[str]
) -> None:
    """A missing file is written at once (output.write_new); one already there is compared
    with what the build makes, also when the write record is lost."""
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    before = snapshot(project.docs)
    gone, kept = ids[10], ids[40]
    kept_file = project.docs / "a" / f"{kept}.md"
    kept_inode = kept_file.stat().st_ino
    removed = sorted((project.docs / "a").glob(f"{gone}.*"))
    assert len(removed) == 4
    for path in removed:
        path.unlink()
    (project.root / ".corpus-cache" / "written.marshal").unlink()
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before
    assert kept_file.stat().st_ino == kept_inode  # a rewrite replaces the file


def test_a_page_left_half_written_by_a_killed_build_is_written_whole_again(
    tmp_path: Path, corpus: Path, ids: list[str]
) -> None:
    """A new file is written under its own name (output.write_new); a build killed in the
    middle leaves it short and unrecorded, and the next build replaces it."""
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    before = snapshot(project.docs)
    page = project.docs / "a" / f"{ids[3]}.md"
    page.write_bytes(before[f"a/{ids[3]}.md"][:100])
    (project.root / ".corpus-cache" / "written.marshal").unlink()  # killed before saving it
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before


def test_write_new_makes_only_files_that_are_not_there(tmp_path: Path) -> None:
    from corpus_site.output import write_new

    target = tmp_path / "new" / "folder" / "page.md"
    found = write_new(target, b"first")
    assert found is not None and found.st_size == 5 and target.read_bytes() == b"first"
    linked = tmp_path / "linked.md"
    linked.hardlink_to(target)
    assert write_new(target, b"second") is None  # there already: nothing written
    assert target.read_bytes() == b"first" and linked.read_bytes() == b"first"


def test_a_new_result_cache_uses_pages_of_16_kib(
    tmp_path: Path, corpus: Path, ids: list[str]
) -> None:
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    database = project.root / ".corpus-cache" / "results.sqlite"
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA page_size").fetchone() == (16384,)
        assert connection.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # incremental


@pytest.mark.parametrize("background", [False, True])
def test_a_generated_file_edited_or_deleted_by_hand_is_written_again(
    tmp_path: Path,
    corpus: Path,
    ids: list[str],
    background: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The record of what was written spares reading unchanged files, never trusted blindly:
    checked here, or (background) by a child process, as in a large corpus."""
    import corpus_site.output as output

    monkeypatch.setattr(output, "_BACKGROUND_MIN", 0 if background else 10**9)
    answers: list[set[str] | None] = []  # what the child process found, per build
    settle = output.WriteRecord._settle

    def settled(record: output.WriteRecord) -> None:
        settle(record)
        answers.append(set(record._stale) if record._stale is not None else None)

    monkeypatch.setattr(output.WriteRecord, "_settle", settled)
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    before = snapshot(project.docs)
    page = project.docs / "a" / f"{ids[0]}.md"
    page.write_text(page.read_text().replace("<h1", "<h1 data-edited", 1))
    (project.docs / "a" / f"{ids[1]}.version.json").unlink()
    (project.docs / "g" / f"{ids[0]}.md").write_bytes(b"edited by hand")
    answers.clear()
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before
    if background:  # the child found the three files, and nothing else
        assert answers == [{f"a/{ids[0]}.md", f"a/{ids[1]}.version.json", f"g/{ids[0]}.md"}]
    else:
        assert answers == []
    # Without the record (the cache deleted), every file is compared with its bytes again.
    shutil.rmtree(project.root / ".corpus-cache")
    (project.docs / "data" / "groups.json").write_text("{}")
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before


def test_an_unchanged_rebuild_renders_and_writes_no_page(
    tmp_path: Path, corpus: Path, ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    import corpus_site.build as build_module

    rendered: list[str] = []
    real = build_module.version_files
    monkeypatch.setattr(
        build_module, "version_files", lambda v, *rest: rendered.append(v.id) or real(v, *rest)
    )
    assert project.build(corpus, "--no-site", "-q", "--jobs", "1") == 0
    assert rendered == []


def _add_copy(corpus: Path, ids: list[str]) -> str:
    """A new file: another edition of the article of ids[30], with a paragraph more."""
    [source] = corpus.glob(f"*_{ids[30]}.txt")
    (corpus / "99990_00000000feedbeef.txt").write_text(
        source.read_text() + "\nA new edition adds this closing paragraph.\n"
    )
    return "added"


def _delete(corpus: Path, ids: list[str]) -> str:
    """A version's file and its sidecar deleted: its URL becomes a tombstone."""
    for path in corpus.glob(f"*_{ids[40]}.*"):
        path.unlink()
    return "deleted"


def _rename(corpus: Path, ids: list[str]) -> str:
    """A file renamed under the same ID: it moves in corpus order."""
    for path in corpus.glob(f"*_{ids[50]}.*"):
        path.rename(corpus / f"99991_{ids[50]}{path.suffix}")
    return "renamed"


def _touch(corpus: Path, ids: list[str]) -> str:
    """A file written again with the same bytes: its stamp changes, nothing else."""
    [path] = corpus.glob(f"*_{ids[60]}.txt")
    path.write_bytes(path.read_bytes())
    return "touched"


def _sidecar(corpus: Path, ids: list[str]) -> str:
    """A sidecar's outlet changed: the metadata of one version, not its text."""
    [path] = corpus.glob(f"*_{ids[70]}.yml")
    path.write_text(path.read_text().replace("outlet:", "outlet: Renamed", 1))
    return "sidecar"


def _sidecar_removed(corpus: Path, ids: list[str]) -> str:
    """A file's sidecar deleted: its metadata falls back to the file's own."""
    [path] = corpus.glob(f"*_{ids[71]}.yml")
    path.unlink()
    return "sidecar removed"


def _split(corpus: Path, ids: list[str]) -> str:
    """A version rewritten into another article: it leaves its group for a group of one."""
    [path] = corpus.glob(f"*_{ids[80]}.txt")
    path.write_text("A different story\n\nNothing of this text was in the corpus before.\n")
    return "split"


def _unreadable(corpus: Path, ids: list[str]) -> str:
    """A file that is not text: reported, and the others still publish."""
    (corpus / "99992_00000000deadbeef.txt").write_bytes(b"\x00\xff\xfe binary \x00" * 50)
    return "unreadable"


@pytest.mark.parametrize(
    "change",
    [
        _add_copy,
        _delete,
        _rename,
        _touch,
        _sidecar,
        _sidecar_removed,
        _split,
        _unreadable,
    ],
)
def test_a_rebuild_from_the_build_state_equals_a_fresh_build(
    tmp_path: Path, corpus: Path, ids: list[str], change: Callable[[Path, list[str]], str]
) -> None:
    """The build state (state.py) lets a rebuild skip reading, grouping and keying what did
    not change; whatever changed, it writes what a build without it writes."""
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    assert (project.root / ".corpus-cache" / "state.pickle").is_file()
    change(corpus, ids)
    accept = ("--accept-changed", ids[80]) if change is _split else ()
    code = project.build(corpus, "--no-site", "-q", *accept)

    fresh = make_project(tmp_path / "fresh")
    shutil.copy(project.root / "permalinks.json", fresh.root / "permalinks.json")
    if (project.root / "withdrawn").is_dir():
        shutil.copytree(project.root / "withdrawn", fresh.root / "withdrawn")
    assert fresh.build(corpus, "--no-site", "-q", *accept) == code
    assert snapshot(project.docs) == snapshot(fresh.docs)
    # The rebuild did not start from nothing: an unchanged rebuild after it writes nothing.
    before = snapshot(project.docs)
    assert project.build(corpus, "--no-site", "-q", *accept) == code
    assert snapshot(project.docs) == before


def test_a_sidecar_written_beside_a_file_that_had_none_is_read_by_the_rebuild(
    tmp_path: Path, corpus: Path, ids: list[str]
) -> None:
    """The build looks for a sidecar only where the listing of the corpus finds one
    (sources.list_corpus): one written after a build is found by the next."""
    [sidecar] = corpus.glob(f"*_{ids[72]}.yml")
    text = sidecar.read_text()
    sidecar.unlink()
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    page = project.docs / "a" / f"{ids[72]}.version.json"
    assert "Added Outlet" not in page.read_text()
    sidecar.write_text(text.replace("outlet: ", "outlet: Added Outlet ", 1))
    assert project.build(corpus, "--no-site", "-q") == 0
    assert "Added Outlet" in page.read_text()
    fresh = make_project(tmp_path / "fresh")
    shutil.copy(project.root / "permalinks.json", fresh.root / "permalinks.json")
    assert fresh.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == snapshot(fresh.docs)


def test_the_build_state_is_saved_in_segments_and_a_lost_one_costs_only_time(
    tmp_path: Path, corpus: Path, ids: list[str]
) -> None:
    """A one-file change rewrites a few segments of the state, not all of it; a segment
    deleted or damaged makes the next build start from the corpus, and write the same."""
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    segments = project.root / ".corpus-cache" / "state-segments"
    before = {p.name for p in segments.iterdir()}
    [edited] = corpus.glob(f"*_{ids[16]}.txt")
    edited.write_text(edited.read_text() + "\nA late correction was added.\n")
    assert project.build(corpus, "--no-site", "-q", "--accept-changed", ids[16]) == 0
    after = {p.name for p in segments.iterdir()}
    written = after - before
    assert written and len(written) < len(after) / 4, (len(written), len(after))
    assert len(after) == len(before)  # the replaced segments were removed
    docs = snapshot(project.docs)

    for damage in ("delete", "garble"):
        victim = segments / sorted(p for p in after if p.startswith("files."))[0]
        if damage == "delete":
            victim.unlink()
        else:
            victim.write_bytes(b"not a pickle")
        (project.docs / "a" / f"{ids[0]}.md").unlink()
        assert project.build(corpus, "--no-site", "-q") == 0
        assert snapshot(project.docs) == docs
        # Started from the corpus: the state was saved anew, every segment of it.
        renewed = {p.name for p in segments.iterdir()}
        assert not renewed & after and victim.name not in renewed
        after = renewed
