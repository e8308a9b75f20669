"""The command line as a user meets it: documented options, --serve, the installed script."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import DEFAULT_CORPUS, ROOT, Project

from corpus_site.cli import parser


def test_every_option_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for action in parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert f"`{flag}" in readme, flag


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_on_loopback_and_stops(default_site: Project) -> None:
    port = free_port()
    command = [
        sys.executable,
        str(ROOT / "build_corpus.py"),
        "-q",
        "--serve",
        "--port",
        str(port),
        "--corpus",
        str(DEFAULT_CORPUS),
        "--config",
        str(default_site.root / "mkdocs.yml"),
        "--docs",
        str(default_site.docs),
        "--site",
        str(default_site.site),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        page = None
        for _ in range(100):  # up to ~20 s for the build, then the server answers
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/a/4d15c612d949296d/", timeout=2
                ) as response:
                    page = response.read().decode()
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        assert page is not None, server.stderr.read().decode() if server.poll() else "no answer"
        assert "Kiev soldiers desert to Russia" in page
        with socket.socket() as s:  # bound to loopback only: not on another address
            s.settimeout(1)
            other = socket.gethostbyname(socket.gethostname())
            if not other.startswith("127."):
                assert s.connect_ex((other, port)) != 0
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_installed_console_script_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        ["build-corpus", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    assert "--corpus DIR" in result.stdout


def test_a_mkdocs_warning_is_shown_and_reported_in_quiet_mode_too(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """-q prints only problems: a MkDocs warning is one, and build-report.json lists it."""
    about = project.docs / "about.md"
    about.write_text(about.read_text() + "\n[A page that is not there](missing-page.md)\n")
    assert project.build(DEFAULT_CORPUS, "-q") == 0
    report = json.loads((project.root / "build-report.json").read_text())
    assert any("missing-page.md" in w for w in report["mkdocs_warnings"]), report
    assert "missing-page.md" in capsys.readouterr().err
