"""Stage 1, sources: walk the corpus folder, decode each file, read its metadata, give it an ID.

The only stage besides output that touches the disk. One bad file never stops the others:
it becomes a Problem and the walk goes on.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from .config import MANIFEST_NAME, Limits, Manifest
from .errors import CorpusError, MetadataError, SourceError
from .metadata import build_metadata, check_id, load_yaml, split_front_matter
from .models import Problem, Source

if TYPE_CHECKING:
    import charset_normalizer

# NNN_<16 hex>.txt: the corpus's own naming, which carries the ID.
_NAMED_ID = re.compile(r"\d+_([0-9a-f]{16})\.txt")

# Signatures of files that are not text whatever their name says.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a ZIP archive (or Office document)"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BZh", "bzip2-compressed data"),
    (b"\x7fELF", "an executable"),
)

# Share of control characters above which decoded bytes are data, not text. Real text
# has none besides stray bytes; 30% leaves room for a short, damaged but real article.
_MAX_CONTROL_SHARE = 0.30


def list_corpus_files(corpus_dir: Path) -> list[str]:
    """Corpus-relative POSIX paths of every *.txt file, sorted; links never lead outside."""
    return list_corpus(corpus_dir).files


class CorpusListing(NamedTuple):
    """What one walk of the corpus folder found (list_corpus)."""

    files: list[str]  # corpus-relative POSIX paths of every *.txt file, sorted
    sidecars: frozenset[str]  # those of the *.yml files, _folded

    def may_have_sidecar(self, rel: str) -> bool:
        """Whether the walk found an entry that may be the sidecar of file rel: one of
        its name, ignoring case and Unicode normalization as a case-insensitive file
        system (macOS, Windows) does when it opens a name. Where it found none, opening
        the sidecar could only fail, so the build does not try (10,000 failed opens and
        stats at 10,000 files without sidecars)."""
        return _folded(sidecar_name(rel)) in self.sidecars


def list_corpus(corpus_dir: Path) -> CorpusListing:
    """list_corpus_files, and the sidecars found in the same walk."""
    found: list[str] = []
    sidecars: list[str] = []
    top = os.fspath(corpus_dir)
    for folder, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        # Strings, not Path objects: 10x faster on a corpus of 100,000 files.
        where = os.path.relpath(folder, top).replace(os.sep, "/")
        prefix = "" if where == "." else where + "/"
        # A link that leads outside is listed too: read_source reports and skips it.
        found.extend(
            prefix + name
            for name in filenames
            if not name.startswith(".") and name.endswith(".txt")
        )
        # A folder named like a sidecar is not one (read_sidecar), and os.walk lists it
        # (or a link to one) among the folders.
        folded = (_folded(prefix + name) for name in filenames)
        sidecars.extend(name for name in folded if name.endswith(".yml"))
    return CorpusListing(sorted(found), frozenset(sidecars))


def _folded(path: str) -> str:
    """A path as a case- and normalization-insensitive file system compares names."""
    return unicodedata.normalize("NFC", path).casefold()


def read_corpus(
    corpus_dir: Path,
    manifest: Manifest | None = None,
    limits: Limits | None = None,
    files: list[str] | None = None,
) -> tuple[list[Source], list[Problem]]:
    """Read every article of the corpus (or the listed files); return sources and problems.

    One process, no cache: the build reads in parallel (build.read_and_normalize) from the
    same three steps.
    """
    manifest = manifest or Manifest()
    limits = limits or Limits()
    files = list_corpus_files(corpus_dir) if files is None else files
    problems = manifest_problems(manifest, files)
    sources: list[Source] = []
    for order, rel in enumerate(files):
        source, file_problems = read_source(corpus_dir, rel, order, manifest, limits)
        problems.extend(file_problems)
        if source is not None:
            sources.append(source)
    kept, duplicate_problems = drop_duplicate_ids(sources)
    return kept, problems + duplicate_problems


def manifest_problems(manifest: Manifest, files: list[str]) -> list[Problem]:
    """Entries of corpus.yml that name no corpus file."""
    return [
        Problem(
            MANIFEST_NAME,
            "warning",
            "manifest-unknown-file",
            f"{MANIFEST_NAME} has an entry for {listed!r}, which is not in the corpus",
        )
        for listed in sorted(set(manifest.files) - set(files))
    ]


def read_source(
    corpus_dir: Path, rel: str, order: int, manifest: Manifest, limits: Limits
) -> tuple[Source | None, list[Problem]]:
    """Read one file; a file that cannot be an article gives None and an error Problem."""
    try:
        raw = read_bytes(corpus_dir, rel, limits)
    except CorpusError as exc:
        return None, [Problem(rel, "error", exc.code, exc.message)]
    return parse_source(rel, order, raw, read_sidecar(corpus_dir, rel), manifest, limits)


# A sidecar as read from disk: its bytes, the error that kept it from being read, or None
# when the file has none.
Sidecar = bytes | OSError | None


def parse_source(
    rel: str, order: int, raw: bytes, sidecar: Sidecar, manifest: Manifest, limits: Limits
) -> tuple[Source | None, list[Problem]]:
    """A file's Source from its bytes and its sidecar's (pure: the build reads the disk
    once, in the parent, and parses in worker processes)."""
    warnings: list[Problem] = []
    try:
        text, encoding, detected = decode(raw, rel)
        if detected:
            warnings.append(
                Problem(
                    rel,
                    "warning",
                    "encoding-detected",
                    f"not UTF-8; decoded as {encoding} by detection (the original bytes are "
                    "kept in source.txt; save the file as UTF-8 to be sure)",
                )
            )
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        front, text = split_front_matter(text)
        layers = [manifest.defaults, manifest.files.get(rel, {})]
        if sidecar is not None:
            layers.append(_parse_sidecar(sidecar, rel))
        if front is not None:
            layers.append(load_yaml(front, rel, where="front matter", first_line=2))
        metadata, field_warnings = build_metadata(layers, rel)
        warnings.extend(Problem(rel, "warning", code, msg) for code, msg in field_warnings)
        text, repaired = repair_mojibake(text)
        if repaired:
            warnings.append(
                Problem(
                    rel,
                    "warning",
                    "mojibake-repaired",
                    f"text that had been decoded with the wrong encoding was repaired "
                    f"({repaired[0]}); source.txt keeps the original bytes",
                )
            )
        text, dropped = drop_control_chars(text)
        # No line can be longer than the whole text: most files skip the split.
        if len(text) > limits.max_line_chars and any(
            len(line) > limits.max_line_chars for line in text.split("\n")
        ):
            raise SourceError(
                rel,
                f"a line longer than {limits.max_line_chars:,} characters: not an article",
                code="line-too-long",
            )
        if _control_share(dropped, text) > _MAX_CONTROL_SHARE:
            raise SourceError(
                rel,
                f"{dropped} control characters in {len(text) + dropped}: binary data, not text",
                code="binary-file",
            )
        if dropped:
            warnings.append(
                Problem(
                    rel,
                    "warning",
                    "control-characters",
                    f"{dropped} control character(s) dropped from the reading text "
                    "(kept in source.txt)",
                )
            )
        if not text.strip():
            raise SourceError(
                rel,
                "no text: the file is empty or holds only whitespace and metadata",
                code="empty-file",
            )
        digest = hashlib.sha256(raw).hexdigest()
        source_id, origin, id_warning = _choose_id(rel, metadata.id, digest)
        if id_warning:
            warnings.append(Problem(rel, "warning", "id-ignored", id_warning))
    except CorpusError as exc:
        return None, [*warnings, Problem(rel, "error", exc.code, exc.message)]
    return (
        Source(
            path=rel,
            order=order,
            raw=raw,
            sha256=digest,
            encoding=encoding,
            encoding_detected=detected,
            text=text,
            control_chars=dropped,
            repaired=repaired,
            id=source_id,
            id_origin=origin,
            metadata=metadata,
        ),
        warnings,
    )


def decode(raw: bytes, file: str) -> tuple[str, str, bool]:
    """Decode bytes: (text, codec name, whether the codec was detected rather than known)."""
    if not raw:
        raise SourceError(file, "empty file (0 bytes)", code="empty-file")
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            raise SourceError(
                file, f"binary file: the bytes are {kind}, not text", code="binary-file"
            )
    try:
        if raw.startswith(codecs.BOM_UTF8):
            return raw[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig", False
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return raw.decode("utf-16"), "utf-16", False
        return raw.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        pass
    best = _detect(raw)
    if best is None:
        raise SourceError(
            file,
            "undecodable: the bytes are not UTF-8 and no text encoding fits them",
            code="undecodable",
        )
    return str(best), best.encoding, True


# Among detected encodings that read the bytes about equally cleanly, prefer these: short Western
# news texts decode "cleanly" as cp1250 or cp775 too, turning £ into Ł (seen on a
# cp1252 fixture); cp1252 is by far the commonest legacy encoding of English news.
_PREFERRED = ("cp1252", "latin_1", "iso8859_15")


def _detect(raw: bytes) -> charset_normalizer.CharsetMatch | None:
    """The likeliest encoding, preferring cp1252 among equally clean readings."""
    import charset_normalizer  # only for files that are not UTF-8: 0.1 s to import

    matches = list(charset_normalizer.from_bytes(raw))
    if not matches:
        return None
    cleanest = min(m.chaos for m in matches)
    # 0.1: BBC sport/199.txt (Latin-1, one £) reads as cp932 with chaos 0.0 and as cp1252
    # with 0.083; a real misreading of cp1252 text scores far higher.
    tied = [m for m in matches if m.chaos <= cleanest + 0.1]
    for name in _PREFERRED:
        for match in tied:
            if match.encoding == name:
                return match
    return tied[0]


# Mojibake is text decoded with the wrong codec: UTF-8 read as cp1252, Latin-1 or MacRoman
# turns every non-ASCII character into two or three, at least one of them from the
# Latin-1 block (U+0080..U+00FF); cp1252 read as Latin-1 leaves C1 controls. Text with no
# such pair has nothing for ftfy to repair, and checking first saves its costly scan (1 s
# of the 4 s the BBC corpus took to read). One exception: "Â " and "Ã " are what UTF-8's
# no-break space and "à" (C2 A0, C3 A0) become once the no-break space has turned into a
# plain one, and ftfy repairs them too. A property test in tests/test_sources.py checks
# that ftfy agrees.
_MOJIBAKE_HINT = re.compile(
    "[\u0080-\u00ff][^\x00-\x7f]|[^\x00-\x7f][\u0080-\u00ff]|[\u0080-\u009f]|[\u00c2\u00c3] "
)
# Every alternative of the hint needs a character of the Latin-1 block: looking for one
# alone is a plain scan, 10x faster than the hint's alternation over the whole text.
_LATIN1_BLOCK = re.compile("[\u0080-\u00ff]")


def repair_mojibake(text: str) -> tuple[str, tuple[str, ...]]:
    """Undo text decoded with the wrong codec ("Itâ€™s" → "It’s"); say what was done."""
    if text.isascii() or not _LATIN1_BLOCK.search(text) or not _MOJIBAKE_HINT.search(text):
        return text, ()
    import ftfy  # only for text that may hold mojibake: 0.1 s to import

    fixed, steps = ftfy.fix_encoding_and_explain(text)
    if fixed == text or not steps:
        return text, ()
    how = ", ".join(f"{action} {codec}" for action, codec in steps)
    return fixed, (f"mojibake repaired ({how})",)


# Every control character (Unicode category Cc: C0, DEL, C1) but newline and tab.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def drop_control_chars(text: str) -> tuple[str, int]:
    """Remove control characters other than newline and tab; return the text and the count."""
    kept = _CONTROL.sub("", text)
    return kept, len(text) - len(kept)


def _control_share(dropped: int, text: str) -> float:
    """Share of control characters among all characters."""
    total = dropped + len(text)
    return dropped / total if total else 0.0


def read_bytes(corpus_dir: Path, rel: str, limits: Limits) -> bytes:
    """The file's bytes, after checking links, size and permissions."""
    path = os.path.join(corpus_dir, rel)
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode) and not Path(os.path.realpath(path)).is_relative_to(
            _resolved(corpus_dir)
        ):
            raise SourceError(
                rel,
                "symbolic link to a file outside the corpus folder; not followed",
                code="link-outside-corpus",
            )
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limits.max_file_bytes:
                raise SourceError(
                    rel,
                    f"{size:,} bytes, over the limit of {limits.max_file_bytes:,} "
                    "(raise it with --max-file-size if this really is one article)",
                    code="too-large",
                )
            return handle.read()
    except PermissionError:
        raise SourceError(
            rel, "cannot read the file: permission denied", code="unreadable"
        ) from None
    except OSError as exc:
        raise SourceError(rel, f"cannot read the file: {exc.strerror}", code="unreadable") from None


