"""`egov-bot report --html`: the editors' and management's report as one self-contained HTML page.

data.gather() reads the figures (grouped in SQL by bot.storage.reports), html.render() draws the page with
the inline SVG charts of svg.py; gaps.py is the content-gaps slot that `egov-bot kb gaps` fills.
"""

from __future__ import annotations

from bot.report.data import ReportData, gather
from bot.report.gaps import GapGroup, gap_groups, render_gaps
from bot.report.html import render

__all__ = ["GapGroup", "ReportData", "gather", "gap_groups", "render", "render_gaps"]
