"""The corpus as data: the fast JSON writer writes what json.dumps would."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_site.exports import indented_json
from corpus_site.templating import dump_json

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
records: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(records)
def test_indented_json_is_byte_for_byte_dump_json(record: Any) -> None:
    assert indented_json(record) == dump_json(record)


def test_indented_json_reads_back() -> None:
    record = {"b": [1, {"c": None, "a": 'é\u2019\n"<'}], "a": {}, "c": [], "d": 0.25}
    assert json.loads(indented_json(record)) == record


def _rows(n: int, changed: int | None = None) -> list[dict[str, Any]]:
    from corpus_site.exports import COLUMNS

    out = []
    for i in range(n):
        row: dict[str, Any] = {k: f'{k} {i}, "quoted"\n' for k in COLUMNS}
        row["authors"] = [f"Author {i}", "Second; Author"]
        row["words"] = 100 + i + (1 if i == changed else 0)
        out.append(row)
    return out


def _groups(n: int, changed: int | None = None) -> list[Any]:
    from corpus_site.models import Group

    groups = []
    for i in range(n):
        a, b = f"{i:016x}", f"{i + 1:016x}"
        groups.append(Group(a, (a, b), "similarity", ((a, b, 0.5 + 0.25 * (i == changed)),)))
    return groups


def test_exports_kept_by_a_rebuild_are_what_a_fresh_encoding_writes() -> None:
    """The parts a build keeps (render.CorpusParts) change how much is encoded, never the
    bytes; groups.json is what indented_json writes."""
    import csv
    import io

    from corpus_site.exports import COLUMNS, export_files
    from corpus_site.render import CorpusParts

    first = CorpusParts()
    export_files(_rows(40), _groups(5), first.part)
    again = CorpusParts(first.keep())
    kept = export_files(_rows(40, changed=7), _groups(5, changed=2), again.part)
    assert kept == export_files(_rows(40, changed=7), _groups(5, changed=2))
    assert len(again.used) == 45 and len(set(again.used) - set(first.used)) == 2
    # The reference encodings: csv.DictWriter, json.dumps per line, indented_json.
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in _rows(40, changed=7):
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})
    assert kept["data/versions.csv"] == buffer.getvalue().encode()
    lines = kept["data/versions.jsonl"].decode().splitlines()
    assert [json.loads(line) for line in lines] == _rows(40, changed=7)
    for groups in (_groups(5, changed=2), []):
        records = json.loads(export_files([], groups)["data/groups.json"])
        assert export_files([], groups)["data/groups.json"] == indented_json(records)
        assert len(records["groups"]) == len(groups)
