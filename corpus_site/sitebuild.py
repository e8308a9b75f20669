"""The MkDocs build on every core: mkdocs.commands.build.build, with the pages outside the
navigation (the corpus's version, group and hub pages) read and rendered in forked worker
processes.

MkDocs builds one page after another; at 10,000 versions that is most of a build. The
steps here are MkDocs' own, in its order, calling its own functions (`_populate_page`,
`_build_page`, ...); what changes is who runs the two loops over pages. The parent reads
the pages of the navigation first (every page's sidebar shows their titles), runs the
`env` event, forks, and then each process reads and renders its share of the other pages;
the parent also copies the static files and renders the theme's templates. Warnings the
workers log are sent back and logged again in the parent.

The static files the corpus stage generated (each version's source.txt, version.json and
cite.json, the exports) are hard-linked into the site instead of copied: at 10,000
versions, copying their 30,000 files was a fifth of the MkDocs stage. That is safe because
the corpus stage never changes a file in place: a file it replaces is written anew and
renamed over the old one (output.write_atomic; output.write_new makes the files that do
not exist yet), so the site keeps the bytes it was built with. Where the
site cannot link to docs/ (another file system), they are copied.

This is only right for plugins that do not collect state from every page for a later
event (the corpus plugin keeps state per page; Material's search plugin indexes no page
here, see mkdocs_plugin.py). tests/test_sitebuild.py checks that the site is byte for byte
the one mkdocs.commands.build.build makes. MkDocs is pinned below 2 (pyproject.toml); on
an upgrade, compare `build()` in mkdocs/commands/build.py with the steps below.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .lastsite import Linker, PageReuse
from .workers import Progress, default_workers

# Below this many pages outside the navigation, forking costs more than it saves.
MIN_PARALLEL_PAGES = 200

log = logging.getLogger("mkdocs")


class _Keep(logging.Handler):
    """The warnings a worker logs, to be logged again by the parent."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def build(
    config: Any,
    workers: int | None = None,
    progress: Progress | None = None,
    reuse: PageReuse | None = None,
) -> None:
    """Build the site of a loaded MkDocs config, as `mkdocs build` does, on `workers`
    processes (default: one per core); progress, if given, shows each page read and each
    page rendered, the workers' included (they tell the parent through a pipe).

    reuse, if given, keeps the last site's HTML of each generated page that nothing it is
    made of changed (corpus_site/lastsite.py), and records what the others are made of."""
    from mkdocs.commands import build as mkdocs_build
    from mkdocs.exceptions import Abort
    from mkdocs.structure.files import InclusionLevel, get_files, set_exclusions
    from mkdocs.structure.nav import get_navigation
    from mkdocs.structure.pages import Page
    from mkdocs.utils import CountHandler

    workers = default_workers() if workers is None else workers
    inclusion = InclusionLevel.is_included
    counter = CountHandler()  # `strict: true` in mkdocs.yml: a warning fails the build
    counter.setLevel(logging.WARNING)
    if config.strict:
        log.addHandler(counter)
    try:
        config = config.plugins.on_config(config)
        config.plugins.on_pre_build(config=config)
        mkdocs_build.utils.clean_directory(config.site_dir)

        files = get_files(config)
        env = config.theme.get_env()
        files.add_files_from_theme(env, config)
        files = config.plugins.on_files(files, config=config)
        set_exclusions(files, config)
        nav = get_navigation(files, config)
        nav = config.plugins.on_nav(nav, config=config, files=files)

        doc_files = files.documentation_pages(inclusion=inclusion)
        for file in doc_files:
            if file.page is None and file.inclusion.is_not_in_nav():
                Page(None, file, config)
        # Pages of the navigation first: every page's sidebar shows them.
        shared = [f for f in doc_files if not f.inclusion.is_not_in_nav()]
        spread = [f for f in doc_files if f.inclusion.is_not_in_nav()]
        for file in shared:
            mkdocs_build._populate_page(file.page, config, files)
        env = config.plugins.on_env(env, config=config, files=files)
        if reuse is not None:
            reuse.start(config, nav)

        count = workers if len(spread) >= MIN_PARALLEL_PAGES and _can_fork() else 1
        ticks = os.pipe() if progress is not None and count > 1 else None
        children = [
            _fork(n, count, spread, config, files, doc_files, nav, env, ticks, reuse)
            for n in range(1, count)
        ]
        if ticks is not None:
            os.close(ticks[1])  # the workers hold the write end: EOF when all are done

        _copy_static_files(files, config, inclusion)
        for template in config.theme.static_templates:
            mkdocs_build._build_theme_template(template, env, files, config, nav)
        for template in config.extra_templates:
            mkdocs_build._build_extra_template(template, files, config, nav)
        mine = spread[0::count]
        steps = _populate_and_build(
            mine, config, files, doc_files, nav, env, build_shared=shared, reuse=reuse
        )
        if progress is None:
            for _ in steps:
                pass
        else:
            total = 2 * len(spread) + len(shared)  # each read, each rendered
            for _ in progress(_with_workers(steps, ticks), total, "Building the site (MkDocs)"):
                pass
        _wait(children, reuse)
        if reuse is not None:
            reuse.entries(files)  # this process's records, without its pages that logged

        config.plugins.on_post_build(config=config)
        if counts := counter.get_counts():
            found = ", ".join(f"{v} {k.lower()}s" for k, v in counts)
            raise Abort(f"Aborted with {found} in strict mode!")
    except Exception as exc:
        config.plugins.on_build_error(error=exc)
        raise
    finally:
        log.removeHandler(counter)


