"""Generate the ES module ``static/jsonp.mjs`` from the classic ``static/jsonp.js``,
and its declarations ``static/jsonp.d.mts`` from ``static/jsonp.d.ts``.

``jsonp.js`` is the one source of truth for the browser loader. It wraps its
code in a function so that a classic ``<script>`` defines a single global; the
code between the two marker comments is shared, and this module copies it,
dedented, into an ES module that exports ``jsonp`` and ``JsonpError`` and
creates no global. ``jsonp.d.ts`` likewise is the one source of the types: the
module's declarations are the same without the block that declares the classic
script's global. Regenerate after editing either (``make loader``)::

    python -m tests.loader_source

Tests check that the shipped ``jsonp.mjs`` and ``jsonp.d.mts`` equal
:func:`module_source` and :func:`module_declarations` of the shipped sources.
This is a development tool: it is not part of the installed package.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

STATIC_DIR = Path(__file__).parent.parent / "flask_jsonp" / "static"
CLASSIC_PATH = STATIC_DIR / "jsonp.js"
MODULE_PATH = STATIC_DIR / "jsonp.mjs"
DECLARATIONS_PATH = STATIC_DIR / "jsonp.d.ts"
MODULE_DECLARATIONS_PATH = STATIC_DIR / "jsonp.d.mts"

#: Marker comments around the shared code in ``jsonp.js``; each must start a line.
BEGIN_MARKER = "// --- BEGIN SHARED LOADER"
END_MARKER = "// --- END SHARED LOADER"

#: Marker comments around the global's declaration in ``jsonp.d.ts``.
BEGIN_GLOBAL_MARKER = "// --- BEGIN CLASSIC SCRIPT GLOBAL"
END_GLOBAL_MARKER = "// --- END CLASSIC SCRIPT GLOBAL"

MODULE_HEADER = """\
/*! flask-jsonp loader, ES module | BSD-3-Clause */
// Generated from jsonp.js by `python -m tests.loader_source`: do not edit.
// Types: jsonp.d.mts.
"""

MODULE_FOOTER = "export { jsonp, JsonpError };\n"

DECLARATIONS_HEADER = """\
// Types of jsonp.mjs. Generated from jsonp.d.ts by `python -m tests.loader_source`
// (the same, without the classic script's global): do not edit.
"""


def _marker_lines(source: str, begin_marker: str, end_marker: str) -> tuple[int, int]:
    """Return the indexes of the only lines that start with each marker."""
    lines = source.splitlines()
    found = []
    for marker in (begin_marker, end_marker):
        indexes = [
            index
            for index, line in enumerate(lines)
            if line.lstrip().startswith(marker)
        ]
        if len(indexes) != 1:
            raise ValueError(
                f"expected one {marker!r} marker line, found {len(indexes)}"
            )
        found.append(indexes[0])
    begin, end = found
    if end <= begin:
        raise ValueError(f"the {end_marker!r} marker comes before {begin_marker!r}")
    return begin, end


def module_source(classic_source: str) -> str:
    """Build the text of the ES module from the text of the classic script.

    Takes the lines strictly between the begin and end markers of
    ``classic_source``, removes their common indentation, and wraps them in a
    header that names the source and an ``export`` statement for ``jsonp`` and
    ``JsonpError``. The result depends only on ``classic_source``, so it can be
    compared with the shipped file.

    :param classic_source: The text of ``static/jsonp.js``.
    :return: The text of ``static/jsonp.mjs``, ending with a newline.
    :raises ValueError: If the markers are missing, repeated or out of order.
    """
    begin, end = _marker_lines(classic_source, BEGIN_MARKER, END_MARKER)
    lines = classic_source.splitlines(keepends=True)
    body = textwrap.dedent("".join(lines[begin + 1 : end])).strip("\n")
    return f"{MODULE_HEADER}\n{body}\n\n{MODULE_FOOTER}"


def module_declarations(classic_declarations: str) -> str:
    """Build ``jsonp.d.mts`` from ``jsonp.d.ts``: a header, then the same text
    without the marked block (markers included) that declares the global.

    :param classic_declarations: The text of ``static/jsonp.d.ts``.
    :raises ValueError: If the markers are missing, repeated or out of order.
    """
    begin, end = _marker_lines(
        classic_declarations, BEGIN_GLOBAL_MARKER, END_GLOBAL_MARKER
    )
    lines = classic_declarations.splitlines(keepends=True)
    kept = "".join(lines[:begin] + lines[end + 1 :]).rstrip("\n")
    return f"{DECLARATIONS_HEADER}\n{kept}\n"


def _write_if_changed(path: Path, text: str) -> str:
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if text == current:
        return f"{path} is up to date"
    # newline="\n" keeps the file byte-identical on Windows too.
    with path.open("w", encoding="utf-8", newline="\n") as file:
        file.write(text)
    return f"wrote {path}"


def main() -> int:
    """Rewrite ``jsonp.mjs`` and ``jsonp.d.mts`` from their sources; report what
    changed.
    """
    classic = CLASSIC_PATH.read_text(encoding="utf-8")
    print(_write_if_changed(MODULE_PATH, module_source(classic)))
    declarations = DECLARATIONS_PATH.read_text(encoding="utf-8")
    print(
        _write_if_changed(MODULE_DECLARATIONS_PATH, module_declarations(declarations))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
