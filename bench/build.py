"""Benchmark a whole build at scale: each stage's wall time and peak memory, page weights,
what a reader's browser downloads to search, and an incremental rebuild.

    python bench/build.py --versions 1000 [--source /work/shared/data/bbc/bbc]
                          [--work /tmp/corpus-bench] [--no-browser]

Makes (or reuses) a synthetic corpus of N versions with bench/make_corpus.py, copies the
project's hand-written pages into a work folder, and runs every stage (corpus, MkDocs,
search index) in its own process, so that each peak memory figure is that stage's alone
(os.wait4 reports the child's resource use, Pagefind's binary included). The search
figures come from Debian's Chromium against the site served on 127.0.0.1 the way a static
host serves it (gzip for text). Prints figures and their ratios to the targets; asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The tests' own helpers: how a project folder is made, how Chromium is started, how a
# reader searches (one place to change when the search interface changes).
sys.path.insert(0, str(ROOT / "tests"))
import conftest as _tests  # noqa: E402
from browser.conftest import CHROMIUM_ARGS  # noqa: E402
from browser.helpers import search, search_total  # noqa: E402

# Targets of the scale issue, at 10,000 versions.
TARGETS = {
    "corpus stage s": 10.0,
    "full build s": 120.0,
    "peak memory MB": 2048.0,
    "median version page KB": 40.0,
    "largest hub page KB": 500.0,
    "incremental corpus stage s": 2.0,
    "median version page growth vs 1,000 %": 5.0,
    "corpus stage versions per second": 1000.0,
    "search 'minister' KB on the wire": 300.0,
    "search 'the' KB on the wire": 1000.0,
    "search 'minister' s": 1.0,
    "search 'the' s": 1.0,
}


# How many times the incremental rebuild runs (its figure is the median).
INCREMENTAL_RUNS = 5
# Each search query, each time in a cold browser, for the median time.
SEARCH_RUNS = 5

# The children run as a user's build does: with Python's compiled-module cache (a machine
# that sets PYTHONDONTWRITEBYTECODE makes every run compile the program again, 0.2 s).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str], cwd: Path) -> tuple[float, float, tuple[float, float]]:
    """Run a command; return (wall seconds, peak resident MB of that process, its CPU
    seconds (user, system), its worker processes included). The machine is shared and its
    disk noisy: the system time shows how much of a wall time was the file system's (after
    a large delete, the same build's system time doubled)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENV
    )
    assert process.stderr is not None
    err = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if process.returncode not in (0, 1):
        sys.exit(f"failed ({process.returncode}): {' '.join(command)}\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, (usage.ru_utime, usage.ru_stime)


def stage_seconds(project: Path, prefix: str) -> dict[str, float]:
    """The corpus stage's own split of its wall time, from build-report.json."""
    report = json.loads((project / "build-report.json").read_text())
    return {f"{prefix}: {stage} s": s for stage, s in report.get("seconds", {}).items()}


def make_project(work: Path) -> Path:
    """A fresh project folder: mkdocs.yml, overrides, the hand-written pages.

    The last project is renamed, not deleted here: deleting its 50,000 files just before
    the cold build (ext4 mounted with `discard` here) slowed the file system calls of that
    build: its render step (one worker) took 37.5 s right after the delete, 7.3 s with the
    old files renamed."""
    project = work / "project"
    if project.exists():
        project.rename(work / f"project.old-{os.getpid()}")  # removed by remove_set_aside
    return _tests.make_project(project).root


def remove_set_aside(work: Path) -> None:
    """Delete the projects make_project set aside (also those of runs that were stopped),
    once nothing is timed any more."""
    for old in work.glob("project.old-*"):
        shutil.rmtree(old, ignore_errors=True)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes under a folder (to count what a rebuild rewrote)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def page_weights(site: Path) -> dict[str, float]:
    """Median and largest version page, largest hub page, total site size."""
    versions = [p.stat().st_size for p in site.glob("a/*/index.html")]
    hubs = [
        p.stat().st_size
        for base in ("versions", "groups", "outlets", "dates")
        for p in (site / base).rglob("index.html")
    ]
    total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    bundle = sum(p.stat().st_size for p in (site / "pagefind").rglob("*") if p.is_file())
    return {
        "median version page KB": statistics.median(versions) / 1000,
        "largest version page KB": max(versions) / 1000,
        "largest hub page KB": max(hubs) / 1000 if hubs else 0.0,
        "site MB": total / 1e6,
        "search index (all of pagefind/) MB": bundle / 1e6,
    }


# What a static host compresses (GitHub Pages, Netlify, nginx with gzip on); Pagefind's
# index chunks and its WebAssembly are gzip-compressed already and are sent as they are.
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def serve(site: Path) -> tuple[Any, str]:
    """Serve a built site on 127.0.0.1 as a static host does (gzip for text); (server, URL)."""
    import functools
    import gzip
    import http.server
    import io
    import threading

    class Host(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def send_head(self) -> Any:
            path = self.translate_path(self.path)
            if os.path.isdir(path) and self.path.split("?")[0].endswith("/"):
                path = os.path.join(path, "index.html")
            kind = self.guess_type(path)
            gzip_ok = "gzip" in self.headers.get("Accept-Encoding", "")
            if not (gzip_ok and os.path.isfile(path) and kind.startswith(COMPRESSED_TYPES)):
                return super().send_head()
            with open(path, "rb") as raw:
                body = gzip.compress(raw.read(), 6)
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)

    handler = functools.partial(Host, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# The time of the reader's last key press, in the page's clock: "search ... s" is from it
# to the results on screen (read just after they are, so a few milliseconds high), the
# time a reader waits; "from opening home" adds loading the page and typing the word.
LAST_KEY_JS = """document.addEventListener("keydown", () => {
  window.__corpusLastKey = performance.now();
}, true);"""
SINCE_LAST_KEY_JS = "() => performance.now() - window.__corpusLastKey"


def browser_search(site: Path, queries: list[str]) -> dict[str, float]:
    """Bytes downloaded from opening the home page to the first results, and seconds
    from the last key press to the results (and from opening the home page).

    Counts every response of a cold browser (a new context per query): the bytes on the
    wire (gzip where the host compresses) and the bytes once decoded. Each query runs
    SEARCH_RUNS times, each in a cold browser: the times are their median (with the fastest
    and slowest), the other figures those of the first run.
    """
    from playwright.sync_api import sync_playwright

    server, url = serve(site)
    figures: dict[str, float] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for query in queries:
                waits, totals = [], []
                for n in range(SEARCH_RUNS):
                    wait, total = _one_search(browser, url, query, figures if n == 0 else {})
                    waits.append(wait)
                    totals.append(total)
                figures[f"search {query!r} s"] = statistics.median(waits)
                figures[f"search {query!r} s, fastest run"] = min(waits)
                figures[f"search {query!r} s, slowest run"] = max(waits)
                figures[f"search {query!r} s from opening home"] = statistics.median(totals)
            browser.close()
    finally:
        server.shutdown()
    return figures


def _one_search(
    browser: Any, url: str, query: str, figures: dict[str, float]
) -> tuple[float, float]:
    """One search in a cold browser context: (seconds from the last key to the results,
    from opening the home page); the bytes and counts go into figures."""
    context = browser.new_context()  # a cold cache for every query
    context.add_init_script(LAST_KEY_JS)
    page = context.new_page()
    finished: list[Any] = []
    page.on("requestfinished", lambda request, into=finished: into.append(request))
    start = time.perf_counter()
    page.goto(url)
    results = search(page, query)
    wait = page.evaluate(SINCE_LAST_KEY_JS) / 1000
    total = time.perf_counter() - start
    page.wait_for_timeout(200)  # let the last responses be counted
    wire = decoded = 0
    for request in finished:
        wire += request.sizes()["responseBodySize"]
        response = request.response()
        decoded += len(response.body()) if response else 0
    figures[f"search {query!r} KB on the wire"] = wire / 1000
    figures[f"search {query!r} KB decoded"] = decoded / 1000
    figures[f"search {query!r} requests"] = len(finished)
    figures[f"search {query!r} matches"] = search_total(page)
    figures[f"search {query!r} results shown"] = len(results)
    context.close()
    return wait, total


def program(project: Path) -> str:
    """The code fingerprint of the corpus_site the MkDocs and search-index stages import
    (they import it by name, from `project`), as the result cache keys it
    (cache.code_fingerprint). Stops unless that package is this checkout's, which the
    corpus stage runs: another install (an editable one of another checkout) would be
    other code."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import corpus_site.cache as c; print(c.PACKAGE); print(c.code_fingerprint())",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=CHILD_ENV,
        check=True,
    )
    where, fingerprint = done.stdout.splitlines()
    if Path(where).resolve() != (ROOT / "corpus_site").resolve():
        sys.exit(
            f"the stages would import corpus_site from {where}, not from {ROOT}: "
            f"run with PYTHONPATH={ROOT} (bench/README.md)"
        )
    return fingerprint


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, required=True)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared/data/bbc/bbc")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--no-browser", action="store_true", help="skip the search download test")
    parser.add_argument(
        "--browser-only",
        action="store_true",
        help="only the search download test, on the site the last run built",
    )
    args = parser.parse_args()
    if args.browser_only:
        site = (args.work or Path(f"/tmp/corpus-bench-{args.versions}")) / "project" / "site"
        print(f"  search index of {site}; {pagefind_version()} is the one installed now")
        print_figures(browser_search(site, ["minister", "the"]))
        return
    work = args.work or Path(f"/tmp/corpus-bench-{args.versions}")
    corpus = work / "corpus"
    if not (corpus / "truth.csv").is_file():
        print(f"making {args.versions} versions in {corpus} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench/make_corpus.py"),
                str(args.source),
                str(corpus),
                "--versions",
                str(args.versions),
            ],
            check=True,
        )
    project = make_project(work)
    fingerprint = program(project)
    build = [
        sys.executable,
        str(ROOT / "build_corpus.py"),
        "-q",
        "--corpus",
        str(corpus),
        "--config",
        str(project / "mkdocs.yml"),
    ]
    figures: dict[str, float] = {}

    wall, peak, cpu = run([*build, "--no-site"], project)
    figures["corpus stage s"], figures["corpus stage peak MB"] = wall, peak
    figures["corpus stage versions per second"] = args.versions / wall
    figures["corpus stage user CPU s"], figures["corpus stage system CPU s"] = cpu
    figures.update(stage_seconds(project, "  corpus"))
    # The MkDocs stage and the search-index stage, each in its own process (its own peak).
    # It keeps the HTML of pages nothing changed, as build_corpus.py does (lastsite.py);
    # mkdocs_all renders every page (--render-all).
    mkdocs, mkdocs_all = (
        [
            sys.executable,
            "-c",
            "from pathlib import Path; from corpus_site.output import build_site;"
            "built = build_site(Path('mkdocs.yml'), Path('docs'), Path('site'), search=False,"
            f"cache_dir=Path('.corpus-cache'), render_all={render_all});"
            "Path('site-stage.json').write_text(str(built.pages_kept))",
        ]
        for render_all in (False, True)
    )
    # As build_site does it: the pages cut for Pagefind go to a folder that the next MkDocs
    # stage's swap deletes in the background with the old site.
    index = [
        sys.executable,
        "-c",
        "from pathlib import Path; from corpus_site.search import index_site;"
        "from corpus_site.output import retired_path;"
        "index_site(Path('site'), scratch=retired_path(Path('site'), 'pages'))",
    ]
    wall, peak, _ = run(mkdocs, project)
    figures["mkdocs stage s"], figures["mkdocs stage peak MB"] = wall, peak
    wall, peak, _ = run(index, project)
    figures["search index stage s"], figures["search index stage peak MB"] = wall, peak
    figures["full build s"] = (
        figures["corpus stage s"] + figures["mkdocs stage s"] + figures["search index stage s"]
    )
    figures["peak memory MB"] = max(
        figures["corpus stage peak MB"],
        figures["mkdocs stage peak MB"],
        figures["search index stage peak MB"],
    )
    pages = sum(1 for _ in (project / "site").rglob("index.html"))
    figures["pages"] = pages
    figures["pages per second (mkdocs)"] = pages / figures["mkdocs stage s"]
    figures.update(page_weights(project / "site"))

    # A rebuild with nothing changed: everything comes from the cache.
    wall, _, _ = run([*build, "--no-site"], project)
    figures["unchanged rebuild corpus stage s"] = wall

    # Incremental: one file's text changes (accepted), and the build runs the normal way;
    # five times (a new sentence each time), for the median on a shared, noisy machine.
    docs_before, site_before = snapshot(project / "docs"), snapshot(project / "site")
    changed = sorted(corpus.glob("*.txt"))[len(list(corpus.glob("*.txt"))) // 2]
    original = changed.read_bytes()
    vid = changed.stem.split("_", 1)[1]
    walls = []
    try:
        for n in range(INCREMENTAL_RUNS):
            changed.write_bytes(original + f"\nCorrection {n} was appended.\n".encode())
            wall, _, _ = run([*build, "--no-site", "--accept-changed", vid], project)
            walls.append(wall)
            if n == 0:
                docs_after = snapshot(project / "docs")
                figures["incremental docs files rewritten"] = sum(
                    1 for k, v in docs_after.items() if docs_before.get(k) != v
                )
                figures.update(stage_seconds(project, "  incremental (first run)"))
        figures["incremental corpus stage s"] = statistics.median(walls)
        figures["incremental corpus stage s, fastest run"] = min(walls)
        figures["incremental corpus stage s, slowest run"] = max(walls)
        wall, _, _ = run(mkdocs, project)
        figures["incremental mkdocs stage s"] = wall
        figures["incremental mkdocs stage pages kept"] = int(
            (project / "site-stage.json").read_text()
        )
        kept_site = snapshot(project / "site")
        # The same stage rendering every page: what it took before pages were kept, and
        # the site it makes, which must be the one that kept pages.
        wall, _, _ = run(mkdocs_all, project)
        figures["incremental mkdocs stage s, every page rendered"] = wall
        figures["incremental site with kept pages = every page rendered (1 = yes)"] = float(
            kept_site == snapshot(project / "site")
        )
        del kept_site
        wall, _, _ = run(index, project)
        figures["incremental search index stage s"] = wall
        site_after = snapshot(project / "site")
        figures["incremental site files rewritten"] = sum(
            1 for k, v in site_after.items() if site_before.get(k) != v
        )
    finally:
        changed.write_bytes(original)

    # A whole rebuild with nothing changed, as build_corpus.py runs it (all stages): the
    # first run puts the changed file back and records the search index (the stages above
    # run alone, and do not), the second is the one timed.
    whole = [*build, "--accept-changed", vid]
    run(whole, project)
    wall, _, _ = run(whole, project)
    report = json.loads((project / "build-report.json").read_text())
    figures["unchanged rebuild, all stages s"] = wall
    figures["unchanged rebuild, pages kept"] = report["site_pages_kept"]
    figures["unchanged rebuild, search index kept (1 = yes)"] = float(report["search_index_kept"])

    if not args.no_browser:
        figures.update(browser_search(project / "site", ["minister", "the"]))

    smaller = Path("/tmp/corpus-bench-1000/figures.json")
    if args.versions > 1000 and smaller.is_file():
        at_1000 = json.loads(smaller.read_text())["median version page KB"]
        figures["median version page growth vs 1,000 %"] = 100 * (
            figures["median version page KB"] / at_1000 - 1
        )

    indexer = pagefind_version()
    print(f"\n{args.versions} versions ({work}); targets are those for 10,000 versions")
    print(f"  search index made by {indexer}")
    print_figures(figures)
    if program(project) != fingerprint:
        # The cache keys hold the code's fingerprint: the rebuilds started from nothing.
        print(
            "  VOID: corpus_site/ changed while this ran, so the rebuild figures are those "
            "of builds without a cache; run it from a worktree (bench/README.md)"
        )
    (work / "figures.json").write_text(json.dumps({**figures, "indexer": indexer}, indent=2))
    remove_set_aside(work)


def pagefind_version() -> str:
    """The Pagefind that made the index ("pagefind 1.5.2"): the one installed with the
    project, or the binary PAGEFIND_BINARY_PATH names (README, Search)."""
    done = subprocess.run(
        [sys.executable, "-m", "pagefind", "--version"], capture_output=True, text=True
    )
    return done.stdout.strip() or done.stderr.strip()[-200:]


def print_figures(figures: dict[str, float]) -> None:
    """One line per figure, with its ratio to the target where it has one."""
    for name, value in figures.items():
        target = TARGETS.get(name)
        ratio = f"   {value / target:5.2f} x target {target:g}" if target else ""
        print(f"  {name:56} {value:12.2f}{ratio}")


if __name__ == "__main__":
    main()
