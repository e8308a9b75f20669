"""Sources: decoding, metadata layers, IDs, and files that cannot be articles."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from corpus_site import sources
from corpus_site.cache import ResultCache
from corpus_site.config import Config, Manifest
from corpus_site.reading import read_corpus as build_read_corpus
from corpus_site.sources import read_corpus

TEXT = "Headline\n\nA paragraph of the article.\n"


def problems_by_file(problems):
    return {p.file: (p.severity, p.code) for p in problems}


def test_utf8_bom_crlf_and_cp1252_decode_and_record_encoding(corpus) -> None:
    folder = corpus(
        {
            "bom.txt": b"\xef\xbb\xbfHeadline\r\n\r\nBody \xe2\x80\x9cquoted\xe2\x80\x9d.\r\n",
            "cr.txt": b"Headline\r\rOld Mac line ends.\r",
            "latin.txt": "Price rise\n\nIt costs £5 now, up from “£4”, said the café owner. "
            "The rise follows months of higher costs for suppliers across the region.\n".encode(
                "cp1252"
            ),
        }
    )
    sources, problems = read_corpus(folder)
    by = {s.path: s for s in sources}
    assert by["bom.txt"].encoding == "utf-8-sig"
    assert by["bom.txt"].text == "Headline\n\nBody “quoted”.\n"
    assert by["cr.txt"].text == "Headline\n\nOld Mac line ends.\n"
    assert by["latin.txt"].encoding_detected is True
    assert "£5" in by["latin.txt"].text and "“£4”" in by["latin.txt"].text
    assert problems_by_file(problems) == {"latin.txt": ("warning", "encoding-detected")}
    # The original bytes are kept whatever the decoding.
    assert by["latin.txt"].raw == (folder / "latin.txt").read_bytes()


def test_control_characters_are_dropped_and_counted(corpus) -> None:
    folder = corpus({"c.txt": b"Headline\n\nA\x00 bell\x07 and a tab\tstay.\n"})
    [source], problems = read_corpus(folder)
    assert source.text == "Headline\n\nA bell and a tab\tstay.\n"
    assert source.control_chars == 2
    assert [p.code for p in problems] == ["control-characters"]


def test_metadata_priority_manifest_then_sidecar_then_front_matter(corpus) -> None:
    folder = corpus(
        {
            "a.txt": "---\ntitle: From front matter\nbeat: politics\n---\n" + TEXT,
            "a.yml": "title: From sidecar\noutlet: Sidecar Times\npublished: 2014-07-27\n",
        }
    )
    manifest = Manifest(
        defaults={"language": "en", "outlet": "Default Outlet"},
        files={"a.txt": {"outlet": "Manifest Outlet", "license": "CC-BY-4.0"}},
    )
    [source], problems = read_corpus(folder, manifest)
    meta = source.metadata
    assert problems == []
    assert meta.title == "From front matter"
    assert meta.outlet == "Sidecar Times"
    assert meta.license == "CC-BY-4.0"
    assert meta.language == "en"
    assert meta.published == "2014-07-27"
    assert meta.extra == (("beat", "politics"),)
    assert source.text == TEXT  # the front matter is not reading text


def test_ids_from_file_name_metadata_and_content_hash(corpus) -> None:
    folder = corpus(
        {
            "007_0123456789abcdef.txt": TEXT,
            "named.txt": "---\nid: my-story-2\n---\n" + TEXT,
            "plain.txt": "Other headline\n\nOther text.\n",
        }
    )
    sources, problems = read_corpus(folder)
    got = {s.path: (s.id, s.id_origin) for s in sources}
    import hashlib

    digest = hashlib.sha256((folder / "plain.txt").read_bytes()).hexdigest()[:16]
    assert got == {
        "007_0123456789abcdef.txt": ("0123456789abcdef", "file name"),
        "named.txt": ("my-story-2", "metadata"),
        "plain.txt": (digest, "content hash"),
    }
    assert problems == []


def test_bad_files_are_reported_and_the_rest_still_read(corpus) -> None:
    folder = corpus(
        {
            "good.txt": TEXT,
            "empty.txt": b"",
            "blank.txt": b"  \n\n \t\n",
            "image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "doc.txt": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
            "noise.txt": bytes(range(256)) * 4,
            "yaml.txt": "---\ntitle: [unclosed\n---\n" + TEXT,
            "badid.txt": "---\nid: ../escape\n---\n" + TEXT,
            "sub/001_aaaaaaaaaaaaaaaa.txt": TEXT,
            "sub/002_aaaaaaaaaaaaaaaa.txt": "Different\n\nDifferent text.\n",
        }
    )
    sources, problems = read_corpus(folder)
    assert sorted(s.path for s in sources) == ["good.txt", "sub/001_aaaaaaaaaaaaaaaa.txt"]
    found = problems_by_file(problems)
    assert found == {
        "badid.txt": ("error", "bad-id"),
        "blank.txt": ("error", "empty-file"),
        "doc.txt": ("error", "binary-file"),
        "empty.txt": ("error", "empty-file"),
        "image.txt": ("error", "binary-file"),
        "noise.txt": ("error", "undecodable"),
        "sub/002_aaaaaaaaaaaaaaaa.txt": ("error", "duplicate-id"),
        "yaml.txt": ("error", "bad-yaml"),
    }
    messages = {p.file: p.message for p in problems}
    assert "line 2" in messages["yaml.txt"]
    assert "PNG" in messages["image.txt"] and "PDF" in messages["doc.txt"]
    assert "sub/001_aaaaaaaaaaaaaaaa.txt" in messages["sub/002_aaaaaaaaaaaaaaaa.txt"]


def test_exact_duplicate_without_a_name_id_is_published_once(corpus) -> None:
    folder = corpus({"a.txt": TEXT, "b.txt": TEXT})
    sources, problems = read_corpus(folder)
    assert [s.path for s in sources] == ["a.txt"]
    assert [(p.file, p.severity, p.code) for p in problems] == [
        ("b.txt", "warning", "duplicate-content")
    ]


def test_walk_is_sorted_recursive_and_skips_hidden(corpus) -> None:
    folder = corpus(
        {
            "b/2.txt": TEXT + "2",
            "a.txt": TEXT + "1",
            "b/1.txt": TEXT + "3",
            ".hidden/x.txt": TEXT + "4",
            "notes.md": "not an article",
        }
    )
    sources, _ = read_corpus(folder)
    assert [s.path for s in sources] == ["a.txt", "b/1.txt", "b/2.txt"]
    assert [s.order for s in sources] == [0, 1, 2]


def test_wrong_metadata_types_warn_and_keep_the_file(corpus) -> None:
    folder = corpus({"a.txt": "---\npublished: last Tuesday\nauthors: Jane Roe\n---\n" + TEXT})
    [source], problems = read_corpus(folder)
    assert source.metadata.published is None
    assert source.metadata.authors == ("Jane Roe",)
    assert sorted(p.code for p in problems) == ["bad-date", "bad-field-type"]


def test_yaml_aliases_are_refused(corpus) -> None:
    bomb = "---\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n---\n" + TEXT
    folder = corpus({"bomb.txt": bomb})
    sources, problems = read_corpus(folder)
    assert sources == []
    assert [p.code for p in problems] == ["bad-yaml"]


def test_file_over_the_size_limit_is_skipped(corpus) -> None:
    from corpus_site.config import Limits

    folder = corpus({"big.txt": TEXT * 100, "small.txt": TEXT})
    sources, problems = read_corpus(folder, limits=Limits(max_file_bytes=1000))
    assert [s.path for s in sources] == ["small.txt"]
    assert [(p.file, p.code) for p in problems] == [("big.txt", "too-large")]
    assert "--max-file-size" in problems[0].message


def test_symlink_outside_the_corpus_is_not_followed(corpus, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nDo not publish.\n")
    folder = corpus({"a.txt": TEXT})
    (folder / "link.txt").symlink_to(outside)
    sources, problems = read_corpus(folder)
    assert [s.path for s in sources] == ["a.txt"]
    assert [(p.file, p.code) for p in problems] == [("link.txt", "link-outside-corpus")]


_ANY = st.characters(codec="utf-8", exclude_categories=["Cs"])
# Where mojibake lives: ASCII, Latin-1 and the cp1252 punctuation block.
_WESTERN = st.characters(max_codepoint=0x2122, exclude_categories=["Cs"])


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=_ANY, max_size=60) | st.text(alphabet=_WESTERN, max_size=12))
@example("Í ")  # "Ã ": a no-break space that became a plain one (found by this test)
@example("a\u00a0")
def test_the_mojibake_pre_check_never_skips_a_repair(text: str) -> None:
    """repair_mojibake skips ftfy when a quick check finds no mojibake; ftfy agrees."""
    import ftfy

    from corpus_site.sources import _MOJIBAKE_HINT, repair_mojibake

    broken = text.encode("utf-8").decode("cp1252", errors="ignore")
    for candidate in (text, broken):
        if not _MOJIBAKE_HINT.search(candidate):
            assert ftfy.fix_encoding(candidate) == candidate
            assert repair_mojibake(candidate) == (candidate, ())


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["title", "published", "outlet", "authors", "n", "flag"]),
        st.one_of(
            st.text(max_size=20),
            st.integers(),
            st.booleans(),
            st.dates().map(str),
            st.lists(st.text(max_size=10), max_size=3),
        ),
        max_size=5,
    )
)
def test_libyaml_and_pure_python_yaml_read_the_same_metadata(fields: dict) -> None:
    """load_yaml reads with libyaml when it can; the values are those of the pure loader."""
    import yaml

    from corpus_site.metadata import _parse, load_yaml

    text = yaml.safe_dump(fields, allow_unicode=True)
    assert load_yaml(text, "f.txt", where="sidecar") == (
        _parse(text, "f.txt", "sidecar", yaml.SafeLoader) or {}
    )


def test_a_build_looks_for_a_sidecar_only_where_the_corpus_listing_found_one(
    corpus, monkeypatch
) -> None:
    """Reading a corpus of 10,000 files used to try to open (and stat) a sidecar beside
    each: 10,000 failed opens and 10,000 failed stats. Now only where the listing found
    an entry of the sidecar's name, ignoring case (as a case-insensitive file system
    opens names: there C.YML is the sidecar of c.txt)."""
    folder = corpus(
        {
            "a.txt": TEXT,
            "b.txt": TEXT.replace("Headline", "Another"),
            "b.yml": "outlet: The Sidecar Times\n",
            "sub/c.txt": TEXT.replace("Headline", "Third"),
            "sub/C.YML": "outlet: Upper Case\n",
            "d.txt": TEXT.replace("Headline", "Fourth"),
            "d.yml/x": "a folder named like a sidecar",
        }
    )
    listing = sources.list_corpus(folder)
    assert listing.files == ["a.txt", "b.txt", "d.txt", "sub/c.txt"]
    assert [listing.may_have_sidecar(f) for f in listing.files] == [False, True, False, True]
    looked: list[str] = []
    real_open, real_stat = open, os.stat

    def watched_open(path, *args, **kwargs):
        looked.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    def watched_stat(path, *args, **kwargs):
        looked.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(sources, "open", watched_open, raising=False)
    monkeypatch.setattr(sources.os, "stat", watched_stat)
    config = Config(folder, folder / "docs", folder / "site", folder / "mkdocs.yml", workers=1)
    reading = build_read_corpus(config, {}, ResultCache(None), None)

    # The stamp and the bytes of each, nothing beside a.txt or d.txt.
    sidecars = sorted(os.path.relpath(p, folder) for p in looked if p.endswith(".yml"))
    assert sidecars == ["b.yml", "b.yml", "sub/c.yml", "sub/c.yml"]
    outlets = {s.path: s.metadata.outlet for s in reading.summaries}
    assert outlets["b.txt"] == "The Sidecar Times"
    assert outlets["a.txt"] is None and outlets["d.txt"] is None
