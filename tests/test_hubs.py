"""Hub pages: lists cut into pages, so no page grows with the corpus."""

from __future__ import annotations

import re

from corpus_site.hubs import PAGE_ROWS, hub_files


def rows(n: int) -> list[dict]:
    return [
        {
            "id": f"{i:016x}",
            "title": f"Story {i}",
            "outlet": ["Alpha News", "Beta Post", ""][i % 3],
            "published": "" if i % 5 == 0 else f"2019-{1 + i % 12:02d}-01",
            "words": "100",
            "group": f"{i:016x}",
            "group_size": 1,
        }
        for i in range(n)
    ]


def test_lists_are_paged_and_every_version_is_listed_once() -> None:
    n = 2 * PAGE_ROWS + 17
    files = hub_files(rows(n), [{"id": f"{i:016x}", "title": "T", "size": 1} for i in range(n)])
    pages = sorted(k for k in files if k.startswith("versions/"))
    assert pages == ["versions/2/index.md", "versions/3/index.md", "versions/index.md"]
    listed = [
        vid
        for page in pages
        for vid in re.findall(r'href="(?:\.\./)+a/([0-9a-f]{16})/"', files[page].decode())
    ]
    assert sorted(listed) == sorted(f"{i:016x}" for i in range(n))
    assert max(len(files[p]) for p in files) < 500_000
    second = files["versions/2/index.md"].decode()
    assert 'href="../../versions/3/"' in second and 'aria-current="page">2<' in second


def test_outlet_and_month_indexes_link_to_their_pages() -> None:
    files = hub_files(rows(30), [])
    index = files["outlets/index.md"].decode()
    assert 'href="../outlets/alpha-news/"' in index and "(10)" in index
    assert "outlets/no-outlet-given/index.md" in files
    assert "dates/undated/index.md" in files and "dates/2019-02/index.md" in files
    for path, content in files.items():
        for link in re.findall(
            r'href="((?:\.\./)+)(outlets|dates|versions)/([^"]*)"', content.decode()
        ):
            target = f"{link[1]}/{link[2]}index.md"
            assert target in files, (path, target)


def test_pages_kept_by_a_rebuild_are_those_a_fresh_render_writes() -> None:
    """A rebuild renders only the hub pages whose rows changed (render.CorpusParts)."""
    from corpus_site.render import CorpusParts

    groups = [{"id": f"{i:016x}", "title": "T", "size": 1} for i in range(600)]
    first = CorpusParts()
    before = hub_files(rows(600), groups, first.part)
    changed = rows(600)
    changed[300]["title"] = "A corrected headline"
    again = CorpusParts(first.keep())
    made: list[str] = []

    def counting(kind, material, make):  # type: ignore[no-untyped-def]
        return again.part(kind, material, lambda: made.append(material[0]) or make())

    kept = hub_files(changed, groups, counting)
    assert kept == hub_files(changed, groups)
    # Rendered again: the second page of all versions, and the lists of its outlet and of
    # its month that show it; nothing else.
    assert sorted(made) == sorted(p for p in kept if kept[p] != before[p])
    assert "versions/2/index.md" in made and len(made) == 3
