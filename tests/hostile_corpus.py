"""A corpus of messy and hostile files, one of each kind, with what must happen to each.

Written by code rather than committed, so that binary files, links and permissions are
made the same way on every machine.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

BODY = (
    "The regional council met on Monday to discuss the budget for the next year. "
    "Members agreed to spend more on schools and less on roads.\n"
)

# Text that must appear on the page literally and never become markup.
INJECTIONS = {
    "script": "<script>alert('x')</script>",
    "img": '<img src=x onerror="alert(1)">',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "js_link": '<a href="javascript:alert(1)">click</a>',
    "comment": "<!-- hidden comment --> visible",
    "md_link": "[a link](https://evil.example/) and ![an image](https://evil.example/x.png)",
    "md_heading": "# Not a heading",
    "md_table": "| a | b |\n|---|---|\n| 1 | 2 |",
    "admonition": '!!! danger "Not an admonition"',
    "jinja": "{{ config.site_name }} {% if true %}yes{% endif %}",
    "attr_list": 'Click me {: onclick="alert(1)" }',
    "entity": "&lt;b&gt;not bold&lt;/b&gt; &amp; co",
}


def make_hostile_corpus(folder: Path) -> dict[str, str]:
    """Write the corpus into folder; return {corpus path: expected outcome}: "published",
    or the code of the problem that keeps the file out."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}

    def put(name: str, data: bytes | str, outcome: str = "published") -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        expected[name] = outcome

    # Encodings and line ends.
    put("enc/utf8.txt", "Plain UTF-8 headline\n\n" + BODY)
    put("enc/utf8-bom.txt", b"\xef\xbb\xbf" + ("BOM headline\n\n" + BODY).encode())
    put("enc/utf16-bom.txt", ("UTF-16 headline\n\n" + BODY).encode("utf-16"))
    put(
        "enc/cp1252-crlf.txt",
        "Price rise in caf\xe9s\r\n\r\nA coffee costs \xa33 now, up from \x93\xa32\x94, the "
        "owners said on Monday. Suppliers blame the weather.\r\n".encode("latin-1"),
    )
    put("enc/mixed-line-ends.txt", b"Mixed ends\r\n\r\nFirst paragraph.\rSecond paragraph.\n")
    put("enc/control-bytes.txt", b"Control bytes\n\nA NUL\x00 and a bell\x07 in the text.\n")
    put("enc/mojibake.txt", "Mojibake headline\n\nItâ€™s the councilâ€™s plan, said the mayor.\n")
    # Not articles.
    put("not/empty.txt", b"", "empty-file")
    put("not/whitespace.txt", b" \n\t\n  \n", "empty-file")
    put("not/png.txt", b"\x89PNG\r\n\x1a\n" + bytes(64), "binary-file")
    put("not/pdf.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "binary-file")
    put("not/gzip.txt", gzip.compress(BODY.encode(), mtime=0), "binary-file")
    put("not/too-large.txt", ("Huge\n\n" + BODY * 2000), "too-large")
    put("not/long-line.txt", "Long line\n\n" + "word " * 30_000 + "\n", "line-too-long")
    # Metadata.
    put("meta/bad-yaml.txt", "---\ntitle: [unclosed\nauthors: x\n---\n" + BODY, "bad-yaml")
    put("meta/bad-sidecar.txt", "Sidecar headline\n\n" + BODY, "bad-yaml")
    put("meta/bad-sidecar.yml", "title: ok\n  indented: wrong\n")
    expected.pop("meta/bad-sidecar.yml")
    put(
        "meta/python-tag.txt",
        "---\ntitle: !!python/object/apply:os.system ['true']\n---\n" + BODY,
        "bad-yaml",
    )
    put("meta/anchor-bomb.txt", "---\na: &a [x, x, x]\nb: [*a, *a, *a]\n---\n" + BODY, "bad-yaml")
    put(
        "meta/wrong-types.txt",
        "---\npublished: yesterday\nauthors: Jane Roe\n---\nTypes\n\n" + BODY,
    )
    put(
        "meta/unknown-fields.txt",
        "---\nbeat: politics\ndesk: [foreign, wire]\n---\nFields\n\n" + BODY,
    )
    put("meta/id-dotdot.txt", "---\nid: ../x\n---\n" + BODY, "bad-id")
    put("meta/id-slash.txt", "---\nid: a/b\n---\n" + BODY, "bad-id")
    put("meta/id-empty.txt", "---\nid: ''\n---\n" + BODY, "bad-id")
    put("meta/id-too-long.txt", "---\nid: " + "a" * 80 + "\n---\n" + BODY, "bad-id")
    put("meta/id-upper.txt", "---\nid: Not-Allowed\n---\n" + BODY, "bad-id")
    put("meta/same-id-1.txt", "---\nid: shared-id\n---\nFirst claimant\n\n" + BODY)
    put(
        "meta/same-id-2.txt",
        "---\nid: shared-id\n---\nSecond claimant\n\nOther text here.\n",
        "duplicate-id",
    )
    put("meta/lonely-group.txt", "---\ngroup: nobody-else\n---\nLonely\n\nA story of its own.\n")
    # File system.
    put("fs/deeply/nested/folder/article.txt", "Nested headline\n\n" + BODY)
    put("fs/name with spaces.txt", "Spaces headline\n\nA file name with spaces.\n")
    put("fs/čeština-ünïcödé.txt", "Unicode name\n\nA file name with non-ASCII letters.\n")
    outside = folder.parent / "outside-secret.txt"
    outside.write_text("Secret\n\nThis must never be published.\n")
    os.symlink(outside, folder / "fs" / "link-outside.txt")
    expected["fs/link-outside.txt"] = "link-outside-corpus"
    os.symlink(
        folder / "fs" / "deeply" / "nested" / "folder" / "article.txt",
        folder / "fs" / "link-inside.txt",
    )
    expected["fs/link-inside.txt"] = "duplicate-content"  # same bytes as its target
    os.symlink(folder / "fs" / "missing-target", folder / "fs" / "broken-link.txt")
    expected["fs/broken-link.txt"] = "unreadable"
    # Text that tries to become code.
    for name, text in INJECTIONS.items():
        put(f"inject/{name}.txt", f"Headline {name}\n\nBefore. {text} After.\n")
    put(
        "inject/front-matter-markers.txt",
        "Markers inside\n\nFirst part.\n---\ntitle: not metadata\n---\nLast part.\n",
    )
    put("inject/long-title.txt", "---\ntitle: " + "Very long title " * 700 + "\n---\n" + BODY)
    put("inject/newline-title.txt", '---\ntitle: "Line one\\nLine two <b>bold</b>"\n---\n' + BODY)
    return expected
