"""Markdown and HTML renderings of a gate decision (formatting happens here, never upstream)."""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["render_html", "render_markdown"]

_COLUMNS = ("requirement", "status", "estimate", "ci", "p_value", "adjusted_p_value", "power", "n")


def _num(value: Any) -> str:
    if not isinstance(value, int | float) or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.4g}"


def _rows(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in data["requirements"]:
        rows.append(
            [
                r["requirement"],
                r["status"],
                _num(r["estimate"]),
                f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]",
                _num(r["p_value"]),
                _num(r["adjusted_p_value"]),
                _num(r["power"]),
                str(r["n"]),
            ]
        )
    return rows


def _summary(data: dict[str, Any]) -> list[str]:
    mode = "sequential (anytime-valid)" if data["sequential"] else "fixed sample"
    return [
        f"Decision: **{data['decision']}** — {data['reason']}.",
        f"Design: {mode}, alpha = {data['alpha']:g}, power = {data['power']:g}, "
        f"correction = {data['correction']}; power analysis asked for {data['n_required']} items, "
        f"{data['n_planned']} planned.",
        f"Used: {data['items_used']} items, {data['trials_used']} trials, {data['looks']} looks, "
        f"${data['cost_usd']:.4f}. Run directory: `{data['run_dir']}`.",
    ]


def render_markdown(data: dict[str, Any]) -> str:
    lines = ["# Deployment gate", ""]
    lines += [f"{s}\n" for s in _summary(data)]
    lines.append("| " + " | ".join(_COLUMNS) + " |")
    lines.append("|" + "---|" * len(_COLUMNS))
    lines += ["| " + " | ".join(row) + " |" for row in _rows(data)]
    lines += ["", "## Reasons", ""]
    lines += [
        f"- `{r['requirement']}`: {r['reason']} ({r['method']})" for r in data["requirements"]
    ]
    return "\n".join(lines) + "\n"


def render_html(data: dict[str, Any]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in _COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in _rows(data)
    )
    summary = "".join(f"<p>{html.escape(s).replace('**', '')}</p>" for s in _summary(data))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Deployment gate</title></head>"
        f"<body><h1>Deployment gate</h1>{summary}<table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n"
    )
