"""Shared fixtures: a copy of the project in a temporary folder, and real builds in it."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from corpus_site.cli import main
from corpus_site.diffing import fold
from corpus_site.models import Metadata, Paragraph, Source, Version

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "corpus"
# The browser tests' fixture corpus (its files: tests/browser/conftest.py).
BROWSER_CORPUS = ROOT / "tests" / "fixtures" / "browser_corpus" / "corpus"
HAND_WRITTEN = ("index.md", "about.md", "stylesheets", "javascripts")


@dataclass(frozen=True)
class Project:
    """A throwaway copy of the project: mkdocs.yml, hand-written docs, theme overrides."""

    root: Path

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def site(self) -> Path:
        return self.root / "site"

    def build(self, corpus: Path, *args: str) -> int:
        """Run the real command line against this project; return the exit code."""
        return main(
            [
                "--corpus",
                str(corpus),
                "--config",
                str(self.root / "mkdocs.yml"),
                "--docs",
                str(self.docs),
                "--site",
                str(self.site),
                *args,
            ]
        )


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by its path there."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def make_project(where: Path) -> Project:
    """Copy what a build needs (not the generated pages) into a fresh folder."""
    where.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", where / "mkdocs.yml")
    shutil.copytree(ROOT / "overrides", where / "overrides")
    (where / "docs").mkdir()
    for name in HAND_WRITTEN:
        source = ROOT / "docs" / name
        if source.is_dir():
            shutil.copytree(source, where / "docs" / name)
        else:
            shutil.copy(source, where / "docs" / name)
    return Project(where)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fresh project copy for one test."""
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def default_site(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The default corpus, built once with the real MkDocs for every test that reads it."""
    built = make_project(tmp_path_factory.mktemp("default") / "project")
    code = built.build(DEFAULT_CORPUS, "-q")
    assert code == 0
    return built


# Made-up articles for tests at scale: words that appear in no fixture corpus, so a
# fixture's own search words still find only the fixture's versions.
SYNTHETIC_WORDS = [
    "the",
    "the",
    "the",
    "of",
    "of",
    "and",
    "and",
    "to",
    "in",
    "a",
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
    "said",
    "would",
    "could",
    "after",
    "before",
    "during",
    "against",
    "between",
    "report",
    "officials",
    "residents",
    "plans",
    "funding",
    "vote",
    "inquiry",
    "evidence",
    "witnesses",
    "contract",
    "workers",
    "prices",
    "shares",
    "profits",
    "losses",
    "season",
    "league",
    "final",
    "coach",
    "players",
    "fans",
    "stadium",
]
SYNTHETIC_OUTLETS = ("Daily Ledger", "Evening Courier", "Northern Post", "Harbour Times")


def many_pages_project(where: Path) -> Project:
    """A project whose docs/ the corpus stage made from the browser fixture corpus and 70
    made-up articles: more pages outside the navigation than corpus_site/sitebuild.py
    gives to worker processes."""
    project = make_project(where / "project")
    corpus = where / "corpus"
    shutil.copytree(BROWSER_CORPUS, corpus)
    write_synthetic_corpus(corpus / "synthetic", 70)
    assert project.build(corpus, "-q", "--no-site") == 0
    return project


def write_synthetic_corpus(folder: Path, articles: int, seed: int = 7) -> list[str]:
    """Write `articles` made-up articles, three versions each (the second drops a
    paragraph and corrects a word, the third adds a paragraph and curly quotes), with
    outlet and date sidecars, into folder; return the version IDs."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def sentence() -> str:
        words = [rng.choice(SYNTHETIC_WORDS) for _ in range(rng.randint(12, 22))]
        return " ".join(words).capitalize() + "."

    ids: list[str] = []
    for n in range(articles):
        title = f"{sentence()[:-1].title()[:60]}"
        paragraphs = [" ".join(sentence() for _ in range(2)) for _ in range(rng.randint(5, 8))]
        dropped = [*paragraphs[:2], *paragraphs[3:]]
        dropped[-1] = dropped[-1].replace(" the ", " a ", 1)
        added = [*paragraphs, f'"{sentence()}" {sentence()}'.replace('"', "\u201c", 1)]
        added[-1] = added[-1].replace('"', "\u201d", 1)
        outlet = SYNTHETIC_OUTLETS[n % len(SYNTHETIC_OUTLETS)]
        for edition, body in enumerate((paragraphs, dropped, added)):
            vid = f"{rng.getrandbits(64):016x}"
            ids.append(vid)
            stem = f"{3 * n + edition:05d}_{vid}"
            (folder / f"{stem}.txt").write_text(title + "\n\n" + "\n\n".join(body) + "\n")
            day = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T{8 + 4 * edition:02d}:00:00"
            (folder / f"{stem}.yml").write_text(f"outlet: {outlet}\npublished: {day}\n")
    return ids


@pytest.fixture
def corpus(tmp_path: Path) -> Callable[[dict[str, bytes | str]], Path]:
    """Write a corpus folder from {relative path: content} and return it."""

    def make(files: dict[str, bytes | str]) -> Path:
        folder = tmp_path / "corpus"
        for rel, content in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            path.write_bytes(data)
        return folder

    return make


# A paragraph given to make_version: its text, or (text, why it is boilerplate).
Para = str | tuple[str, str]


def make_source(
    text: str = "",
    *,
    vid: str = "0123456789abcdef",
    order: int = 0,
    path: str | None = None,
    metadata: Metadata | None = None,
    id_origin: str = "file name",
) -> Source:
    """A Source record made in memory; byte-level fields are dummies."""
    return Source(
        path=path or f"{order:03d}_{vid}.txt",
        order=order,
        raw=text.encode(),
        sha256="0" * 64,
        encoding="utf-8",
        encoding_detected=False,
        text=text,
        control_chars=0,
        repaired=(),
        id=vid,
        id_origin=id_origin,  # type: ignore[arg-type]
        metadata=metadata or Metadata(),
    )


def make_version(
    vid: str,
    paras: list[Para],
    title: str | None = None,
    *,
    order: int = 0,
    group: str | None = None,
    published: str | None = None,
) -> Version:
    """A Version built directly from paragraph texts, without normalizing."""
    paragraphs = []
    for n, para in enumerate(paras, start=1):
        text, why = (para, None) if isinstance(para, str) else para
        paragraphs.append(Paragraph(n=n, text=text, key=fold(text), boilerplate=why))
    return Version(
        source=make_source(
            vid=vid, order=order, metadata=Metadata(group=group, published=published)
        ),
        title=title,
        title_origin="title line" if title else None,
        paragraphs=tuple(paragraphs),
        wrap_width=None,
    )
