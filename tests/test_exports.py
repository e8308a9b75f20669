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
