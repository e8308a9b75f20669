"""The corpus as data: data/versions.jsonl, data/versions.csv and data/groups.json.

Pure: records in, file bytes out. Deterministic: sorted keys, fixed columns, "\n" lines.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from .cache import Memo, no_memo
from .models import Group

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


def indented_json(record: Any) -> bytes:
    """Byte for byte what templating.dump_json writes (sorted keys, UTF-8, two-space indent,
    final newline), 6x faster: json's indenting encoder is pure Python, one generator per
    container (6,000 version.json and cite.json records: 0.35 s; with orjson 0.055 s; with
    the encoder below, which takes what orjson would write otherwise, 0.22 s). For str
    keys, and for str, int, float, bool, None, list, tuple and dict values (a test
    compares the two)."""
    fast = _orjson(record)
    if fast is not None:
        return fast + b"\n"
    out: list[str] = []
    _encode(record, "\n", out)
    out.append("\n")
    return "".join(out).encode()


def encode_json(value: Any, newline: str = "\n") -> str:
    """A value as indented_json encodes it where it stands after `newline` (a line break and
    the indent of the line holding the value): to encode a large record in parts."""
    fast = _orjson(value)
    if fast is not None:
        # A line break in JSON text is always between tokens: strings escape theirs.
        return fast.decode().replace("\n", newline)
    out: list[str] = []
    _encode(value, newline, out)
    return "".join(out)


# orjson's indented output is json.dumps(indent=2, sort_keys=True, ensure_ascii=False)'s,
# made in C: same escapes, same key order (UTF-8 order is code-point order), the same
# shortest form of a float, except where Python writes an exponent (1e-05, 1e+16) and for
# NaN and infinities. Anything it would write otherwise, or refuses (a str subclass, an int
# past 64 bits, a key that is not a str), goes to the encoder below.
_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
_ORJSON_OPTIONS |= orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _orjson(value: Any) -> bytes | None:
    """value as orjson encodes it, or None where that would not be indented_json's bytes."""
    if not _same_floats(value):
        return None
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return None


def _same_floats(value: Any) -> bool:
    """Whether every float in value is written alike by orjson and json: finite, and zero or
    within [1e-4, 1e16) in size, where Python writes no exponent."""
    kind = type(value)
    if kind is dict:
        return all(map(_same_floats, value.values()))
    if kind is list or kind is tuple:
        return all(map(_same_floats, value))
    if kind is float:
        return value == 0.0 or 1e-4 <= abs(value) < 1e16
    return True


_ENCODE_STRING = json.encoder.encode_basestring  # the C version, as json.dumps uses
_SCALARS = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _flat_encoder(inner: str) -> json.JSONEncoder:
    """json's C encoder for one container of plain values at one indent."""
    return json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=("," + inner, ": "))


def _encode(value: Any, newline: str, out: list[str]) -> None:
    """Append the indented JSON of value; newline is a line break and the current indent."""
    if isinstance(value, str):
        out.append(_ENCODE_STRING(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(json.dumps(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        if all(type(v) in _SCALARS for v in value.values()):
            # A dict of plain values in one call of json's C encoder, its item separator
            # carrying the line break and indent: most of a ledger or a version record.
            flat = _flat_encoder(inner).encode(value)
            out.append("{" + inner + flat[1:-1] + newline + "}")
            return
        out.append("{")
        separator = inner
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError(f"keys must be str, not {type(key).__name__}")
            out.append(separator)
            out.append(_ENCODE_STRING(key))
            out.append(": ")
            _encode(value[key], inner, out)
            separator = "," + inner
        out.append(newline)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        if all(type(v) in _SCALARS for v in value):
            flat = _flat_encoder(inner).encode(value)
            out.append("[" + inner + flat[1:-1] + newline + "]")
            return
        out.append("[")
        separator = inner
        for item in value:
            out.append(separator)
            _encode(item, inner, out)
            separator = "," + inner
        out.append(newline)
        out.append("]")
    else:
        raise TypeError(f"not JSON: {type(value).__name__}")


def export_files(
    rows: Sequence[Mapping[str, Any]], groups: Sequence[Group], memo: Memo = no_memo
) -> dict[str, bytes]:
    """The three export files, from one flat row per version (keys: COLUMNS). memo keeps
    each version's lines and each group's record by what they hold: a rebuild encodes only
    those that changed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def lines(values: tuple[Any, ...]) -> tuple[str, str]:
        record = dict(zip(COLUMNS, values, strict=True))
        buffer.seek(0)
        buffer.truncate()
        writer.writerow("; ".join(v) if isinstance(v, list) else v for v in values)
        jsonl = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        return jsonl, buffer.getvalue()

    encoded = [
        memo("export row", values, lambda values=values: lines(values))
        for values in (tuple(row[k] for k in COLUMNS) for row in rows)
    ]
    header = ",".join(COLUMNS) + "\n"  # the column names need no CSV quoting
    return {
        "data/versions.jsonl": "".join(j for j, _ in encoded).encode(),
        "data/versions.csv": (header + "".join(c for _, c in encoded)).encode(),
        "data/groups.json": groups_json(groups, memo),
    }


def group_record(group: Group) -> dict[str, Any]:
    """One group's record in data/groups.json."""
    return {
        "id": group.id,
        "url": f"g/{group.id}/",
        "origin": group.origin,
        "members": list(group.members),
        "pairs": [{"a": a, "b": b, "similarity": s} for a, b, s in group.pairs],
    }


def groups_json(groups: Sequence[Group], memo: Memo = no_memo) -> bytes:
    """indented_json({"groups": [group_record(g) for g in groups]}), each record encoded
    once (kept by memo, by what it is made from: a rebuild makes only the changed ones)."""
    section = "\n  "  # where the list stands: in the top object
    parts = [
        memo(
            "group record",
            (g.id, g.origin, g.members, g.pairs),
            lambda g=g: encode_json(group_record(g), section + "  ").encode(),
        )
        for g in groups
    ]
    return b'{\n  "groups": ' + encoded_container(parts, section, b"[]") + b"\n}\n"


def encoded_container(parts: Sequence[bytes], newline: str, brackets: bytes) -> bytes:
    """A list (brackets b"[]") or an object (b"{}") of items already encoded one indent
    inside `newline` (for an object, each item "key": value), joined as indented_json joins
    them: to encode a large record in parts."""
    if not parts:
        return brackets
    inner = (newline + "  ").encode()
    return brackets[:1] + inner + (b"," + inner).join(parts) + newline.encode() + brackets[1:]
