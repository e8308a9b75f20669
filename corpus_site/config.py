"""The build configuration: one frozen record, every problem with it reported at once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, MetadataError
from .grouping import GroupingSettings
from .metadata import load_yaml

MANIFEST_NAME = "corpus.yml"
# Used when mkdocs.yml sets no site_url / site_name: the local preview's address.
DEFAULT_SITE_URL = "http://127.0.0.1:8000/"
DEFAULT_SITE_NAME = "News versions corpus"

# Lines that are site furniture, not article text: (what it is, pattern matched against
# the whole line with its whitespace folded). Each was seen in real scraped news (RT,
# Daily Mail, NYT and AP copies in the evaluation corpora).
BUILTIN_BOILERPLATE: tuple[tuple[str, str], ...] = (
    ("a “Read more” link", r"(?i:read more):.*"),
    ("a live-updates link", r"Follow .{0,80}\blive updates\b.*"),
    ("a sharing prompt", r"(?i:share this)( article| story)?:?"),
    ("an advertisement marker", r"(?i:advertisement)"),
    ("an advertisement marker", r"Story continues below( advertisement)?"),
    ("a call to click", r"Click here to .{0,80}"),
    ("a newsletter prompt", r"Sign up for .{0,80}newsletter.{0,40}"),
    ("a weather widget", r"\d-Day Forecast"),
    ("a sharing button", r"(e-mail|Email|Share|Tweet|Comments?)"),
)


@dataclass(frozen=True)
class Limits:
    """Ceilings that keep a hostile corpus from exhausting the machine."""

    # 5 MB: the longest real news article in our corpora is under 100 KB; a file fifty
    # times larger is a dump, not an article, and would dominate build time and page size.
    max_file_bytes: int = 5_000_000
    # A paragraph is one line of a page; 10,000 is far above any article (BBC: max 93).
    max_paragraphs: int = 10_000
    # The longest paragraph in the BBC and articlecomparisons corpora is under 5,000
    # characters; a 100,000-character line is a dump (minified HTML, base64), not prose.
    max_line_chars: int = 100_000


@dataclass(frozen=True)
class Manifest:
    """The corpus manifest corpus.yml: corpus-wide defaults, per-file metadata, patterns."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    boilerplate: tuple[str, ...] = ()
    site: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """Everything one build needs to know, checked before any work starts."""

    corpus_dir: Path
    docs_dir: Path
    site_dir: Path
    mkdocs_file: Path
    build_site: bool = True
    strict: bool = False
    quiet: bool = False
    progress: bool = False
    # Render every page of the site again, keeping none of the last site's HTML
    # (corpus_site/lastsite.py keeps the pages nothing they are made of changed).
    render_all: bool = False
    manifest: Manifest = field(default_factory=Manifest)
    limits: Limits = field(default_factory=Limits)
    # A paragraph found verbatim in this many files, in this many different articles
    # (groups), is site furniture (a footer, a "Sign up" line), not article text. Measured
    # on articlecomparisons: paragraphs of the syndicated AP Helsinki story recur in 10-17
    # files but at most 5 groups; "More", "Close", "___", a CNN copyright footer recur in
    # 10-64 groups.
    recurring_min_files: int = 10
    recurring_min_groups: int = 6
    # Near-duplicate detection: shingle size, MinHash/LSH banding, similarity thresholds,
    # group size limit; each with its reason in grouping.py.
    grouping: GroupingSettings = field(default_factory=GroupingSettings)
    # Full diffs on a version page against this many nearest siblings; a summary line for
    # the rest keeps a page of a 50-version group light.
    nearest_siblings: int = 5
    # Where the site is served from, for permanent links and citations.
    site_url: str = DEFAULT_SITE_URL
    site_name: str = DEFAULT_SITE_NAME
    accept_changed: tuple[str, ...] = ()
    remove_sources: tuple[tuple[str, str], ...] = ()  # (version ID, reason)
    # The date new URLs are first published on (SOURCE_DATE_EPOCH, else today, in UTC).
    today: str = "1970-01-01"
    # Worker processes for reading, comparing, citing and rendering; None: one per core.
    workers: int | None = None

    @property
    def ledger_file(self) -> Path:
        """The permalink ledger, committed beside mkdocs.yml."""
        return self.mkdocs_file.parent / "permalinks.json"

    @property
    def withdrawn_dir(self) -> Path:
        """Kept bytes of withdrawn versions (committed with the ledger), so their
        source.txt stays downloadable."""
        return self.mkdocs_file.parent / "withdrawn"

    @property
    def cache_dir(self) -> Path:
        """Results kept between builds, keyed by content hash; never published, safe to
        delete (the next build computes them again)."""
        return self.mkdocs_file.parent / ".corpus-cache"

    @property
    def boilerplate_patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """(what it is, compiled pattern) of the built-in and manifest boilerplate patterns."""
        ours = [(f"a boilerplate pattern of {MANIFEST_NAME}", p) for p in self.manifest.boilerplate]
        return tuple((what, re.compile(p)) for what, p in (*BUILTIN_BOILERPLATE, *ours))


