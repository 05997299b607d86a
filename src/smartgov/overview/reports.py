"""The 运行报告: a department's figures drawn as a PDF (reportlab, the embedded Noto Sans SC of core/pdf.py) and an
Excel workbook (openpyxl) — the figures of every installed app, the 7-day trend as a chart, and the top issues
(the open alerts, red first). Pure drawing: what to draw comes from ``selectors.snapshot``; keeping, scheduling
and sending are in ``services`` and ``tasks``."""

import datetime
import io

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from smartgov.core.pdf import CJK, register_cjk_font

PERIOD_NAMES = {"week": "周报", "month": "月报"}
TOP_ISSUES = 10
LINE_COLOURS = ["#1f6feb", "#d0021b", "#2da44e", "#bf8700", "#8250df", "#0a7ea4", "#cf222e", "#57606a"]


def period_bounds(period: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last complete period before ``today``: the week Monday–Sunday, or the calendar month (inclusive)."""
    if period == "week":
        end = today - datetime.timedelta(days=today.weekday() + 1)
        return end - datetime.timedelta(days=6), end
    if period == "month":
        end = today.replace(day=1) - datetime.timedelta(days=1)
        return end.replace(day=1), end
    raise ValueError(period)


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)


def _change(ind: dict, against: str) -> str:
    if ind.get(against) is None or ind.get("value") is None:
        return ""
    d = ind["value"] - ind[against]
    if isinstance(d, float):
        d = round(d, 2)
    return f"+{d}" if d > 0 else str(d)


def rows(snapshot: dict) -> list[dict]:
    """One row per indicator: app name, indicator name, value, unit, change against yesterday and last week."""
    out = []
    for group in snapshot["apps"]:
        for ind in group["indicators"]:
            # a status (the audit chain) is reported in its words, with when it was established
            text = ind.get("text") or ""
            if text and ind.get("note"):
                text = f"{text}（{ind['note']}）"
            out.append({"app": group["name"], "key": ind["key"], "name": ind["name"], "value": ind["value"],
                        "text": text, "unit": ind["unit"], "vs_yesterday": _change(ind, "yesterday"),
                        "vs_last_week": _change(ind, "last_week")})
    return out


def series(snapshot: dict) -> tuple[list[str], list[tuple[str, list]]]:
    """The trend series of every indicator that has one: (dates, [(name, values)]) over the same 7 days."""
    dates, lines = [], []
    for group in snapshot["apps"]:
        for ind in group["indicators"]:
            if ind.get("series"):
                if not dates:
                    dates = [d for d, _ in ind["series"]]
                lines.append((ind["name"], [v or 0 for _, v in ind["series"]][:len(dates)]))
    return dates, lines


def top_issues(snapshot: dict) -> list[dict]:
    """The open alerts, red before orange, newest first within a level."""
    alerts = sorted(snapshot["alerts"], key=lambda a: a.get("at") or "", reverse=True)
    alerts.sort(key=lambda a: a.get("level") != "red")
    return alerts[:TOP_ISSUES]


def title_of(department_name: str, period: str, start: datetime.date, end: datetime.date) -> str:
    return f"{department_name}运行{PERIOD_NAMES[period]}（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）"


def _chart(dates: list[str], lines: list[tuple[str, list]], width: float, height: float):
    drawing = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 40, 50, width - 60, height - 70
    chart.data = [tuple(values) for _, values in lines]
    chart.categoryAxis.categoryNames = [d[5:] for d in dates]
    chart.categoryAxis.labels.fontName = CJK
    chart.valueAxis.labels.fontName = CJK
    chart.valueAxis.valueMin = 0
    for i in range(len(lines)):
        chart.lines[i].strokeColor = HexColor(LINE_COLOURS[i % len(LINE_COLOURS)])
        chart.lines[i].strokeWidth = 1.5
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 40, 20
    legend.fontName, legend.fontSize = CJK, 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 8
    legend.deltax = 90
    legend.colorNamePairs = [(HexColor(LINE_COLOURS[i % len(LINE_COLOURS)]), name[:10])
                             for i, (name, _) in enumerate(lines)]
    drawing.add(legend)
    return drawing


def render_pdf(*, title: str, department_name: str, generated_at: datetime.datetime, snapshot: dict) -> bytes:
    register_cjk_font()
    h1 = ParagraphStyle("h1", fontName=CJK, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=CJK, fontSize=12, leading=18, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=CJK, fontSize=9, leading=13)
    small = ParagraphStyle("small", fontName=CJK, fontSize=8, leading=11, textColor=colors.grey)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=title, author="SmartGov 城市运行总览")
    story = [Paragraph(title, h1),
             Paragraph(f"范围：{department_name}及下级部门　生成时间：{generated_at:%Y-%m-%d %H:%M}", small),
             Paragraph("指标", h2)]
    table = [["应用", "指标", "数值", "单位", "较昨日", "较上周"]]
    for r in rows(snapshot):
        table.append([Paragraph(r["app"], body), Paragraph(r["name"], body),
                      Paragraph(r["text"], body) if r["text"] else _fmt(r["value"]), r["unit"],
                      r["vs_yesterday"], r["vs_last_week"]])
    t = Table(table, colWidths=[42 * mm, 52 * mm, 26 * mm, 16 * mm, 20 * mm, 20 * mm], repeatRows=1)
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), CJK), ("FONTSIZE", (0, 0), (-1, -1), 9),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                           ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0b8c4")),
                           ("ALIGN", (2, 1), (2, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(t)
    dates, lines = series(snapshot)
    if lines:
        story += [Paragraph("近 7 日趋势", h2), _chart(dates, lines, 178 * mm, 80 * mm)]
    story.append(Paragraph("重点问题", h2))
    issues = top_issues(snapshot)
    if not issues:
        story.append(Paragraph("报告期末无未处理告警。", body))
    else:
        table = [["级别", "类别", "事项", "部门", "时间"]]
        for a in issues:
            table.append(["红" if a["level"] == "red" else "橙", Paragraph(a["kind"], body), Paragraph(a["title"], body),
                          Paragraph(a.get("department_name") or "", body), (a.get("at") or "")[:16].replace("T", " ")])
        t = Table(table, colWidths=[12 * mm, 28 * mm, 70 * mm, 36 * mm, 30 * mm], repeatRows=1)
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), CJK), ("FONTSIZE", (0, 0), (-1, -1), 9),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                               ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0b8c4")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story.append(t)
    story += [Spacer(1, 6 * mm), Paragraph("指标为生成时各应用发布的数值及其近 7 日趋势；重点问题为生成时仍未处理的告警。", small)]
    doc.build(story)
    return buf.getvalue()


def render_xlsx(*, title: str, department_name: str, generated_at: datetime.datetime, snapshot: dict) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"范围：{department_name}及下级部门", f"生成时间：{generated_at:%Y-%m-%d %H:%M}"])
    ws.append([])
    ws.append(["应用", "指标", "数值", "单位", "较昨日", "较上周", "指标标识"])
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for r in rows(snapshot):
        ws.append([r["app"], r["name"], r["text"] or r["value"], r["unit"], r["vs_yesterday"], r["vs_last_week"], r["key"]])
    for col, width in zip("ABCDEFG", (28, 24, 14, 8, 10, 10, 34), strict=True):
        ws.column_dimensions[col].width = width

    trend = wb.create_sheet("趋势")
    dates, lines = series(snapshot)
    trend.append(["日期", *[name for name, _ in lines]])
    for i, day in enumerate(dates):
        trend.append([day, *[values[i] for _, values in lines]])
    if lines:
        chart = LineChart()
        chart.title = "近 7 日趋势"
        chart.height, chart.width = 9, 20
        chart.add_data(Reference(trend, min_col=2, max_col=1 + len(lines), min_row=1, max_row=1 + len(dates)),
                       titles_from_data=True)
        chart.set_categories(Reference(trend, min_col=1, min_row=2, max_row=1 + len(dates)))
        trend.add_chart(chart, f"A{len(dates) + 4}")

    issues = wb.create_sheet("重点问题")
    issues.append(["级别", "类别", "事项", "部门", "时间", "处理页面"])
    for a in top_issues(snapshot):
        issues.append(["红" if a["level"] == "red" else "橙", a["kind"], a["title"], a.get("department_name") or "",
                       (a.get("at") or "")[:16].replace("T", " "), a.get("url") or ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