def _copy_static_files(files: Any, config: Any, inclusion: Any) -> None:
    """Files.copy_static_files, the generated files hard-linked (see the module's text)."""
    from .output import generated_files

    generated = generated_files(Path(config.docs_dir))
    linker = Linker()
    for file in files:
        if file.is_documentation_page() or not inclusion(file.inclusion):
            continue
        source = file.abs_src_path  # None when a plugin gave the file its content
        generated_here = source is not None and file.src_uri in generated
        if generated_here and linker.link(source, file.abs_dest_path):
            continue
        # Not linked: not generated, written by a plugin (copied over, as MkDocs does), or
        # no hard links there.
        file.copy_file()


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _populate_and_build(
    share: Sequence[Any],
    config: Any,
    files: Any,
    doc_files: Sequence[Any],
    nav: Any,
    env: Any,
    build_shared: Sequence[Any] = (),
    reuse: PageReuse | None = None,
) -> Iterator[None]:
    """Read and render the pages of `share`, and render those of `build_shared` (read
    already); then check the anchor links of both, as MkDocs does after its loops. Yields
    after each page read and each page rendered (a page kept by `reuse`: twice, at once)."""
    from mkdocs.commands import build as mkdocs_build

    noise = _Noise(reuse)
    log.addHandler(noise)
    try:
        made = []
        for file in share:
            if reuse is not None and reuse.keep(file, files):
                yield
                yield
                continue
            noise.page = file.src_uri
            with reuse.watch(file, files) if reuse is not None else contextlib.nullcontext():
                mkdocs_build._populate_page(file.page, config, files)
            made.append(file)
            yield
        for file in [*build_shared, *made]:
            noise.page = file.src_uri
            excluded = file.inclusion.is_excluded()
            mkdocs_build._build_page(file.page, config, doc_files, nav, env, excluded=excluded)
            if reuse is not None:
                reuse.rendered(file)
            yield
        level = config.validation.links.anchors
        for file in [*build_shared, *made]:
            noise.page = file.src_uri
            file.page.validate_anchor_links(files=files, log_level=level)
    finally:
        log.removeHandler(noise)


class _Noise(logging.Handler):
    """Tells `reuse` of each page that logs anything while it is read, rendered or checked
    (it is not kept next time: it logs it again). MkDocs' debug lines ("Building page")
    come from every page: they are not counted."""

    def __init__(self, reuse: PageReuse | None) -> None:
        super().__init__(logging.INFO)
        self.reuse = reuse
        self.page: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.reuse is not None and self.page is not None:
            self.reuse.noisy(self.page)


def _fork(
    n: int,
    count: int,
    spread: Sequence[Any],
    config: Any,
    files: Any,
    doc_files: Sequence[Any],
    nav: Any,
    env: Any,
    ticks: tuple[int, int] | None = None,
    reuse: PageReuse | None = None,
) -> tuple[int, int]:
    """Start worker n of count on its share of `spread`; (pid, read end of its pipe).
    ticks: a pipe the worker writes a byte to for each step (progress). What the worker
    logged, and what it recorded for `reuse`, come back through the pipe."""
    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    # The worker: its warnings go to the parent, and it never returns into the caller.
    os.close(read)
    status: int = 1
    outcome: Any = None
    keep = _Keep()
    log.addHandler(keep)
    if ticks is not None:
        os.close(ticks[0])
        os.set_blocking(ticks[1], False)  # progress never holds up the work
    try:
        share = spread[n::count]
        for _ in _populate_and_build(share, config, files, doc_files, nav, env, reuse=reuse):
            if ticks is not None:
                _tick(ticks[1])
        recorded = (reuse.entries(files), reuse.kept) if reuse is not None else ({}, 0)
        status, outcome = 0, (keep.records, recorded)
    except BaseException as exc:  # reported by the parent
        outcome = ([*keep.records, (logging.ERROR, f"{type(exc).__name__}: {exc}")], None)
    finally:
        try:
            with os.fdopen(write, "wb") as pipe:
                pickle.dump(outcome, pipe)
        finally:
            os._exit(status)


def _tick(fd: int) -> None:
    """One step done, told to the parent (dropped if its pipe is full or closed)."""
    with contextlib.suppress(OSError):
        os.write(fd, b".")


def _with_workers(steps: Iterator[None], ticks: tuple[int, int] | None) -> Iterator[None]:
    """The parent's steps, and after each the steps its workers told of; then the workers'
    remaining steps until all have closed the pipe."""
    if ticks is None:
        yield from steps
        return
    read = ticks[0]
    os.set_blocking(read, False)
    try:
        for _ in steps:
            yield
            try:
                told = os.read(read, 65536)
            except BlockingIOError:
                told = b""
            for _ in told:
                yield
        os.set_blocking(read, True)
        while told := os.read(read, 65536):
            for _ in told:
                yield
    finally:
        os.close(read)


def _wait(children: Sequence[tuple[int, int]], reuse: PageReuse | None = None) -> None:
    """Wait for every worker; log their warnings here; take what they recorded for
    `reuse`; fail if one failed."""
    from mkdocs.exceptions import BuildError

    failed: list[str] = []
    for pid, read in children:
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        records, recorded = (
            pickle.loads(data) if data else ([(logging.ERROR, "a worker stopped")], None)
        )
        if reuse is not None and recorded is not None:
            reuse.add(*recorded)
        for level, message in records:
            log.log(level, message)
        if os.waitstatus_to_exitcode(status) != 0:
            failed.append(records[-1][1] if records else f"worker {pid} failed")
    if failed:
        raise BuildError("building pages failed: " + "; ".join(failed))
