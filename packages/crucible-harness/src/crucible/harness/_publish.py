"""``write_report``: the analysis of a run written as Markdown, HTML, LaTeX, a notebook, JSON and
trial exports."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from crucible.harness._analysis import Analysis, analyze
from crucible.harness._document import figures_of, to_html, to_latex, to_markdown
from crucible.harness._errors import HarnessError
from crucible.harness._hypothesis import Hypothesis
from crucible.harness._metrics import with_metric_columns
from crucible.harness._rundir import load_run

__all__ = ["ReportFormat", "write_report"]


class ReportFormat(StrEnum):
    """Report outputs: ``md``, ``html``, ``tex``, ``ipynb``, ``json`` (the analysis), and the
    trials as ``parquet`` or ``csv``."""

    MD = "md"
    HTML = "html"
    TEX = "tex"
    IPYNB = "ipynb"
    JSON = "json"
    PARQUET = "parquet"
    CSV = "csv"


def _formats(formats: Sequence[str] | str) -> list[ReportFormat]:
    names = formats.split(",") if isinstance(formats, str) else list(formats)
    out = []
    for name in (n.strip().lower() for n in names):
        if not name:
            continue
        name = {"markdown": "md", "latex": "tex", "jupyter": "ipynb", "notebook": "ipynb"}.get(
            name, name
        )
        try:
            out.append(ReportFormat(name))
        except ValueError:
            raise HarnessError(
                f"`formats` has unknown format {name!r}; choose from "
                f"{', '.join(f.value for f in ReportFormat)}"
            ) from None
    if not out:
        raise HarnessError("`formats` is empty; give at least one of md, html, json, ...")
    return out


def write_report(
    run_dir: str | os.PathLike[str],
    formats: Sequence[str] | str = ("md", "html", "json"),
    *,
    out_dir: str | os.PathLike[str] | None = None,
    hypotheses: Sequence[Hypothesis | str] = (),
    correction: str = "holm",
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> dict[str, Path]:
    """Analyse the run in ``run_dir`` and write the requested reports.

    Args:
        formats: a list or a comma-separated string of :class:`ReportFormat` names.
        out_dir: where to write (default ``run_dir/report``); figures go to ``figures/``
            beside the Markdown and LaTeX files, the HTML file embeds them.

    Returns:
        Format name -> written path.

    Raises:
        HarnessError: an unknown format; RunDirectoryError: not a run directory.
    """
    from crucible.harness._figures import figures
    from crucible.harness._report import build_document

    wanted = _formats(formats)
    stored = load_run(run_dir)
    analysis: Analysis = analyze(
        stored, hypotheses=hypotheses, correction=correction, alpha=alpha, confidence=confidence
    )
    target = Path(out_dir) if out_dir is not None else Path(run_dir) / "report"
    target.mkdir(parents=True, exist_ok=True)
    stem = "report"
    written: dict[str, Path] = {}
    needs_doc = {ReportFormat.MD, ReportFormat.HTML, ReportFormat.TEX} & set(wanted)
    if needs_doc:
        figs = figures(analysis, with_metric_columns(stored.trials))
        doc = build_document(analysis, figs)
        if {ReportFormat.MD, ReportFormat.TEX} & set(wanted):
            (target / "figures").mkdir(exist_ok=True)
            for fig in figures_of(doc):
                (target / "figures" / f"{fig.name}.png").write_bytes(fig.png)
    for fmt in wanted:
        path = target / f"{stem}.{fmt.value}"
        if fmt is ReportFormat.MD:
            path.write_text(to_markdown(doc), encoding="utf-8")
        elif fmt is ReportFormat.HTML:
            path.write_text(to_html(doc), encoding="utf-8")
        elif fmt is ReportFormat.TEX:
            path.write_text(to_latex(doc), encoding="utf-8")
        elif fmt is ReportFormat.JSON:
            path = target / "analysis.json"
            path.write_text(
                json.dumps(analysis.to_dict(), indent=2, sort_keys=True, default=str),
                encoding="utf-8",
            )
        elif fmt is ReportFormat.IPYNB:
            import nbformat

            from crucible.harness._notebook import notebook

            nb = notebook(
                str(Path(run_dir).resolve()),
                f"Experiment Report: {analysis.experiment}",
                {"correction": correction, "alpha": alpha, "confidence": confidence},
            )
            nbformat.write(nb, str(path))  # type: ignore[no-untyped-call]
        elif fmt is ReportFormat.PARQUET:
            path = target / "trials.parquet"
            stored.trials.write_parquet(path)
        else:
            path = target / "trials.csv"
            stored.trials.write_csv(path)
        written[fmt.value] = path
    return written
