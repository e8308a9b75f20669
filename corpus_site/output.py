"""Stage 6, output: write the generated files into docs/ and build the site with MkDocs.

The one writer of the output. It writes only files whose bytes changed (a rebuild touches
few files), removes generated files that are no longer generated, and never touches a
file it did not generate. The site is built into a temporary folder and swapped into
place, so a failed build leaves the previous site whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError, LedgerError
from .ledger import Ledger, VersionEntry
from .ledger import from_json as ledger_from_json
from .ledger import to_json as ledger_to_json
from .search import SearchReport, index_site
from .templating import dump_json

# The list of files the previous build generated, so that stale ones can be removed
# without ever deleting a hand-written page.
LEDGER_OF_GENERATED = ".corpus/generated.json"


@dataclass(frozen=True)
class WriteReport:
    """What writing docs/ did."""

    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]


def write_docs(docs_dir: Path, files: Mapping[str, bytes]) -> WriteReport:
    """Write generated files into docs_dir: changed ones only; remove the ones no longer made."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    previous = _previous_files(docs_dir)
    listing = json.dumps(sorted([*files, LEDGER_OF_GENERATED]), indent=1).encode() + b"\n"
    wanted = {**files, LEDGER_OF_GENERATED: listing}
    written: list[str] = []
    unchanged = 0
    for rel in sorted(wanted):
        if write_if_changed(docs_dir / rel, wanted[rel]):
            written.append(rel)
        else:
            unchanged += 1
    removed = sorted(previous - set(wanted))
    for rel in removed:
        path = docs_dir / rel
        if path.is_file():
            path.unlink()
        _remove_empty_parents(path.parent, docs_dir)
    return WriteReport(tuple(written), unchanged, tuple(removed))


def _previous_files(docs_dir: Path) -> set[str]:
    """The generated files the last build recorded."""
    ledger = docs_dir / LEDGER_OF_GENERATED
    try:
        listed = json.loads(ledger.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    # Only relative paths inside docs/ are trusted from the file.
    return {
        rel
        for rel in listed
        if isinstance(rel, str) and not rel.startswith("/") and ".." not in rel.split("/")
    }


def write_if_changed(target: Path, content: bytes) -> bool:
    """Write a file unless it already holds these bytes; return whether it was written."""
    if (
        target.is_file()
        and target.stat().st_size == len(content)
        and target.read_bytes() == content
    ):
        return False
    _write_atomic(target, content)
    return True


def _write_atomic(target: Path, content: bytes) -> None:
    """Write a file so that a reader never sees it half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    """Remove folders left empty by a removal, up to (not including) stop."""
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


class _Collect(logging.Handler):
    """Collects MkDocs warnings so the summary can show them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass(frozen=True)
class SiteReport:
    """What building the site did: MkDocs' warnings, the search index, each part's time."""

    warnings: tuple[str, ...]
    search: SearchReport | None
    seconds: dict[str, float]


def build_site(
    mkdocs_file: Path, docs_dir: Path, site_dir: Path, search: bool = True
) -> SiteReport:
    """Run the real MkDocs build into a temporary folder, index it for search (unless
    `search` is False), then swap it in place of the old site."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    site_dir = site_dir.resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=site_dir.parent, prefix=f".{site_dir.name}-building-"))
    staging.chmod(0o755)  # mkdtemp makes it private; a published site is world-readable
    collector = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collector)
    seconds: dict[str, float] = {}
    searched = None
    try:
        clock = time.perf_counter()
        config = load_config(
            config_file=str(mkdocs_file),
            docs_dir=str(docs_dir.resolve()),
            site_dir=str(staging),
        )
        build(config)
        seconds["mkdocs build"] = time.perf_counter() - clock
        if search:
            clock = time.perf_counter()
            searched = index_site(staging)
            seconds["search index"] = time.perf_counter() - clock
    except (MkDocsException, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(f"MkDocs build failed: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        logger.removeHandler(collector)
    _swap(staging, site_dir)
    return SiteReport(tuple(collector.messages), searched, seconds)


def _swap(staging: Path, site_dir: Path) -> None:
    """Put the new site in place of the old with two renames; the old one is removed last."""
    retired = None
    if site_dir.exists():
        retired = site_dir.with_name(f".{site_dir.name}-old-{os.getpid()}")
        os.replace(site_dir, retired)
    os.replace(staging, site_dir)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def read_ledger(path: Path) -> Ledger:
    """The permalink ledger, or an empty one when the site has never been published."""
    if not path.is_file():
        return Ledger()
    try:
        return ledger_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, OSError) as exc:
        raise LedgerError(
            [f"{path}: cannot read the permalink ledger ({exc}); restore it from version control"]
        ) from None


def write_ledger(path: Path, ledger: Ledger) -> bool:
    """Write permalinks.json if it changed; return whether it did."""
    return write_if_changed(path, dump_json(ledger_to_json(ledger)))


def keep_withdrawn_sources(
    entries: Sequence[VersionEntry], withdrawn_dir: Path, docs_dir: Path
) -> dict[str, bytes]:
    """The bytes of every withdrawn version whose source is still served.

    They come from withdrawn/<id>.txt (committed with the ledger) or, the first time, from
    the source.txt the previous build left in docs/, which is then copied to withdrawn/.
    """
    kept: dict[str, bytes] = {}
    missing: list[str] = []
    for entry in entries:
        if entry.source_removed:
            continue
        archived = withdrawn_dir / f"{entry.id}.txt"
        for candidate in (archived, docs_dir / "a" / entry.id / "source.txt"):
            if candidate.is_file():
                data = candidate.read_bytes()
                if hashlib.sha256(data).hexdigest() == entry.sha256:
                    kept[entry.id] = data
                    if candidate != archived:
                        _write_atomic(archived, data)
                    break
        else:
            missing.append(
                f"{entry.source_file}: version {entry.id} left the corpus and its bytes are not "
                f"kept ({archived} is missing), so /a/{entry.id}/source.txt cannot stay "
                f"downloadable. Restore the file to the corpus, restore {archived} from "
                f"version control, or remove the source on purpose: --remove-source "
                f'{entry.id} --reason "..."'
            )
    if missing:
        raise LedgerError(missing)
    return kept


def read_cache(path: Path) -> dict[str, dict[str, str]]:
    """Formatted citations kept from earlier builds ({} when missing or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_cache(path: Path, citations: Mapping[str, Mapping[str, str]]) -> None:
    """Keep this build's formatted citations (only those: the cache never grows stale)."""
    write_if_changed(path, json.dumps(citations, ensure_ascii=False, sort_keys=True).encode())
