"""Metadata: YAML front matter, sidecars and the corpus manifest, merged and checked.

Pure functions over text and mappings; reading the files is the sources stage's job.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from .errors import MetadataError
from .models import Metadata

KNOWN_FIELDS = (
    "id",
    "title",
    "published",
    "retrieved",
    "outlet",
    "url",
    "authors",
    "language",
    "license",
    "group",
)

# A hostile file must not make the YAML parser the most expensive part of the build;
# real front matter is a few hundred bytes, so 64 KiB is generous.
MAX_YAML_BYTES = 64 * 1024

# IDs become URL path segments (/a/<id>/): lower-case letters, digits and inner hyphens only,
# so no ID can climb out of its folder, collide on a case-insensitive disk, or need escaping.
ID_PATTERN = re.compile(r"[0-9a-f]{16}|[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")

_FIELD_LINE = re.compile(r"^[A-Za-z_][\w-]*[ \t]*:([ \t]|$)", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Split text into (front matter YAML, or None when there is none; the rest)."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    block = match.group(1) or ""
    # Text that merely opens with a rule ("---", a dateline, "---") is not metadata: front
    # matter has at least one "field:" line.
    if block.strip() and not _FIELD_LINE.search(block):
        return None, text
    return block, text[match.end() :]


def load_yaml(text: str, file: str, *, where: str, first_line: int = 1) -> dict[str, Any]:
    """Safely parse a YAML mapping; errors name the file and the line."""
    if len(text.encode("utf-8")) > MAX_YAML_BYTES:
        raise MetadataError(
            file,
            f"{where} is larger than {MAX_YAML_BYTES // 1024} KiB; metadata must be small",
            code="metadata-too-large",
        )
    try:
        data = _parse(text, file, where, _FAST_LOADER)
    except (yaml.YAMLError, MetadataError):
        # The pure-Python parser again, for the error message it has always given (libyaml
        # words its errors differently).
        data = None
    else:
        return _mapping(data, file, where)
    try:
        data = _parse(text, file, where, yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # The context mark is where the broken structure began (an unclosed bracket), which
        # is where the fix goes; the problem mark is where the parser gave up.
        mark = exc.context_mark or exc.problem_mark
        line = (mark.line + first_line) if mark is not None else first_line
        reason = "; ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise MetadataError(
            file, f"line {line}: malformed YAML in {where}: {reason}", code="bad-yaml"
        ) from None
    except yaml.YAMLError as exc:
        raise MetadataError(file, f"malformed YAML in {where}: {exc}", code="bad-yaml") from None
    return _mapping(data, file, where)


# libyaml's safe loader when PyYAML was built with it: 10x faster than the pure-Python one,
# the same constructor, so the same values (tests/test_sources.py compares them).
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str, file: str, where: str, loader_class: Any) -> Any:
    """Parse with one loader; safe_load refuses Python tags, and aliases are refused here
    (no anchor bombs)."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is not None and _has_alias(node):
            raise MetadataError(
                file,
                f"{where} uses YAML anchors or aliases (&, *), which are not accepted",
                code="bad-yaml",
            )
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _mapping(data: Any, file: str, where: str) -> dict[str, Any]:
    """The parsed document as a mapping of field names to values."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MetadataError(
            file,
            f"{where} must be a mapping of field: value, not a {type(data).__name__}",
            code="bad-yaml",
        )
    return {str(k): v for k, v in data.items()}


def _has_alias(node: yaml.Node) -> bool:
    """True when a YAML node graph reuses a node (an alias), the shape of a 'billion laughs'."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            return True
        seen.add(id(current))
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
    return False


def build_metadata(
    layers: list[Mapping[str, Any]], file: str
) -> tuple[Metadata, list[tuple[str, str]]]:
    """Merge metadata layers (lowest priority first) and check types.

    Returns the metadata and a list of (code, message) warnings for fields that were
    dropped or coerced; a field with an unusable value never stops the file.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    warnings: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for name in ("title", "outlet", "url", "language", "license", "group"):
        if name in merged and merged[name] is not None:
            value = merged[name]
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                text = " ".join(str(value).split())
                if text:
                    values[name] = text
            else:
                warnings.append(
                    (
                        "bad-field-type",
                        f"field '{name}' must be text, got {_describe(value)}; ignored",
                    )
                )
    for name in ("published", "retrieved"):
        if name in merged and merged[name] is not None:
            parsed = parse_date(merged[name])
            if parsed is None:
                warnings.append(
                    (
                        "bad-date",
                        f"field '{name}' is not a date (YYYY-MM-DD or ISO 8601): "
                        f"{_describe(merged[name])}; ignored",
                    )
                )
            else:
                values[name] = parsed
    if "authors" in merged and merged["authors"] is not None:
        authors = merged["authors"]
        if isinstance(authors, str):
            warnings.append(
                ("bad-field-type", "field 'authors' should be a list; read as one author")
            )
            authors = [authors]
        if isinstance(authors, list) and all(isinstance(a, str) for a in authors):
            values["authors"] = tuple(" ".join(a.split()) for a in authors if a.strip())
        else:
            warnings.append(
                (
                    "bad-field-type",
                    f"field 'authors' must be a list of names, got {_describe(authors)}; ignored",
                )
            )
    if "id" in merged and merged["id"] is not None:
        values["id"] = str(merged["id"])
    extra = tuple(
        sorted(
            (str(k), _display(v))
            for k, v in merged.items()
            if k not in KNOWN_FIELDS and v is not None
        )
    )
    return Metadata(**values, extra=extra), warnings


def check_id(candidate: str, file: str) -> str:
    """Return candidate if it is a valid ID, else raise naming the file and the rule."""
    if not ID_PATTERN.fullmatch(candidate):
        shown = candidate if len(candidate) <= 80 else candidate[:77] + "..."
        raise MetadataError(
            file,
            f"invalid id {shown!r}: an id is 16 hex digits or 1-64 lower-case letters, digits "
            "and inner hyphens (it becomes the URL /a/<id>/); fix the id: field",
            code="bad-id",
        )
    return candidate


def parse_date(value: Any) -> str | None:
    """An ISO 8601 date or datetime string from YAML's date types or a string; None if invalid."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text).isoformat()
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
        except ValueError:
            return None
    return None


def _describe(value: Any) -> str:
    """A short, safe description of a YAML value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _display(value: Any) -> str:
    """Display text of an unknown metadata field."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
