"""Command line: arguments → config → build → summary. The only place that prints.

Exit codes: 0 built; 1 built, but some files failed (they are named) or --strict found a
warning; 2 usage or configuration error, or the site build itself failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .build import BuildReport, build
from .config import DEFAULT_SITE_NAME, DEFAULT_SITE_URL, load_config
from .errors import BuildError, ConfigError, LedgerError

EXIT_OK, EXIT_FILES_FAILED, EXIT_USAGE = 0, 1, 2

# Problems printed one per line before the summary says "and N more (see build-report.json)":
# one screen.
_MAX_LISTED = 15


def parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the test that checks the README documents it)."""
    p = argparse.ArgumentParser(
        prog="build-corpus",
        description="Turn a folder of news-article versions into a searchable, citable "
        "MkDocs site: one page per version, its metadata, text and differences.",
    )
    p.add_argument(
        "--corpus",
        type=Path,
        default=Path("corpus"),
        metavar="DIR",
        help="folder of *.txt article files, searched recursively (default: corpus/)",
    )
    p.add_argument(
        "--docs",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the Markdown pages go (default: docs_dir of mkdocs.yml, docs/)",
    )
    p.add_argument(
        "--site",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the built site goes (default: site_dir of mkdocs.yml, site/)",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=Path("mkdocs.yml"),
        metavar="FILE",
        help="the MkDocs configuration (default: mkdocs.yml)",
    )
    p.add_argument(
        "--no-site",
        action="store_true",
        help="only write the Markdown pages; do not run the MkDocs build",
    )
    p.add_argument(
        "--serve",
        action="store_true",
        help="after building, serve the site on http://127.0.0.1:PORT/ until Ctrl-C",
    )
    p.add_argument("--port", type=int, default=8000, help="port for --serve (default: 8000)")
    p.add_argument(
        "--render-all",
        action="store_true",
        help="render every page and index the site again, keeping none of the last site's "
        "HTML or search index (by default what nothing changed is kept)",
    )
    p.add_argument(
        "--strict", action="store_true", help="any warning fails the build, and nothing is written"
    )
    p.add_argument(
        "--max-file-size",
        type=int,
        default=None,
        metavar="BYTES",
        help="skip files larger than this (default: 5000000)",
    )
    p.add_argument(
        "--accept-changed",
        action="append",
        default=[],
        metavar="ID",
        help="accept that the text of an already published version changed; its page "
        "then says so (repeat for several IDs)",
    )
    p.add_argument(
        "--remove-source",
        action="append",
        default=[],
        metavar="ID",
        help="stop serving source.txt of a withdrawn version (needs --reason)",
    )
    p.add_argument(
        "--reason",
        default=None,
        metavar="TEXT",
        help="why the source is removed; shown on the version's tombstone page",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes for the corpus stage (default: one per core)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only problems and errors, no progress or summary",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit code."""
    args = parser().parse_args(argv)
    if args.serve and args.no_site:
        print("build-corpus: --serve needs the site; drop --no-site", file=sys.stderr)
        return EXIT_USAGE
    if args.reason is not None and not args.remove_source:
        print("build-corpus: --reason goes with --remove-source", file=sys.stderr)
        return EXIT_USAGE
    settings = mkdocs_settings(args.config)
    base = args.config.parent
    docs_dir = args.docs or base / str(settings.get("docs_dir") or "docs")
    site_dir = args.site or base / str(settings.get("site_dir") or "site")
    progress = sys.stderr.isatty() and not args.quiet
    try:
        config = load_config(
            corpus_dir=args.corpus,
            docs_dir=docs_dir,
            site_dir=site_dir,
            mkdocs_file=args.config,
            build_site=not args.no_site,
            strict=args.strict,
            quiet=args.quiet,
            progress=progress,
            render_all=args.render_all,
            max_file_bytes=args.max_file_size,
            site_url=str(settings.get("site_url") or DEFAULT_SITE_URL),
            site_name=str(settings.get("site_name") or DEFAULT_SITE_NAME),
            accept_changed=tuple(args.accept_changed),
            remove_sources=tuple((vid, args.reason or "") for vid in args.remove_source),
            today=build_date(),
            workers=args.jobs,
        )
    except ConfigError as exc:
        _print_problems("cannot start", exc.problems)
        return EXIT_USAGE
    # Shown in quiet mode too: a MkDocs warning is a problem of the site.
    _show_mkdocs_warnings()
    try:
        report = build(config, progress=_progress_bar if progress else None)
    except LedgerError as exc:
        _print_problems("stopped; nothing was written", exc.problems)
        return EXIT_USAGE
    except BuildError as exc:
        print(f"build-corpus: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_summary(report, config.corpus_dir, config.docs_dir, args.quiet, args.strict)
    code = exit_code(report, args.strict)
    if args.serve and code != EXIT_USAGE and report.site_dir is not None:
        serve(report.site_dir, args.port)
    return code


def exit_code(report: BuildReport, strict: bool) -> int:
    """0 when everything was published, 1 when some file failed (or a warning, if strict)."""
    if report.errors or (strict and report.problems):
        return EXIT_FILES_FAILED
    return EXIT_OK


def _print_problems(what: str, problems: Sequence[str]) -> None:
    """Why the build could not go on, one reason a line."""
    print(f"build-corpus: {what}:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)


def mkdocs_settings(config: Path) -> dict[str, Any]:
    """The few settings of mkdocs.yml the corpus build needs ({} when there is no file)."""
    if not config.is_file():
        return {}
    from mkdocs.utils.yaml import yaml_load  # MkDocs' own loader: !ENV and !relative work

    try:
        data = yaml_load(config.read_text(encoding="utf-8")) or {}
    except Exception:  # a broken mkdocs.yml is reported by the MkDocs build itself
        return {}
    return data if isinstance(data, dict) else {}


def build_date() -> str:
    """The date new URLs are first published on: SOURCE_DATE_EPOCH if set, else today (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.date().isoformat()


def _progress_bar(results: Iterable[Any], total: int, what: str) -> Iterable[Any]:
    """A progress bar on stderr over long per-file or per-group work (none for no work:
    a rebuild that takes everything from the cache)."""
    if not total:
        return results
    from tqdm import tqdm

    return tqdm(results, total=total, desc=what, unit="", file=sys.stderr, leave=False)


class _ToStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stderr as it is when a record comes, not as it was when made (a
    caller may replace it between builds, as tests do)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _show_mkdocs_warnings() -> None:
    """Let MkDocs warnings through to stderr, one line each; its info lines stay quiet."""
    logger = logging.getLogger("mkdocs")
    if not logger.handlers:
        handler = _ToStderr()
        handler.setFormatter(logging.Formatter("mkdocs %(levelname)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def _print_summary(
    report: BuildReport, corpus: Path, docs: Path, quiet: bool, strict: bool
) -> None:
    """The one-screen summary: problems first, then counts and where the site is."""
    listed = [p for p in report.problems if p.severity == "error"]
    listed += [p for p in report.problems if p.severity == "warning"]
    for problem in listed[:_MAX_LISTED]:
        where = problem.file or "corpus"
        print(f"{problem.severity.upper():7} {where}: {problem.message}", file=sys.stderr)
    if len(listed) > _MAX_LISTED:
        print(f"... and {len(listed) - _MAX_LISTED} more: see build-report.json", file=sys.stderr)
    if quiet:
        return
    errors, warnings = len(report.errors), len(report.warnings)
    lines = [
        f"Corpus   {corpus}: {report.files} file(s) read",
        f"Published {len(report.versions)} version(s) in {len(report.groups)} group(s)",
        f"Problems {errors} file(s) not published, {warnings} warning(s)",
    ]
    if strict and report.problems and report.written is None:
        lines.append("Strict   problems found: nothing was written (fix them, or drop --strict)")
    if report.written is not None:
        w = report.written
        lines.append(
            f"Pages    {docs}: {len(w.written)} written, {w.unchanged} unchanged, "
            f"{len(w.removed)} removed"
        )
    if report.site_dir is not None:
        index = report.site_dir / "index.html"
        lines.append(f"Site     {index} (preview: python build_corpus.py --serve)")
        if report.pages_kept:
            lines.append(
                f"         {report.pages_kept} page(s) kept from the last site: nothing they "
                "are made of changed (--render-all renders them again)"
            )
        if report.search_index_kept:
            lines.append(
                "         search index kept from the last site: no indexed text changed "
                "(--render-all indexes again)"
            )
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    lines.append(f"Time     {timing}")
    print("\n".join(lines))


def serve(site_dir: Path, port: int) -> None:
    """Serve the built site on 127.0.0.1 only, until interrupted."""
    import http.server  # here: 30 ms of imports that only serving needs

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site_dir))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"Serving {site_dir} at http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nStopped.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
