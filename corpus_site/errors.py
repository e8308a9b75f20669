"""Typed errors. The library raises them; only the CLI prints them and picks the exit code."""

from __future__ import annotations


class CorpusError(Exception):
    """Something is wrong with one file of the corpus (or the corpus as a whole, when file is "")."""

    code = "corpus-error"

    def __init__(self, file: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{file}: {message}" if file else message)
        self.file = file
        self.message = message
        if code is not None:
            self.code = code


class SourceError(CorpusError):
    """A file that cannot be read as an article (binary, empty, undecodable, too large...)."""

    code = "bad-source"


class MetadataError(CorpusError):
    """Metadata that cannot be used: malformed YAML, wrong types, an invalid id."""

    code = "bad-metadata"


class ConfigError(Exception):
    """The build cannot start: every problem with the options and manifest, reported at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class BuildError(Exception):
    """The build stopped: MkDocs failed, or the output could not be written."""


class LedgerError(BuildError):
    """The build would break the promise of a published URL; every reason, at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
