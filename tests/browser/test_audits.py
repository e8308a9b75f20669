"""The quality bars of issue 6: axe-core, LinkChecker and the Nu HTML Checker, on each site."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

import pytest
from conftest import Project

from .conftest import AXE_JS, NPM_HINT, VNU_JAR, Site, Tab, need, serve
from .helpers import axe_violations, html_pages, sample_pages, tombstones

pytestmark = pytest.mark.browser

OpenTab = Callable[..., Tab]


# axe-core ------------------------------------------------------------------------------


def audit(site: Site, open_tab: OpenTab, path: str) -> list[str]:
    """axe-core's serious and critical violations on one page of the site."""
    need(AXE_JS.is_file(), "axe-core", NPM_HINT)
    page = open_tab().page
    page.goto(site.at(path))
    page.wait_for_load_state("networkidle")
    return axe_violations(page)


@pytest.mark.parametrize("kind", ["home", "version", "group"])
def test_axe_finds_nothing_serious(site: Site, open_tab: OpenTab, kind: str) -> None:
    """No violation of impact serious or critical on the home, a version and a group page."""
    e = site.expect
    path = {"home": "", "version": f"a/{e.version}/", "group": f"g/{e.group}/"}[kind]
    violations = audit(site, open_tab, path)
    assert not violations, "\n".join(violations)


def test_axe_finds_nothing_serious_on_a_tombstone(site: Site, open_tab: OpenTab) -> None:
    """The page left at the address of a withdrawn version passes the same bar."""
    pages = tombstones(site.root)
    if not pages:
        pytest.skip(
            "this site has no tombstone page (no a/*/version.json with "
            '"withdrawn": true, no page with class "corpus-tombstone")'
        )
    violations = audit(site, open_tab, pages[0])
    assert not violations, "\n".join(violations)


# LinkChecker ---------------------------------------------------------------------------

LINKCHECKER_CONFIG = """\
[checking]
threads=4
# Our own server on loopback: no need to spare it (it sends the LinkChecker header that
# lifts the default limit of 10 requests a second).
maxrequestspersecond=200
[AnchorCheck]
"""

# LinkChecker run as root switches its effective user to "nobody" before it loads its
# plugins; where Python lives under /root (pyenv), nobody cannot read them, and the anchor
# check is silently left out. It only reads our own site on loopback, so it keeps the user
# it was started as. test_link_checker_reports_broken_links_and_anchors proves the check
# is on.
RUN_LINKCHECKER = (
    "import sys\n"
    "import linkcheck.command.linkchecker as cli\n"
    "cli.drop_privileges = lambda: None\n"
    "sys.argv[0] = 'linkchecker'\n"
    "cli.linkchecker()\n"
)


def link_check(url: str, pages: list[str], workdir: Path) -> tuple[list[str], set[str]]:
    """Crawl the site at `url` from every page; the broken links and anchors, and the
    addresses checked."""
    need(find_spec("linkcheck"), "LinkChecker", 'run `pip install -e ".[test]"`')
    config = workdir / "linkcheckerrc"
    config.write_text(LINKCHECKER_CONFIG, encoding="utf-8")
    command = [sys.executable, "-c", RUN_LINKCHECKER, "-f", str(config), "--no-status"]
    # Every page to check is a start page: links are followed one step from them (each
    # link and #anchor on them is checked), not through the whole site again.
    command += ["--recursion-level", "1", "-v", "-o", "csv/utf-8", url]
    command += [url + p for p in pages if p]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode in (0, 1), done.stderr  # 1: problems found; 2: it broke
    rows = [r for r in csv.reader(done.stdout.splitlines(), delimiter=";") if r]
    header = next(n for n, r in enumerate(rows) if r[0] == "urlname")
    columns = rows[header]
    records = [dict(zip(columns, r, strict=False)) for r in rows[header + 1 :] if len(r) > 7]
    problems = [
        f"{r['parentname']}: {r['urlname']}: {r['result']} {r['warningstring']}".strip()
        for r in records
        if r["valid"] == "False" or "Anchor" in r["warningstring"]
    ]
    checked = {r["url"].partition("#")[0] for r in records}
    return problems, checked


def test_link_checker_finds_no_broken_link_or_anchor(site: Site, tmp_path: Path) -> None:
    """Every internal link and #anchor of every page of the built site resolves (of a
    sample of its pages, every hub among them, on the 1,000-version site)."""
    e = site.expect
    always = (f"a/{e.version}/", f"g/{e.group}/", *tombstones(site.root))
    pages = sample_pages(html_pages(site.root), always)
    problems, checked = link_check(site.url, pages, tmp_path)
    assert not problems, "\n".join(problems)
    assert {site.at(p) for p in pages} <= checked


def test_link_checker_reports_broken_links_and_anchors(
    default_site: Project, tmp_path: Path
) -> None:
    """The link check above would see a broken link and a broken anchor (it is not idle)."""
    copy = tmp_path / "site"
    shutil.copytree(default_site.site, copy)
    home = copy / "index.html"
    broken = '<a href="#no-such-anchor">x</a> <a href="a/no-such-version/">y</a></article>'
    home.write_text(home.read_text("utf-8").replace("</article>", broken, 1), "utf-8")
    with serve(copy) as url:
        problems, _ = link_check(url, [], tmp_path)
    assert any("no-such-anchor" in p for p in problems), problems
    assert any("no-such-version" in p for p in problems), problems


# Nu HTML Checker -----------------------------------------------------------------------

# Material puts autocomplete="off" on its hidden toggle checkboxes (drawer, search) so that
# Firefox does not restore their state on reload; HTML allows the attribute on text-like
# inputs only. It is the theme's markup, not ours, and harmless: filtered by this exact
# message, and only on those inputs.
THEME_TOGGLE_AUTOCOMPLETE = (
    "Attribute “autocomplete” is only allowed when the input type is “color”, “date”, "
    "“datetime-local”, “email”, “hidden”, “month”, “number”, “password”, “range”, "
    "“search”, “tel”, “text”, “time”, “url”, or “week”."
)


def test_nu_html_checker_finds_no_errors(site: Site) -> None:
    """The Nu HTML Checker (vnu.jar) finds no error in any page of the built site."""
    need(shutil.which("java"), "Java", "`apt-get install -y default-jre-headless` (17 or newer)")
    need(VNU_JAR.is_file(), "The Nu HTML Checker (vnu-jar)", NPM_HINT)
    e = site.expect
    always = (f"a/{e.version}/", f"g/{e.group}/", *tombstones(site.root))
    paths = sample_pages(html_pages(site.root), always)
    pages = [site.root / (p + "index.html" if not p.endswith(".html") else p) for p in paths]
    assert len(pages) >= 5, pages
    command = ["java", "-jar", str(VNU_JAR), "--format", "json", "--stdout"]
    command += ["--exit-zero-always", *map(str, pages)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    messages = json.loads(done.stdout)["messages"]
    errors = [
        f"{m.get('url', '').partition(str(site.root))[2]}:{m.get('lastLine', '?')}: "
        f"{m['message']} [{m.get('extract', '').strip()}]"
        for m in messages
        if m["type"] != "info"
        and not (
            m["message"] == THEME_TOGGLE_AUTOCOMPLETE
            and 'class="md-toggle"' in m.get("extract", "")
        )
    ]
    assert not errors, "\n".join(errors)
