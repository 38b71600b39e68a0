"""``ftkit report``: one data-quality report a person reads, from the one per-record table.

``build_report`` makes a ``QualityReport`` (pydantic); ``render_html`` and ``render_markdown`` are
pure renderers of it, and its JSON is ``report.model_dump_json()``. Only the HTML renderer needs
matplotlib (imported when it draws).
"""

from __future__ import annotations

from ftkit.plan.report import build_report, verdict
from ftkit.plan.report_model import QualityReport

__all__ = ["QualityReport", "build_report", "render_html", "render_markdown", "verdict"]


def render_html(report: QualityReport) -> str:
    from ftkit.render.report.html import render_html as render

    return render(report)


def render_markdown(report: QualityReport) -> str:
    from ftkit.render.report.markdown import render_markdown as render

    return render(report)
