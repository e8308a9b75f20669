"""Benchmark the corpus stage alone: a cold build, an unchanged rebuild, and a rebuild after
one file's text changes, each in its own process; each stage's seconds and the CPU time.

    python bench/corpus_stage.py [CORPUS] [--jobs N] [--work DIR]

CORPUS defaults to /tmp/corpus-bench-1000/corpus (bench/build.py makes it). It is copied
into the work folder (default: a new temporary one), so the one-file change never touches
it. On a machine shared with other work the wall seconds are noisy; the CPU seconds (of the
build and its workers) and --jobs 1 compare better. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import conftest as _tests  # noqa: E402


def run(project: Path, corpus: Path, jobs: int | None, *extra: str) -> dict[str, float]:
    """One corpus-stage build in its own process: wall and CPU seconds, and each stage's."""
    command = [sys.executable, str(ROOT / "build_corpus.py"), "-q", "--no-site"]
    command += ["--corpus", str(corpus), "--config", str(project / "mkdocs.yml"), *extra]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=project, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    assert process.stderr is not None
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"build failed: {process.stderr.read().decode()[-2000:]}")
    report = json.loads((project / "build-report.json").read_text())
    figures = {"wall s": wall, "cpu s": usage.ru_utime + usage.ru_stime}
    figures.update({f"  {stage} s": s for stage, s in report["seconds"].items()})
    return figures


def main() -> None:
    """Run the three builds and print their figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "corpus", nargs="?", type=Path, default=Path("/tmp/corpus-bench-1000/corpus")
    )
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="corpus-stage-"))
    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(args.corpus, corpus)
    project = work / "project"
    shutil.rmtree(project, ignore_errors=True)
    _tests.make_project(project)

    runs = {"cold": run(project, corpus, args.jobs)}
    runs["unchanged"] = run(project, corpus, args.jobs)
    files = sorted(corpus.glob("*.txt"))
    changed = files[len(files) // 2]
    changed.write_bytes(changed.read_bytes() + b"\nA correction was appended to this version.\n")
    vid = changed.stem.split("_", 1)[-1]
    runs["one file changed"] = run(project, corpus, args.jobs, "--accept-changed", vid)

    names = list(dict.fromkeys(name for figures in runs.values() for name in figures))
    print(f"{len(files)} files ({args.corpus}), jobs {args.jobs or 'one per core'}, in {work}")
    print(f"{'':34}" + "".join(f"{title:>18}" for title in runs))
    for name in names:
        cells = "".join(
            f"{runs[title][name]:18.2f}" if name in runs[title] else f"{'':18}" for title in runs
        )
        print(f"{name:34}{cells}")


if __name__ == "__main__":
    main()
