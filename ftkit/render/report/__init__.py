"""The data-quality report rendered for people: one self-contained HTML page, or Markdown.

Pure renderers of ``ftkit.plan.report_model.QualityReport`` (its JSON is
``report.model_dump_json()``). The HTML page's charts are SVG written by ``charts.py`` (no drawing library).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftkit.plan.report_model import QualityReport

__all__ = ["render_html", "render_markdown"]


def render_html(report: QualityReport) -> str:
    from ftkit.render.report.html import render_html as render

    return render(report)


def render_markdown(report: QualityReport) -> str:
    from ftkit.render.report.markdown import render_markdown as render

    return render(report)