@functools.lru_cache(maxsize=8)
def _resolved(corpus_dir: Path) -> Path:
    """The corpus folder with its links resolved (once per build, not once per file)."""
    return corpus_dir.resolve()


# A file changed this recently before a build is read again by the next build, whatever
# its stamp says: a file rewritten within one tick of the clock that stamps files (a few
# milliseconds on Linux, 2 s on FAT, 1 s on some network disks), to the same size, would
# keep its stamp. Git treats such "racily clean" entries the same way.
RECENT_NS = 2_000_000_000


def file_stamp(
    corpus_dir: Path, rel: str, now_ns: int, sidecar: bool = True
) -> tuple[int, ...] | None:
    """What tells a build that a corpus file and its sidecar are those it read last time:
    their size, modification and change times (in ns) and inode; None when that cannot be
    told (a link, whose target may change under it; a file changed within RECENT_NS of
    now_ns; one that cannot be stat'ed), so that the file is read again.

    The build trusts a file whose stamp is the one it recorded, as make and rsync trust
    size and modification time, with two more guards: the change time, which every write
    and every restored modification time (touch -d, cp -p, rsync -t) moves and no user
    tool sets back, and RECENT_NS. sidecar: whether the file may have a sidecar
    (CorpusListing.may_have_sidecar; else none is looked for)."""
    path = os.path.join(corpus_dir, rel)
    try:
        found = os.lstat(path)
        if not stat.S_ISREG(found.st_mode):
            return None
        stamp = (found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino, found.st_dev)
        newest = max(found.st_mtime_ns, found.st_ctime_ns)
        try:
            side = os.stat(os.path.join(corpus_dir, sidecar_name(rel))) if sidecar else None
        except (FileNotFoundError, NotADirectoryError):
            side = None
        if side is not None:
            stamp += (side.st_size, side.st_mtime_ns, side.st_ctime_ns, side.st_ino, side.st_dev)
            newest = max(newest, side.st_mtime_ns, side.st_ctime_ns)
    except OSError:
        return None
    return stamp if newest < now_ns - RECENT_NS else None


