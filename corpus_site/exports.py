"""The corpus as data: data/versions.jsonl, data/versions.csv and data/groups.json.

Pure: records in, file bytes out. Deterministic: sorted keys, fixed columns, "\n" lines.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .models import Group
from .templating import dump_json

COLUMNS = (
    "id",
    "url",
    "title",
    "title_origin",
    "source_file",
    "sha256",
    "bytes",
    "encoding",
    "first_published",
    "outlet",
    "published",
    "retrieved",
    "authors",
    "language",
    "license",
    "original_url",
    "group",
    "words",
    "paragraphs",
)


def export_files(rows: Sequence[Mapping[str, Any]], groups: Sequence[Group]) -> dict[str, bytes]:
    """The three export files, from one flat row per version (keys: COLUMNS)."""
    jsonl = "".join(
        json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False, sort_keys=True) + "\n"
        for row in rows
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: "; ".join(row[k]) if isinstance(row[k], list) else row[k] for k in COLUMNS}
        )
    groups_json = {
        "groups": [
            {
                "id": g.id,
                "url": f"g/{g.id}/",
                "origin": g.origin,
                "members": list(g.members),
                "pairs": [{"a": a, "b": b, "similarity": s} for a, b, s in g.pairs],
            }
            for g in groups
        ]
    }
    return {
        "data/versions.jsonl": jsonl.encode(),
        "data/versions.csv": buffer.getvalue().encode(),
        "data/groups.json": dump_json(groups_json),
    }
