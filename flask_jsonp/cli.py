"""``flask jsonp routes``: the audit of :mod:`flask_jsonp.audit`, printed as a
table or as JSON.

The command joins the ``flask jsonp`` group of :mod:`flask_jsonp.loader`.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from collections.abc import Sequence

import click
from flask import current_app
from flask.cli import with_appcontext

from .audit import audit_app
from .audit import default_options_json
from .audit import RouteAudit

#: The width the table is laid out for: it fits a terminal of 100 columns
#: with room to spare, and a code block of the docs without a scroll bar.
TABLE_WIDTH = 88

#: Space between two columns, as ``flask routes`` leaves.
_GAP = "  "

#: Referrer allowlist entries shown in the table; the others are counted.
MAX_REFERRERS_SHOWN = 3

#: Flask 2.3 leaves ``with_appcontext`` untyped: typed here, so that the
#: command keeps its signature for mypy under every supported Flask.
_with_appcontext: Callable[[Callable[..., None]], Callable[..., None]] = with_appcontext

#: The table's columns. The options without a column of their own are
#: listed below their row when they differ from the built-in defaults.
_HEADERS = ("Endpoint", "Methods", "Rule", "Checks", "Referrers")

#: Options that have a column.
_IN_COLUMNS = ("allowed_referrers",)


@click.command("routes")
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of rows, for tools."
)
@click.option(
    "--strict", is_flag=True, help="Exit with status 1 when any warning holds."
)
@_with_appcontext
def routes_command(as_json: bool, strict: bool) -> None:
    """Show every endpoint that answers JSONP, with its effective options and
    what is wrong with its set-up.
    """
    rows = audit_app(current_app._get_current_object())  # type: ignore[attr-defined]
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], indent=2))
    else:
        click.echo(format_table(rows))
    if strict and any(row.warnings for row in rows):
        count = sum(len(row.warnings) for row in rows)
        click.echo(f"{count} warning{'' if count == 1 else 's'}.", err=True)
        raise SystemExit(1)


def format_table(rows: Sequence[RouteAudit], width: int = TABLE_WIDTH) -> str:
    """Lay ``rows`` out as an aligned table of at most ``width`` columns,
    each row followed by its other options, warnings and notes.
    """
    cells = [_cells(row) for row in rows]
    widths = _column_widths(cells, width - len(_GAP) * (len(_HEADERS) - 1))
    lines = [
        _GAP.join(
            header.ljust(size) for header, size in zip(_HEADERS, widths, strict=True)
        ).rstrip(),
        _GAP.join("-" * size for size in widths),
    ]
    defaults = default_options_json()
    for row, row_cells in zip(rows, cells, strict=True):
        wrapped = [
            [part for line in cell for part in _wrap(line, size)]
            for cell, size in zip(row_cells, widths, strict=True)
        ]
        for index in range(max(len(cell) for cell in wrapped)):
            parts = [
                (cell[index] if index < len(cell) else "").ljust(size)
                for cell, size in zip(wrapped, widths, strict=True)
            ]
            lines.append(_GAP.join(parts).rstrip())
        for label, text in _details(row, defaults):
            lines.extend(
                textwrap.wrap(
                    f"{label}: {text}",
                    width,
                    initial_indent="  ",
                    subsequent_indent="    ",
                    break_on_hyphens=False,
                )
            )
    return "\n".join(lines)


def _cells(row: RouteAudit) -> list[list[str]]:
    """The table cells of ``row``, each a list of lines."""
    options = row.as_json()
    referrers: list[str]
    if not row.answers_jsonp:
        referrers = ["-"]
    elif not options["allowed_referrers"]:
        referrers = ["any page"]
    else:
        referrers = []
        for number, allowlist in enumerate(options["allowed_referrers"]):
            shown = allowlist[:MAX_REFERRERS_SHOWN]
            if len(allowlist) > len(shown):
                shown.append(f"(+{len(allowlist) - len(shown)} more)")
            if number:
                shown[0] = f"and {shown[0]}"
            referrers.extend(shown)
    return [
        [row.endpoint],
        [", ".join(row.methods)],
        [row.rule or "(any view)"],
        ["first" if row.checks_first else "later"],
        referrers,
    ]


def _days(days_left: int) -> str:
    if days_left < 0:
        return "passed"
    if days_left == 0:
        return "today"
    return f"in {days_left} day{'s' if days_left != 1 else ''}"


def _details(row: RouteAudit, defaults: dict[str, object]) -> list[tuple[str, str]]:
    """The lines under a row: its options that differ from the built-in
    defaults and have no column, then its warnings and notes.
    """
    details = []
    if row.options is not None:
        for name, value in row.as_json().items():
            if name in defaults and name not in _IN_COLUMNS and value != defaults[name]:
                text = _text(value)
                if name == "sunset" and row.days_left is not None:
                    text = f"{text} ({_days(row.days_left)})"
                details.append((name, text))
    details += [("warning", warning) for warning in row.warnings]
    details += [("note", note) for note in row.notes]
    return details


def _text(value: object) -> str:
    """An option's JSON value as text: lists joined with commas, a list of
    allowlists with "and" (every one must accept).
    """
    if isinstance(value, list):
        if value and all(isinstance(item, list) for item in value):
            return " and ".join(_text(item) for item in value)
        return ", ".join(_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _column_widths(cells: Sequence[Sequence[Sequence[str]]], room: int) -> list[int]:
    """Each column as wide as its widest line, then the widest columns
    narrowed (not below their header) until the table fits ``room``.
    """
    widths = [len(header) for header in _HEADERS]
    for row in cells:
        for column, cell in enumerate(row):
            widths[column] = max([widths[column], *map(len, cell)])
    while sum(widths) > room:
        column = max(range(len(widths)), key=lambda index: widths[index])
        if widths[column] <= len(_HEADERS[column]):
            break
        widths[column] -= 1
    return widths


def _wrap(line: str, size: int) -> list[str]:
    if len(line) <= size:
        return [line]
    return textwrap.wrap(line, size, break_on_hyphens=False) or [""]
