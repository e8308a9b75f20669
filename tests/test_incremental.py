"""Worker processes and the result cache change how fast a build is, never what it writes."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import Project, make_project

from corpus_site.cache import ResultCache

# Enough articles that reading, comparing and rendering all go to worker processes
# (workers.MIN_PARALLEL is 64 items).
ARTICLES = 70
WORDS = [
    "minister",
    "council",
    "river",
    "harbour",
    "election",
    "budget",
    "court",
    "rail",
    "strike",
    "school",
    "hospital",
    "mayor",
    "farmers",
    "storm",
    "bridge",
    "museum",
    "airport",
    "police",
    "union",
    "market",
    "festival",
    "drought",
    "vaccine",
    "treaty",
    "border",
    "tariff",
    "senate",
    "coalition",
    "refinery",
    "pipeline",
    "reservoir",
    "orchestra",
]


def write_corpus(folder: Path, seed: int = 7) -> Path:
    """ARTICLES articles of two versions each: the second drops a paragraph and edits one."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for n in range(ARTICLES):
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 40))).capitalize() + "."
            for _ in range(6)
        ]
        title = f"Article {n} about the {rng.choice(WORDS)}"
        first = [title, "", *"\n\n".join(paragraphs).split("\n")]
        edited = [*paragraphs[:4], paragraphs[4].replace(" the ", " a ", 1) + " Updated.", ""]
        (folder / f"{2 * n:03d}_{n:08x}aaaaaaaa.txt").write_text("\n".join(first) + "\n")
        (folder / f"{2 * n + 1:03d}_{n:08x}bbbbbbbb.txt").write_text(
            "\n".join([title, "", *"\n\n".join(edited).split("\n")]) + "\n"
        )
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def cache_entries(project: Project) -> set[str]:
    return ResultCache(project.root / ".corpus-cache" / "results.sqlite").keys()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


def test_workers_write_the_same_docs_as_one_process(tmp_path: Path, corpus: Path) -> None:
    serial, parallel = make_project(tmp_path / "one"), make_project(tmp_path / "two")
    assert serial.build(corpus, "--no-site", "-q", "--jobs", "1") == 0
    assert parallel.build(corpus, "--no-site", "-q", "--jobs", "2") == 0
    one, two = snapshot(serial.docs), snapshot(parallel.docs)
    assert len([p for p in one if p.endswith("/index.md") and p.startswith("a/")]) == 2 * ARTICLES
    assert one == two


def test_a_cached_rebuild_after_one_edit_equals_a_fresh_build(tmp_path: Path, corpus: Path) -> None:
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    before_docs, before_cache = snapshot(project.docs), cache_entries(project)
    # One more sentence in one version: its text changes, not its ID.
    edited = corpus / "011_00000005bbbbbbbb.txt"
    edited.write_text(edited.read_text() + "\nA late correction was added.\n")
    assert project.build(corpus, "--no-site", "-q", "--accept-changed", "00000005bbbbbbbb") == 0
    after_docs, after_cache = snapshot(project.docs), cache_entries(project)

    fresh = make_project(tmp_path / "fresh")
    shutil.copy(project.root / "permalinks.json", fresh.root / "permalinks.json")
    assert fresh.build(corpus, "--no-site", "-q", "--accept-changed", "00000005bbbbbbbb") == 0
    assert after_docs == snapshot(fresh.docs)

    # Only the edited version, its sibling and the corpus-wide lists changed.
    rewritten = {p for p in after_docs if before_docs.get(p) != after_docs[p]}
    pages = {p.split("/")[1] for p in rewritten if p.startswith(("a/", "g/"))}
    assert {"00000005bbbbbbbb", "00000005aaaaaaaa"} <= pages
    assert len(pages) <= 3  # the two versions and their group page
    hubs = ("data/", "versions/", "dates/", "outlets/", "groups/", ".corpus/")
    assert all(p.startswith(("a/", "g/", *hubs)) for p in rewritten), rewritten
    # The cache answered for everything else: new entries only for the edited file, its
    # group's comparison and the two pages of that group.
    new = after_cache - before_cache
    assert 1 <= len(new) <= 4, new
    assert len(after_cache) == len(before_cache)  # entries nobody used any more are gone


def test_a_damaged_cache_entry_is_computed_again(tmp_path: Path, corpus: Path) -> None:
    project = make_project(tmp_path / "project")
    assert project.build(corpus, "--no-site", "-q") == 0
    before = snapshot(project.docs)
    database = project.root / ".corpus-cache" / "results.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE results SET value = ?", (b"not a cache entry",))
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before
    database.write_bytes(b"not a database")
    assert project.build(corpus, "--no-site", "-q") == 0
    assert snapshot(project.docs) == before