def sidecar_name(rel: str) -> str:
    """The corpus-relative path of a file's sidecar: story.txt -> story.yml."""
    return rel[: -len(".txt")] + ".yml" if rel.endswith(".txt") else rel + ".yml"


def read_sidecar(corpus_dir: Path, rel: str) -> Sidecar:
    """The bytes of the sidecar <stem>.yml beside a file, None when it has none, or the
    error that kept it from being read (reported when the file is parsed)."""
    path = os.path.join(corpus_dir, sidecar_name(rel))
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        return exc


def _parse_sidecar(sidecar: bytes | OSError, rel: str) -> dict[str, object]:
    """Metadata from the sidecar <stem>.yml beside a file."""
    name = sidecar_name(rel).rsplit("/", 1)[-1]
    try:
        if isinstance(sidecar, OSError):
            raise sidecar
        text = sidecar.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(rel, f"cannot read sidecar {name}: {exc}", code="bad-yaml") from None
    return load_yaml(text, rel, where=f"sidecar {name}")


def _choose_id(rel: str, declared: str | None, digest: str) -> tuple[str, str, str | None]:
    """ID from the file name, else metadata id:, else the content hash; and any warning."""
    named = _NAMED_ID.fullmatch(rel.rsplit("/", 1)[-1])
    if named:
        if declared is not None and declared != named.group(1):
            return (
                named.group(1),
                "file name",
                (
                    f"id {declared!r} in the metadata is ignored: the file name gives {named.group(1)}"
                ),
            )
        return named.group(1), "file name", None
    if declared is not None:
        return check_id(declared, rel), "metadata", None
    return digest[:16], "content hash", None


class Identified(Protocol):
    """What drop_duplicate_ids needs of a source (a Source, or what the build keeps of one)."""

    @property
    def path(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def id_origin(self) -> str: ...


S = TypeVar("S", bound=Identified)


def drop_duplicate_ids(sources: list[S]) -> tuple[list[S], list[Problem]]:
    """Keep the first file of each ID (in sorted order); report the others, naming both."""
    first: dict[str, S] = {}
    kept: list[S] = []
    problems: list[Problem] = []
    for source in sources:
        owner = first.get(source.id)
        if owner is None:
            first[source.id] = source
            kept.append(source)
        elif owner.sha256 == source.sha256 and source.id_origin == "content hash":
            problems.append(
                Problem(
                    source.path,
                    "warning",
                    "duplicate-content",
                    f"byte-identical to {owner.path}; published once, as /a/{owner.id}/",
                )
            )
        else:
            problems.append(
                Problem(
                    source.path,
                    "error",
                    "duplicate-id",
                    f"id {source.id} is already used by {owner.path}; not published. Give "
                    "one of the two files another id (id: in its metadata, or its file name)",
                )
            )
    return kept, problems
