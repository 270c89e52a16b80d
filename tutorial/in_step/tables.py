"""Render rows as a text table for the terminal (with rich) and as HTML for Jupyter."""

import io
import os
import re
import shutil
import sys
from html import escape

# A width no table reaches: piped text keeps each cell on one line, for grep and diff.
UNLIMITED = 10_000


# A column is kept at least as wide as its longest word, up to this: a dotted name
# breaks after a dot, and folds elsewhere only when a part of it has no room.
LONGEST_KEPT_WORD = 40
# Where a path may break: after each slash; a dotted name: after each dot.
PATH_PARTS = re.compile(r"[^/]+/?|/")
DOTTED_PARTS = re.compile(r"[^.]+\.?|\.")
UNDERSCORED_PARTS = re.compile(r"[^_]+_?|_")


def text_table(headers, rows, styles=None):
    """The table as text, columns separated by │.

    On a terminal it fits the terminal's width, folding long cells onto more lines, and
    it has colour unless NO_COLOR is set. Anywhere else (a pipe, a file, a notebook's
    plain text) it has no colour, and it folds only to the width COLUMNS asks for.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    on_terminal = sys.stdout.isatty()
    table = Table(box=box.MINIMAL, show_edge=False, pad_edge=False, header_style="bold")
    width = table_width(on_terminal)
    styles = styles or [None] * len(headers)
    widths = column_widths(headers, rows, width)
    for header, style, column_width in zip(headers, styles, widths, strict=True):
        table.add_column(header, overflow="fold", style=style, width=column_width)
    for row in rows:
        # Text, not str: a cell such as "[1, 2]" is data, never rich markup.
        cells = (break_at_dots(str(cell), width) for cell, width in zip(row, widths, strict=True))
        table.add_row(*map(Text, cells))
    output = io.StringIO()
    console = Console(
        file=output,
        width=width,
        # NO_COLOR asks for plain text: no colour, and no bold either.
        force_terminal=on_terminal and "NO_COLOR" not in os.environ,
        color_system="auto" if on_terminal and "NO_COLOR" not in os.environ else None,
        highlight=False,
    )
    console.print(table)
    return "\n".join(line.rstrip() for line in output.getvalue().rstrip("\n").splitlines())


def column_widths(headers, rows, width):
    """Each column's width, so that the table fits in ``width`` and no column is lost.

    Columns get their natural width when everything fits. Otherwise each starts from
    its longest word or dotted part (up to LONGEST_KEPT_WORD), the widest shrunk first
    if even those do not fit; the room left goes first to the columns that lack least,
    whole, and the rest is shared out in proportion to what each still lacks.
    """
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in headers]
    natural = [
        longest(header, cells, str.splitlines)
        for header, cells in zip(headers, columns, strict=True)
    ]
    room = width - 3 * (len(headers) - 1)  # " │ " between columns
    if sum(natural) <= room:
        return natural
    widths = [
        min(whole, LONGEST_KEPT_WORD, longest("", cells, breakable_parts))
        for whole, cells in zip(natural, columns, strict=True)
    ]
    while sum(widths) > room and max(widths) > 1:
        widths[widths.index(max(widths))] -= 1
    # The columns that lack least get their whole width first: each one that fits is
    # a column on one line. The rest share what is left, in proportion.
    spare = room - sum(widths)
    short = sorted(range(len(widths)), key=lambda column: natural[column] - widths[column])
    for column in short:
        lack = natural[column] - widths[column]
        if lack > spare:
            break
        widths[column], spare = natural[column], spare - lack
    lacking = [whole - given for whole, given in zip(natural, widths, strict=True)]
    if not sum(lacking):
        return widths
    return [
        given + spare * lack // sum(lacking) for given, lack in zip(widths, lacking, strict=True)
    ]


def breakable_parts(text):
    """The pieces a cell may be broken into: its words, cut where word_parts() cuts them."""
    return [part for word in text.split() for part in word_parts(word)]


def word_parts(word):
    """A path's folders (so "signals.py:137" stays whole), or a dotted name's parts."""
    return (PATH_PARTS if "/" in word else DOTTED_PARTS).findall(word)


def break_at_dots(text, width):
    """The text with each word too long for the column broken after dots (or slashes)."""
    return "\n".join(
        " ".join(
            word if len(word) <= width else fold_after_dots(word, width) for word in line.split(" ")
        )
        for line in text.split("\n")
    )


def fold_after_dots(word, width):
    lines, current = [], ""
    parts = word_parts(word)
    # A part still too long breaks after its underscores: note_order_ / confirmation.
    parts = [
        piece
        for part in parts
        for piece in (UNDERSCORED_PARTS.findall(part) if len(part) > width else [part])
    ]
    for part in parts:
        if current and len(current) + len(part) > width:
            lines.append(current)
            current = ""
        current += part
    return "\n".join([*lines, current])


def longest(header, cells, split):
    """The length of the longest piece of the header and cells, as ``split`` cuts them."""
    pieces = [piece for text in [header, *map(str, cells)] for piece in split(text)]
    return max(map(len, pieces), default=1) or 1


def table_width(on_terminal):
    if on_terminal:
        return shutil.get_terminal_size().columns
    return int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else UNLIMITED


def html_table(headers, rows):
    head = "".join(f"<th>{escape(str(header))}</th>" for header in headers)
    body = "".join(
        "<tr>" + "".join(f"<td><code>{html_cell(cell)}</code></td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_cell(cell):
    """Escaped text whose leading spaces survive HTML: they show a nested send's depth."""
    text = str(cell)
    indent = len(text) - len(text.lstrip(" "))
    return "&nbsp;" * indent + escape(text[indent:])
