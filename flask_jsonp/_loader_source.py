"""Generate the ES module ``static/jsonp.mjs`` from the classic ``static/jsonp.js``.

``jsonp.js`` is the one source of truth for the browser loader. It wraps its
code in a function so that a classic ``<script>`` defines a single global; the
code between the two marker comments is shared, and this module copies it,
dedented, into an ES module that exports ``jsonp`` and ``JsonpError`` and
creates no global. Regenerate after editing ``jsonp.js``::

    python -m flask_jsonp._loader_source

A test checks that the shipped ``jsonp.mjs`` equals :func:`module_source` of the
shipped ``jsonp.js``.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
CLASSIC_PATH = STATIC_DIR / "jsonp.js"
MODULE_PATH = STATIC_DIR / "jsonp.mjs"

#: Marker comments around the shared code in ``jsonp.js``; each must start a line.
BEGIN_MARKER = "// --- BEGIN SHARED LOADER"
END_MARKER = "// --- END SHARED LOADER"

MODULE_HEADER = """\
/*! flask-jsonp loader, ES module | BSD-3-Clause */
// Generated from jsonp.js by `python -m flask_jsonp._loader_source`: do not edit.
// Types: jsonp.d.ts.
"""

MODULE_FOOTER = "export { jsonp, JsonpError };\n"


def _marker_line(lines: list[str], marker: str) -> int:
    """Return the index of the only line that starts with ``marker``."""
    found = [
        index for index, line in enumerate(lines) if line.lstrip().startswith(marker)
    ]
    if len(found) != 1:
        raise ValueError(
            f"expected one {marker!r} marker line in jsonp.js, found {len(found)}"
        )
    return found[0]


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

    .. versionadded:: 0.1
    """
    lines = classic_source.splitlines(keepends=True)
    begin = _marker_line(lines, BEGIN_MARKER)
    end = _marker_line(lines, END_MARKER)
    if end <= begin:
        raise ValueError("the end marker comes before the begin marker in jsonp.js")
    body = textwrap.dedent("".join(lines[begin + 1 : end])).strip("\n")
    return f"{MODULE_HEADER}\n{body}\n\n{MODULE_FOOTER}"


def main() -> int:
    """Rewrite ``static/jsonp.mjs`` from ``static/jsonp.js``; report what changed."""
    generated = module_source(CLASSIC_PATH.read_text(encoding="utf-8"))
    current = MODULE_PATH.read_text(encoding="utf-8") if MODULE_PATH.exists() else None
    if generated == current:
        print(f"{MODULE_PATH} is up to date")
        return 0
    # newline="\n" keeps the file byte-identical on Windows too.
    with MODULE_PATH.open("w", encoding="utf-8", newline="\n") as module_file:
        module_file.write(generated)
    print(f"wrote {MODULE_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
