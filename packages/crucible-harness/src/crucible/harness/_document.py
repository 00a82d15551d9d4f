"""A report as a list of sections of blocks, rendered to Markdown, HTML and LaTeX."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence

import attrs

__all__ = [
    "Block",
    "Bullets",
    "Code",
    "Document",
    "Figure",
    "Paragraph",
    "Section",
    "Table",
    "to_html",
    "to_latex",
    "to_markdown",
]


@attrs.frozen
class Paragraph:
    text: str


@attrs.frozen
class Bullets:
    items: tuple[str, ...]


@attrs.frozen
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@attrs.frozen
class Figure:
    """A PNG figure; ``name`` is its file stem when written beside a report."""

    name: str
    png: bytes
    caption: str


@attrs.frozen
class Code:
    text: str
    language: str = ""


Block = Paragraph | Bullets | Table | Figure | Code


@attrs.frozen
class Section:
    title: str
    blocks: tuple[Block, ...]
    level: int = 2


@attrs.frozen
class Document:
    title: str
    meta: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]


# --- Markdown ---------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_block(block: Block, figure_dir: str | None) -> str:
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        head = "| " + " | ".join(_md_cell(h) for h in block.header) + " |"
        rule = "|" + "|".join("---" for _ in block.header) + "|"
        body = ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        caption = [f"*{block.caption}*", ""] if block.caption else []
        return "\n".join([*caption, head, rule, *body])
    if isinstance(block, Figure):
        where = f"{figure_dir}/{block.name}.png" if figure_dir else f"{block.name}.png"
        return f"![{block.caption}]({where})"
    fence = "```"
    return f"{fence}{block.language}\n{block.text.rstrip()}\n{fence}"


def to_markdown(doc: Document, figure_dir: str | None = "figures") -> str:
    """Markdown; figures are referenced as ``figure_dir/<name>.png``."""
    parts = [f"# {doc.title}", ""]
    parts += [f"**{k}**: {v}  " for k, v in doc.meta]
    for section in doc.sections:
        parts += ["", "#" * section.level + " " + section.title]
        for block in section.blocks:
            parts += ["", _md_block(block, figure_dir)]
    return "\n".join(parts).rstrip() + "\n"


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#1d1d1f;line-height:1.5}
h1{border-bottom:2px solid #333;padding-bottom:.3em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
caption{caption-side:top;font-style:italic;text-align:left;padding:.3em 0}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-style:italic;color:#555}
pre{background:#f6f8fa;padding:1em;overflow-x:auto;font-size:.85em}
.meta{color:#555}.wide{overflow-x:auto;max-width:100%}
"""


def _inline(text: str) -> str:
    """Escape, then the Markdown subset the report uses: **bold**, *italic*, `code`."""
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def _html_block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{_inline(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        caption = f"<caption>{_inline(block.caption)}</caption>" if block.caption else ""
        head = "".join(f"<th>{_inline(h)}</th>" for h in block.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in block.rows
        )
        return (
            f'<div class="wide"><table>{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (
            f'<figure><img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_inline(block.caption)}</figcaption></figure>"
        )
    return f"<pre><code>{html.escape(block.text)}</code></pre>"


def to_html(doc: Document) -> str:
    """One self-contained HTML file: styles inline, figures as data-URI PNGs, no scripts."""
    meta = "".join(
        f"<div><strong>{html.escape(k)}</strong>: {html.escape(v)}</div>" for k, v in doc.meta
    )
    body = [f"<h1>{html.escape(doc.title)}</h1>", f'<div class="meta">{meta}</div>']
    for section in doc.sections:
        body.append(f"<h{section.level}>{html.escape(section.title)}</h{section.level}>")
        body += [_html_block(b) for b in section.blocks]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(doc.title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


# --- LaTeX ------------------------------------------------------------------------------------

_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_TEX_UNICODE = {
    "±": r"$\pm$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "×": r"$\times$",
    "α": r"$\alpha$",
    "−": "-",
    "–": "--",
    "—": "---",
    "✓": "yes",
    "✗": "no",
}


def tex_escape(text: str) -> str:
    out = "".join(_TEX_ESCAPES.get(ch, ch) for ch in text)
    for k, v in _TEX_UNICODE.items():
        out = out.replace(k, v)
    return "".join(ch if ord(ch) < 128 else "?" for ch in out)


def _tex_inline(text: str) -> str:
    out = tex_escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", out)
    out = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"\\emph{\1}", out)
    return re.sub(r"`(.+?)`", r"\\texttt{\1}", out)


def _tex_block(block: Block, figure_dir: str) -> str:
    if isinstance(block, Paragraph):
        return _tex_inline(block.text)
    if isinstance(block, Bullets):
        items = "\n".join(f"  \\item {_tex_inline(i)}" for i in block.items)
        return f"\\begin{{itemize}}\n{items}\n\\end{{itemize}}"
    if isinstance(block, Table):
        spec = "l" + "r" * (len(block.header) - 1)
        head = " & ".join(_tex_inline(h) for h in block.header) + r" \\"
        body = "\n".join(" & ".join(_tex_inline(c) for c in row) + r" \\" for row in block.rows)
        caption = f"\\caption*{{{_tex_inline(block.caption)}}}\n" if block.caption else ""
        return (
            "\\begin{table}[htbp]\n\\centering\\small\n"
            f"{caption}\\resizebox{{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}}"
            f"{{!}}{{\\begin{{tabular}}{{{spec}}}\n\\toprule\n{head}\n\\midrule\n{body}\n"
            "\\bottomrule\n\\end{tabular}}\n\\end{table}"
        )
    if isinstance(block, Figure):
        return (
            "\\begin{figure}[htbp]\n\\centering\n"
            f"\\includegraphics[width=0.85\\linewidth]{{{figure_dir}/{block.name}.png}}\n"
            f"\\caption{{{_tex_inline(block.caption)}}}\n\\end{{figure}}"
        )
    text = "".join(ch if ord(ch) < 128 else "?" for ch in block.text.rstrip())
    return "\\begin{lstlisting}\n" + text + "\n\\end{lstlisting}"


def to_latex(doc: Document, figure_dir: str = "figures") -> str:
    """A standalone LaTeX article (booktabs tables, graphicx figures from ``figure_dir``)."""
    meta = "\\\\\n".join(f"\\textbf{{{tex_escape(k)}}}: {tex_escape(v)}" for k, v in doc.meta)
    parts = [
        "\\documentclass[11pt]{article}",
        "\\usepackage[margin=2.2cm]{geometry}",
        "\\usepackage{booktabs}",
        "\\usepackage{caption}",
        "\\usepackage{graphicx}",
        "\\usepackage[T1]{fontenc}",
        "\\usepackage{listings}",
        "\\lstset{basicstyle=\\ttfamily\\scriptsize,breaklines=true,columns=fullflexible}",
        "\\usepackage{hyperref}",
        f"\\title{{{tex_escape(doc.title)}}}",
        "\\date{}",
        "\\sloppy",
        "\\begin{document}",
        "\\maketitle",
        "\\noindent " + meta,
    ]
    commands = {2: "section", 3: "subsection", 4: "subsubsection"}
    for section in doc.sections:
        parts.append(f"\\{commands.get(section.level, 'paragraph')}{{{tex_escape(section.title)}}}")
        parts += [_tex_block(b, figure_dir) for b in section.blocks]
    parts.append("\\end{document}")
    return "\n\n".join(parts) + "\n"


def figures_of(doc: Document) -> Sequence[Figure]:
    return [b for s in doc.sections for b in s.blocks if isinstance(b, Figure)]
