"""Golden test: the generated docs/ of the default corpus, byte for byte.

When a change to the pages is intended, refresh the expected copy with

    UPDATE_GOLDEN=1 pytest tests/test_golden.py

and review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import DEFAULT_CORPUS, Project

GOLDEN = Path(__file__).resolve().parent / "golden" / "default-docs"
GENERATED = ("a", "g", "data", ".corpus", "versions", "groups", "outlets", "dates")


def generated_files(docs: Path) -> dict[str, bytes]:
    return {
        p.relative_to(docs).as_posix(): p.read_bytes()
        for root in GENERATED
        for p in sorted((docs / root).rglob("*"))
        if p.is_file()
    }


def test_default_corpus_docs_match_the_golden_copy(project: Project, monkeypatch) -> None:
    # The pages carry the date each URL was first published; fix it (2026-11-22).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795305600")
    assert project.build(DEFAULT_CORPUS, "--no-site", "-q") == 0
    got = generated_files(project.docs)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, data in got.items():
            target = GOLDEN / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    expected = {
        p.relative_to(GOLDEN).as_posix(): p.read_bytes()
        for p in sorted(GOLDEN.rglob("*"))
        if p.is_file()
    }
    assert sorted(got) == sorted(expected)
    for rel in sorted(expected):
        assert got[rel] == expected[rel], (
            f"{rel} differs; refresh: UPDATE_GOLDEN=1 pytest {__file__}"
        )