def load_config(
    *,
    corpus_dir: Path,
    docs_dir: Path,
    site_dir: Path,
    mkdocs_file: Path,
    build_site: bool = True,
    strict: bool = False,
    quiet: bool = False,
    progress: bool = False,
    render_all: bool = False,
    max_file_bytes: int | None = None,
    site_url: str = DEFAULT_SITE_URL,
    site_name: str = DEFAULT_SITE_NAME,
    accept_changed: tuple[str, ...] = (),
    remove_sources: tuple[tuple[str, str], ...] = (),
    today: str = "1970-01-01",
    workers: int | None = None,
) -> Config:
    """Check the options and read the manifest; raise ConfigError listing every problem."""
    problems: list[str] = []
    if not site_url.startswith(("http://", "https://")):
        problems.append(f"site_url {site_url!r} in {mkdocs_file} must be an http(s) address")
    for vid, reason in remove_sources:
        if not reason.strip():
            problems.append(f"--remove-source {vid} needs a --reason (it is shown on the page)")
    if build_site and docs_dir.is_dir() and not (docs_dir / "index.md").is_file():
        problems.append(
            f"{docs_dir} has no index.md: --docs must be a folder with the hand-written pages "
            "(copy index.md, about.md and stylesheets/ from the project's docs/)"
        )
    if not corpus_dir.exists():
        problems.append(f"corpus folder {corpus_dir} does not exist (give one with --corpus DIR)")
    elif not corpus_dir.is_dir():
        problems.append(f"corpus path {corpus_dir} is not a folder")
    elif not any(corpus_dir.rglob("*.txt")):
        problems.append(f"corpus folder {corpus_dir} has no .txt files")
    if build_site and not mkdocs_file.is_file():
        problems.append(
            f"MkDocs configuration {mkdocs_file} not found (run from the project folder, "
            "or use --no-site to write only the Markdown pages)"
        )
    if docs_dir.exists() and not docs_dir.is_dir():
        problems.append(f"--docs {docs_dir} exists and is not a folder")
    if site_dir.resolve() == docs_dir.resolve():
        problems.append("--site and --docs must be different folders")
    limits = Limits()
    if max_file_bytes is not None:
        if max_file_bytes <= 0:
            problems.append("--max-file-size must be a positive number of bytes")
        else:
            limits = Limits(max_file_bytes=max_file_bytes)
    if workers is not None and workers < 1:
        problems.append("--jobs must be at least 1")
    manifest = Manifest()
    if corpus_dir.is_dir() and (corpus_dir / MANIFEST_NAME).is_file():
        manifest, manifest_problems = _read_manifest(corpus_dir / MANIFEST_NAME)
        problems.extend(manifest_problems)
    if problems:
        raise ConfigError(problems)
    return Config(
        corpus_dir=corpus_dir,
        docs_dir=docs_dir,
        site_dir=site_dir,
        mkdocs_file=mkdocs_file,
        build_site=build_site,
        strict=strict,
        quiet=quiet,
        progress=progress,
        render_all=render_all,
        manifest=manifest,
        limits=limits,
        site_url=site_url if site_url.endswith("/") else site_url + "/",
        site_name=site_name,
        accept_changed=accept_changed,
        remove_sources=remove_sources,
        today=today,
        workers=workers,
    )


def _read_manifest(path: Path) -> tuple[Manifest, list[str]]:
    """Read corpus.yml; return it and every problem found in it."""
    problems: list[str] = []
    try:
        data = load_yaml(path.read_text(encoding="utf-8-sig"), path.name, where="corpus.yml")
    except MetadataError as exc:
        return Manifest(), [f"{path}: {exc.message}"]
    except (OSError, UnicodeDecodeError) as exc:
        return Manifest(), [f"{path}: cannot read: {exc}"]
    allowed = {"defaults", "files", "boilerplate", "site"}
    for key in sorted(set(data) - allowed):
        problems.append(
            f"{path}: unknown top-level key {key!r} (known: {', '.join(sorted(allowed))})"
        )
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append(f"{path}: 'defaults' must be a mapping of field: value")
        defaults = {}
    for key in ("id", "group", "title"):
        if key in defaults:
            problems.append(f"{path}: '{key}' cannot be a corpus-wide default (it is per file)")
    files = data.get("files") or {}
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        problems.append(f"{path}: 'files' must map file paths to metadata mappings")
        files = {}
    patterns = data.get("boilerplate") or []
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        problems.append(f"{path}: 'boilerplate' must be a list of regular expressions")
        patterns = []
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"{path}: boilerplate pattern {pattern!r} is not a valid regex: {exc}")
    site = data.get("site") or {}
    if not isinstance(site, dict):
        problems.append(f"{path}: 'site' must be a mapping")
        site = {}
    manifest = Manifest(
        defaults={str(k): v for k, v in defaults.items()},
        files={str(k).replace("\\", "/"): v for k, v in files.items()},
        boilerplate=tuple(patterns),
        site=site,
    )
    return manifest, problems
