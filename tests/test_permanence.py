"""The permalink ledger: URLs keep answering, text under a URL never silently changes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import Project

STORY_A = (
    "Harbour plan approved\n\n"
    "The city council approved the new harbour plan on Tuesday after a debate of four hours. "
    "The plan moves the ferry terminal to the north pier and adds a cycle path along the quay.\n\n"
    "Work on the north pier will start in the spring, the harbour master said. "
    "Fishing boats keep their berths on the south side during the works.\n\n"
    "Residents of the old town had asked for fewer lorries on the harbour road, and the plan "
    "sends building traffic along the ring road instead.\n"
)
STORY_A2 = STORY_A.replace("four hours", "five hours") + (
    "\nThe opposition said it would ask for a referendum on the cost of the project.\n"
)
STORY_B = (
    "Library opens late on Thursdays\n\n"
    "The central library will stay open until ten on Thursday evenings from next month, the "
    "culture office announced. Students had collected two thousand signatures for longer hours.\n\n"
    "The extra hours are paid for by a grant from the regional fund for education and reading.\n"
)
STORY_C = (
    "Storm closes mountain pass\n\n"
    "Heavy snow closed the mountain pass on Sunday morning, and the police turned back more "
    "than three hundred cars at the lower barrier near the old customs house.\n\n"
    "The road service expects to reopen the pass on Tuesday if the wind drops overnight.\n"
)


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for child in folder.iterdir():
        child.unlink()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def site_answers(site: Path, url: str) -> bool:
    """Does the built site answer this URL with a file (a page, a tombstone or a redirect)?"""
    target = site / url
    return (target / "index.html").is_file() if url.endswith("/") else target.is_file()


def test_ledger_scenario(project: Project, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")  # 2026-09-21
    corpus = tmp_path / "c"
    v1 = {
        "001_aaaaaaaaaaaaaaa1.txt": STORY_A,
        "002_aaaaaaaaaaaaaaa2.txt": STORY_A2,
        "003_bbbbbbbbbbbbbbb1.txt": STORY_B,
        "004_ccccccccccccccc1.txt": STORY_C,
    }
    write(corpus, v1)
    assert project.build(corpus, "-q") == 0
    ledger_v1 = json.loads((project.root / "permalinks.json").read_text())
    groups_v1 = set(ledger_v1["groups"])
    assert groups_v1 == {"aaaaaaaaaaaaaaa1", "bbbbbbbbbbbbbbb1", "ccccccccccccccc1"}
    assert all(u["first_published"] == "2026-09-21" for u in ledger_v1["urls"].values())

    # v2: one version leaves, a new version joins B and C into one group.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790100000")  # 2026-09-22
    v2 = dict(v1)
    del v2["002_aaaaaaaaaaaaaaa2.txt"]
    v2["005_ddddddddddddddd1.txt"] = STORY_B + "\n" + STORY_C.split("\n", 2)[2]
    write(corpus, v2)
    assert project.build(corpus, "-q") == 0
    site = project.site
    for url in ledger_v1["urls"]:
        assert site_answers(site, url), url
    tombstone = (site / "a" / "aaaaaaaaaaaaaaa2" / "index.html").read_text()
    assert "Withdrawn" in tombstone and "2026-09-22" in tombstone
    assert (site / "a" / "aaaaaaaaaaaaaaa2" / "source.txt").read_text() == STORY_A2
    assert json.loads((site / "a" / "aaaaaaaaaaaaaaa2" / "version.json").read_text())["withdrawn"]
    redirect = (site / "g" / "ccccccccccccccc1" / "index.html").read_text()
    assert 'http-equiv="refresh" content="0; url=../bbbbbbbbbbbbbbb1/"' in redirect
    assert '<link rel="canonical" href="http://127.0.0.1:8000/g/bbbbbbbbbbbbbbb1/">' in redirect
    ledger_v2 = json.loads((project.root / "permalinks.json").read_text())
    assert ledger_v2["urls"]["a/aaaaaaaaaaaaaaa1/"]["first_published"] == "2026-09-21"
    assert ledger_v2["urls"]["a/ddddddddddddddd1/"]["first_published"] == "2026-09-22"
    assert ledger_v2["urls"]["g/ccccccccccccccc1/"]["status"] == "redirect"

    # No v2 page links to a URL the site does not answer.
    for page in [*site.glob("a/*/index.html"), *site.glob("g/*/index.html"), site / "index.html"]:
        for href in re.findall(r'href="(\.\./[^"#]*|[ag]/[^"#]*)"', page.read_text()):
            target = (page.parent / href).resolve()
            assert (target / "index.html").is_file() or target.is_file(), (page, href)

    # v3: changed bytes under a published URL stop the build, naming file, sums and flag.
    changed = dict(v2)
    changed["003_bbbbbbbbbbbbbbb1.txt"] = STORY_B.replace("ten", "eleven")
    write(corpus, changed)
    before = (site / "a" / "bbbbbbbbbbbbbbb1" / "index.html").read_bytes()
    capsys.readouterr()
    assert project.build(corpus, "-q") == 2
    err = capsys.readouterr().err
    old_sum = ledger_v2["urls"]["a/bbbbbbbbbbbbbbb1/"]["sha256"]
    assert "003_bbbbbbbbbbbbbbb1.txt" in err and old_sum in err
    assert "--accept-changed bbbbbbbbbbbbbbb1" in err
    assert (site / "a" / "bbbbbbbbbbbbbbb1" / "index.html").read_bytes() == before

    assert project.build(corpus, "-q", "--accept-changed", "bbbbbbbbbbbbbbb1") == 0
    page = (site / "a" / "bbbbbbbbbbbbbbb1" / "index.html").read_text()
    assert "changed on 2026-09-22" in page and old_sum in page


def test_removing_a_withdrawn_source_needs_a_reason_and_says_it(
    project: Project, tmp_path: Path
) -> None:
    corpus = tmp_path / "c"
    write(corpus, {"001_aaaaaaaaaaaaaaa1.txt": STORY_A, "003_bbbbbbbbbbbbbbb1.txt": STORY_B})
    assert project.build(corpus, "-q", "--no-site") == 0
    write(corpus, {"003_bbbbbbbbbbbbbbb1.txt": STORY_B})
    assert project.build(corpus, "-q", "--no-site", "--remove-source", "aaaaaaaaaaaaaaa1") == 2
    assert (
        project.build(
            corpus, "-q", "--remove-source", "aaaaaaaaaaaaaaa1", "--reason", "takedown request"
        )
        == 0
    )
    page = (project.site / "a" / "aaaaaaaaaaaaaaa1" / "index.html").read_text()
    assert "takedown request" in page
    source = (project.site / "a" / "aaaaaaaaaaaaaaa1" / "source.txt").read_text()
    assert "removed" in source and "Harbour" not in source


def test_two_builds_give_identical_docs_and_ledger(project: Project, tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    write(corpus, {"001_aaaaaaaaaaaaaaa1.txt": STORY_A, "002_aaaaaaaaaaaaaaa2.txt": STORY_A2})
    assert project.build(corpus, "-q", "--no-site") == 0
    first = {p: p.read_bytes() for p in project.docs.rglob("*") if p.is_file()}
    ledger = (project.root / "permalinks.json").read_bytes()
    assert project.build(corpus, "-q", "--no-site") == 0
    assert {p: p.read_bytes() for p in project.docs.rglob("*") if p.is_file()} == first
    assert (project.root / "permalinks.json").read_bytes() == ledger
