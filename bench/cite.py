"""CPU time of formatting citations (APA and Chicago per version), before and after the
speed-ups of corpus_site/citeproc_speed.py.

    python bench/cite.py --items 2000 [--repeat 3] [--seed 1]

Makes a varied, made-up set of versions (articles in one to three versions that share a
title, four outlets, authors absent, one or several, dates, languages, original URLs) and
formats every one with `corpus_site.cite.formatted` three ways, each in a fresh process so
that every cache starts cold, as in a build without `.corpus-cache/`:

- unpatched: citeproc-py as released;
- XPath cache: only the cached XPath look-ups (what cite.py did before);
- fast: everything in citeproc_speed.

The styles are parsed before the clock starts (once per process in a build too). Prints
CPU milliseconds per version (time.process_time, not wall time: the machine is shared),
the best of `--repeat` runs, the ratios, and whether all three gave the same text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import SYNTHETIC_OUTLETS, SYNTHETIC_WORDS  # noqa: E402

from corpus_site import citeproc_speed  # noqa: E402
from corpus_site.cite import STYLES, Work, _style, csl_item, formatted  # noqa: E402

VARIANTS = ("unpatched", "XPath cache", "fast")

# The made-up corpus's words and outlets (tests/conftest.py), the words once each.
WORDS = sorted(set(SYNTHETIC_WORDS))
GIVEN = ["Jane", "John", "Ana", "Li", "Omar", "Chloé", "Sven", "Priya", "Kwame", "Marta"]
FAMILY = [
    "Roe",
    "Doe",
    "García",
    "Wei",
    "Haddad",
    "Müller",
    "O'Neil",
    "Okafor",
    "Novak",
    "Smith-Jones",
]
OUTLETS = SYNTHETIC_OUTLETS


def works(count: int, seed: int) -> list[Work]:
    """`count` made-up versions, the same for the same seed."""
    rng = random.Random(seed)
    out: list[Work] = []
    while len(out) < count:
        words = rng.sample(WORDS, rng.randint(3, 9))
        title = " ".join(words).capitalize()
        if rng.random() < 0.2:
            title = f"“{title}”, {rng.choice(WORDS)} says"
        if rng.random() < 0.1:
            title += " & " + rng.choice(WORDS) + "?"
        people = rng.choice([0, 0, 1, 1, 1, 2, 3])
        authors = tuple(f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}" for _ in range(people))
        outlet = rng.choice((*OUTLETS, None))
        day = f"{rng.randint(2000, 2020)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
        article_url = f"https://news.example.org/{len(out)}" if rng.random() < 0.7 else None
        for edition in range(rng.randint(1, 3)):
            version = f"{rng.getrandbits(64):016x}"
            published = rng.choice([day, day, f"{day}T0{edition}:30:00+01:00", None])
            out.append(
                Work(
                    id=version,
                    title=title,
                    url=f"https://corpus.example.org/a/{version}/",
                    accessed="2026-11-22",
                    site_name="News Corpus",
                    sha256=hashlib.sha256(version.encode()).hexdigest(),
                    group_url="https://corpus.example.org/g/0/",
                    authors=authors,
                    outlet=outlet,
                    published=published,
                    language=rng.choice(["en", "en", None, "de"]),
                    original_url=article_url,
                )
            )
    return out[:count]


def measure(variant: str, count: int, seed: int) -> dict[str, Any]:
    """CPU seconds to format the items one way, and a digest of what they gave."""
    items = [csl_item(w) for w in works(count, seed)]
    for name in STYLES.values():
        _style(name)  # parsed before the clock starts
    keep = {"unpatched": (), "XPath cache": ("xpath_search",)}.get(variant)
    start = time.process_time()
    if keep is None:
        texts = [formatted(item) for item in items]
    else:
        with citeproc_speed.original(keep=keep):
            texts = [formatted(item) for item in items]
    seconds = time.process_time() - start
    digest = hashlib.sha256(json.dumps(texts, sort_keys=True).encode()).hexdigest()
    return {"seconds": seconds, "digest": digest}


def main() -> None:
    """Time each variant in fresh processes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:  # one measurement, in the process the parent started
        print(json.dumps(measure(args.variant, args.items, args.seed)))
        return
    best: dict[str, float] = {}
    digests: dict[str, str] = {}
    for _ in range(args.repeat):
        for variant in VARIANTS:
            command = [sys.executable, __file__, "--variant", variant]
            command += ["--items", str(args.items), "--seed", str(args.seed)]
            result = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
            best[variant] = min(best.get(variant, float("inf")), result["seconds"])
            digests[variant] = result["digest"]
    per_item = {v: best[v] / args.items * 1000 for v in VARIANTS}
    print(f"{args.items} versions, APA and Chicago each, best CPU time of {args.repeat} runs")
    for variant in VARIANTS:
        ratio = per_item[variant] / per_item["fast"]
        print(f"  {variant:<12} {per_item[variant]:7.3f} ms per version  ({ratio:4.1f}x fast)")
    print(f"before (XPath cache) / after (fast): {per_item['XPath cache'] / per_item['fast']:.2f}x")
    same = len(set(digests.values())) == 1
    print("same text from all three:", "yes" if same else "NO")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
