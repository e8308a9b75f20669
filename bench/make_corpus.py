"""Make a synthetic versioned corpus from real articles, with its ground truth.

    python bench/make_corpus.py SOURCE_DIR OUT_DIR --versions N [--seed 1]

SOURCE_DIR holds articles as text files (title on line 1, then one paragraph per line,
blank lines ignored), e.g. /work/shared/data/bbc/bbc. A file that is not UTF-8 is read as
Latin-1. Articles that share text with an earlier one (5-word shingles covering 15% or
more of the smaller of the two: duplicates, revisions, follow-ups that reuse passages) are
dropped first, so that two "different" articles of the truth are never versions of one
story, even after one of them is cut. Source paragraphs are re-cut into news-sized ones of
1-3 sentences (BBC lines hold up to ten sentences each).

OUT_DIR receives N version files ``NNNNN_<16 hex>.txt`` (several versions per article, 1-6,
in shuffled file order), a ``<stem>.yml`` sidecar with ``published:`` for about half of
them, ``truth.csv`` (file,article) and ``edits.csv`` (file, article, version, source,
published, the edits applied). Each version is the article with some of: hard wrapping at
65-75 columns with paragraph breaks lost, curly quotes and en dashes, boilerplate lines,
paragraphs added (held back from the other versions) / removed / moved / split / merged, a
cut to the first paragraphs, corrected words, and the headline rewritten or dropped.

When N needs more articles than the source has, new articles are recombined from sentences:
all sentences of the kept articles (deduplicated, 4-40 words) are shuffled, and each new
article takes the next 8-30 of them, grouped 1-3 to a paragraph. A pass through the
shuffled pool uses each sentence once, so two new articles of one pass share no sentence.
The next pass reshuffles, and replaces every fourth word of each sentence (from a random
offset) by a random word of the pool, so no run of 5 words of a sentence survives from one
pass to another: unrelated articles share no text beyond the odd common phrase, however
many passes a large N needs (the text reads worse, its word statistics stay those of news).

The same arguments always give byte-identical files: every random choice comes from a
random.Random seeded with a string built from --seed, and nothing depends on the clock or
on hash order. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

WORD = re.compile(r"[a-z0-9]+")
# A space after a full stop (or after a quote closing a sentence), before a capital or quote.
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"']))\s+(?=[\"'A-Z0-9])")
VERSIONS_PER_ARTICLE = (1, 2, 3, 4, 5, 6)
VERSION_WEIGHTS = (22, 26, 20, 14, 10, 8)  # mean about 2.9 versions per article
OUTLETS = ("the Courier", "Metro Wire", "Daily Ledger", "the Observer-Post", "News24 Live")
HEADLINE_REWRITES = (
    "UPDATE: {t}",
    "{t}, officials say",
    "{t} – latest",
    "Breaking: {t}",
    "{t}: what we know",
)


@dataclass
class Article:
    """One story: a title, its paragraphs, and paragraphs held back for 'added' edits."""

    title: str
    paragraphs: list[str]
    extra: list[str] = field(default_factory=list)
    source: str = "recombined"


def read_articles(source_dir: Path) -> list[Article]:
    """Every article of SOURCE_DIR in sorted path order (UTF-8, else Latin-1)."""
    articles = []
    for path in sorted(source_dir.rglob("*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        lines = [" ".join(line.split()) for line in text.splitlines()]
        lines = [line for line in lines if line]
        if len(lines) >= 3:
            rel = path.relative_to(source_dir).as_posix()
            articles.append(Article(lines[0], lines[1:], source=rel))
    return articles


def shingle_set(paragraphs: list[str]) -> set[str]:
    """Lower-cased word 5-grams of the paragraphs, as one stream."""
    words = WORD.findall(" ".join(paragraphs).lower())
    return {" ".join(words[i : i + 5]) for i in range(len(words) - 4)}


def drop_duplicates(articles: list[Article], limit: float = 0.15) -> list[Article]:
    """Keep articles whose shingles cover less than `limit` of any kept earlier one."""
    owners: dict[str, list[int]] = defaultdict(list)
    kept: list[Article] = []
    sizes: list[int] = []
    for article in articles:
        shingles = shingle_set(article.paragraphs)
        if len(shingles) < 20:
            continue
        shared: dict[int, int] = defaultdict(int)
        for s in shingles:
            for owner in owners.get(s, ()):
                shared[owner] += 1
        if any(n / min(len(shingles), sizes[o]) >= limit for o, n in shared.items()):
            continue
        for s in shingles:
            owners[s].append(len(kept))
        sizes.append(len(shingles))
        kept.append(article)
    return kept


def reparagraph(article: Article, rng: random.Random) -> Article:
    """Cut long paragraphs into news-sized ones of 1-3 sentences (BBC lines hold up to 10)."""
    paragraphs = []
    for paragraph in article.paragraphs:
        sentences = SENTENCE_END.split(paragraph)
        while sentences:
            size = rng.choice((1, 2, 2, 3))
            paragraphs.append(" ".join(sentences[:size]))
            sentences = sentences[size:]
    return Article(article.title, paragraphs, source=article.source)


def sentence_pool(articles: list[Article]) -> list[str]:
    """Every distinct sentence (by lower-cased words) of the articles, in order."""
    seen: set[str] = set()
    pool = []
    for article in articles:
        for paragraph in article.paragraphs:
            for sentence in SENTENCE_END.split(paragraph):
                key = " ".join(WORD.findall(sentence.lower()))
                # Very long "sentences" (team line-ups, lists) would be most of a short
                # article: shared by two new articles, they would make them alike.
                if 4 <= len(key.split()) <= 40 and key not in seen:
                    seen.add(key)
                    pool.append(sentence.strip())
    return pool


class Recombiner:
    """New articles from consecutive runs of a reshuffled sentence pool (see module doc)."""

    def __init__(self, pool: list[str], titles: list[str], seed: int) -> None:
        self.pool, self.titles, self.seed = pool, titles, seed
        self.vocabulary = sorted({w for s in pool for w in s.split() if w.isalpha()})
        self.passes = 0
        self.order: list[str] = []
        self.next = 0
        self.vary = random.Random()

    def _take(self, n: int) -> list[str]:
        if self.next + n > len(self.order):
            self.order = self.pool[:]
            random.Random(f"{self.seed}:pass:{self.passes}").shuffle(self.order)
            self.vary = random.Random(f"{self.seed}:vary:{self.passes}")
            self.passes += 1
            self.next = 0
        taken = self.order[self.next : self.next + n]
        self.next += n
        if self.passes > 1:  # a sentence seen in an earlier pass: make it new again
            taken = [self._varied(sentence) for sentence in taken]
        return taken

    def _varied(self, sentence: str) -> str:
        """Every fourth word replaced by a random word of the pool: no 5-word run survives."""
        words = sentence.split(" ")
        for i in range(self.vary.randrange(4), len(words), 4):
            words[i] = self.vary.choice(self.vocabulary)
        return " ".join(words)

    def article(self, rng: random.Random) -> Article:
        """One new article: 8-30 sentences, 1-3 to a paragraph, a spliced title."""
        sentences = self._take(rng.randint(8, 30))
        paragraphs = []
        while sentences:
            size = rng.choice((1, 2, 2, 3))
            paragraphs.append(" ".join(sentences[:size]))
            sentences = sentences[size:]
        a, b = rng.sample(self.titles, 2)
        a_words, b_words = a.split(), b.split()
        title = " ".join(a_words[: max(1, len(a_words) // 2)] + b_words[len(b_words) // 2 :])
        return Article(title, paragraphs)


def hold_back(article: Article, rng: random.Random) -> Article:
    """Hold back one late paragraph of a long article: later versions may 'add' it."""
    if len(article.paragraphs) < 6:
        return article
    at = rng.randrange(len(article.paragraphs) // 2, len(article.paragraphs))
    paragraphs = article.paragraphs[:at] + article.paragraphs[at + 1 :]
    return Article(article.title, paragraphs, [article.paragraphs[at]], article.source)


def curl(text: str) -> str:
    """Curly quotes and en dashes, as a word processor or a CMS would set them."""
    out = []
    for i, ch in enumerate(text):
        before = text[i - 1] if i else " "
        if ch == '"':
            out.append("\u201c" if before.isspace() or before in "([" else "\u201d")
        elif ch == "'":
            out.append("\u2018" if before.isspace() or before in "([" else "\u2019")
        else:
            out.append(ch)
    return "".join(out).replace(" - ", " \u2013 ")


def correct_word(paragraph: str, rng: random.Random) -> str:
    """Change one longer word (a typo made or fixed): swap two of its inner letters."""
    words = paragraph.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not spots:
        return paragraph
    i = rng.choice(spots)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def wrap(paragraph: str, width: int) -> list[str]:
    """Greedy hard wrap at `width` columns (a long word gets a line of its own)."""
    lines, line = [], ""
    for word in paragraph.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def make_version(
    article: Article, version: int, other_titles: list[str], rng: random.Random
) -> tuple[str, list[str]]:
    """The text of one version of the article, and the names of the edits applied."""
    paras = list(article.paragraphs)
    edits = []
    if version > 0 and len(paras) >= 6 and rng.random() < 0.08:
        keep = max(3, round(len(paras) * rng.uniform(0.45, 0.8)))
        edits.append(f"cut:{keep}/{len(paras)}")
        paras = paras[:keep]
    if article.extra and rng.random() < 0.4:
        at = rng.randrange(max(1, len(paras) // 2), len(paras) + 1)
        paras.insert(at, article.extra[0])
        edits.append("add")
    if len(paras) >= 6 and rng.random() < 0.3:
        # An edition drops a paragraph or, from a long story, two.
        for _ in range(1 if len(paras) < 12 else rng.randint(1, 2)):
            paras.pop(rng.randrange(1, len(paras)))
        edits.append("remove")
    if len(paras) >= 4 and rng.random() < 0.2:
        paras.insert(rng.randrange(len(paras)), paras.pop(rng.randrange(len(paras))))
        edits.append("move")
    splittable = [i for i, p in enumerate(paras) if len(SENTENCE_END.split(p)) >= 2]
    if splittable and rng.random() < 0.2:
        i = rng.choice(splittable)
        pieces = SENTENCE_END.split(paras[i])
        cut = rng.randrange(1, len(pieces))
        paras[i : i + 1] = [" ".join(pieces[:cut]), " ".join(pieces[cut:])]
        edits.append("split")
    if len(paras) >= 4 and rng.random() < 0.2:
        i = rng.randrange(len(paras) - 1)
        paras[i : i + 2] = [paras[i] + " " + paras[i + 1]]
        edits.append("merge")
    if rng.random() < 0.4:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(paras))
            paras[i] = correct_word(paras[i], rng)
        edits.append("correct")
    title: str | None = article.title
    roll = rng.random()
    if version > 0 and roll < 0.2:
        title = rng.choice(HEADLINE_REWRITES).format(t=article.title)
        edits.append("title:rewritten")
    elif version > 0 and roll < 0.3:
        title = None
        edits.append("title:dropped")
    if rng.random() < 0.4:
        lines = [
            f"Read more: {rng.choice(other_titles)}",
            f"Follow {rng.choice(OUTLETS)}'s live updates",
            "Advertisement",
            "Share this article",
        ]
        for line in rng.sample(lines, rng.randint(1, 3)):
            paras.insert(rng.randrange(1, len(paras) + 1), line)
        edits.append("boilerplate")
    if rng.random() < 0.5:
        paras = [curl(p) for p in paras]
        title = curl(title) if title else title
        edits.append("typography")
    layout = rng.choices(("wrapped", "clean", "title-attached"), (45, 35, 20))[0]
    if layout == "wrapped":
        width = rng.randint(65, 75)
        edits.append(f"layout:wrapped:{width}")
        body = [line for p in paras for line in wrap(p, width)]
        lines = ([title, ""] if title else []) + body
    elif layout == "clean" or title is None:
        edits.append("layout:clean")
        lines = ([title, ""] if title else []) + "\n\n".join(paras).split("\n")
    else:
        edits.append("layout:title-attached")
        lines = [title, *"\n\n".join(paras).split("\n")]
    return "\n".join(lines) + "\n", edits


def published(base: datetime, version: int, rng: random.Random) -> str | None:
    """An ISO date for about half of the versions, later versions later."""
    if rng.random() < 0.5:
        return None
    when = base + timedelta(hours=version * rng.randint(2, 30))
    style = rng.randrange(3)
    if style == 0:
        return when.date().isoformat()
    if style == 1:
        return when.isoformat() + "Z"
    return (when + timedelta(hours=1)).isoformat() + "+01:00"


def main(argv: list[str] | None = None) -> int:
    """Write the corpus, truth.csv and edits.csv."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--versions", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    seed, total = args.seed, args.versions

    base = drop_duplicates(read_articles(args.source_dir))
    if not base:
        parser.error(f"no usable articles in {args.source_dir}")
    random.Random(f"{seed}:base").shuffle(base)
    titles = [a.title for a in base]
    recombiner = Recombiner(sentence_pool(base), titles, seed)

    plan = random.Random(f"{seed}:plan")
    counts: list[int] = []
    while sum(counts) < total:
        counts.append(plan.choices(VERSIONS_PER_ARTICLE, VERSION_WEIGHTS)[0])
    if counts:
        counts[-1] -= sum(counts) - total
    slots = [(a, v) for a, n in enumerate(counts) for v in range(n)]
    plan.shuffle(slots)
    number_of = {slot: n for n, slot in enumerate(slots)}
    digits = max(5, len(str(max(total - 1, 0))))

    args.out_dir.mkdir(parents=True, exist_ok=True)
    truth, records = [], []
    for a, n in enumerate(counts):
        rng = random.Random(f"{seed}:article:{a}")
        article = reparagraph(base[a], rng) if a < len(base) else recombiner.article(rng)
        article = hold_back(article, rng)
        base_time = datetime(2004, 1, 1) + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        for v in range(n):
            vrng = random.Random(f"{seed}:article:{a}:version:{v}")
            text, edits = make_version(article, v, titles, vrng)
            digest = hashlib.sha256(f"{seed}:{a}:{v}".encode()).hexdigest()[:16]
            stem = f"{number_of[(a, v)]:0{digits}d}_{digest}"
            (args.out_dir / f"{stem}.txt").write_text(text, encoding="utf-8", newline="\n")
            date = published(base_time, v, vrng)
            if date:
                (args.out_dir / f"{stem}.yml").write_text(f'published: "{date}"\n')
            label = f"article{a:06d}"
            truth.append((f"{stem}.txt", label))
            records.append((f"{stem}.txt", label, v, article.source, date or "", ";".join(edits)))
    truth.sort()
    records.sort()
    with open(args.out_dir / "truth.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([("file", "article"), *truth])
    with open(args.out_dir / "edits.csv", "w", newline="", encoding="utf-8") as f:
        header = ("file", "article", "version", "source", "published", "edits")
        csv.writer(f, lineterminator="\n").writerows([header, *records])
    print(
        f"{total} versions of {len(counts)} articles ({min(len(counts), len(base))} from "
        f"{len(base)} distinct source articles, the rest recombined in "
        f"{recombiner.passes} passes) in {args.out_dir}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
