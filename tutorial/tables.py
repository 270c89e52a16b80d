"""Render rows as a text table for the terminal and as HTML for Jupyter."""

from html import escape


def text_table(headers, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True))

    return "\n".join([line(headers), line("-" * width for width in widths), *map(line, rows)])


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
