"""受理回执: A5 receipt of a kiosk application with the case number, fee and a QR code to the ticket page
(the platform's PDF pieces in ``core.pdf``: the CID font and the vector QR drawing)."""

import io

from django.utils import timezone
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from smartgov.core.pdf import CJK as FONT
from smartgov.core.pdf import draw_qr, register_cjk_font


def receipt_pdf(ticket, ticket_url: str) -> bytes:
    register_cjk_font()
    app = ticket.application
    buf = io.BytesIO()
    w, h = A5
    c = Canvas(buf, pagesize=A5, pageCompression=1)
    c.setTitle(f"受理回执 {app.number}")
    c.setFont(FONT, 16)
    c.drawCentredString(w / 2, h - 20 * mm, f"{ticket.hall.name} 受理回执")
    c.setFont(FONT, 11)
    rows = [("办件编号", app.number), ("办理事项", app.item.name), ("申请人", app.applicant_name),
            ("排队号", ticket.number), ("渠道", "自助终端"), ("应缴费用", f"{app.fee_total} 元"),
            ("提交时间", timezone.localtime(app.submitted_at).strftime("%Y-%m-%d %H:%M") if app.submitted_at else ""),
            ("承诺时限", f"{app.item_version.parsed.promised_limit_days} 个工作日")]
    y = h - 36 * mm
    for label, value in rows:
        c.drawString(18 * mm, y, f"{label}：")
        c.drawString(45 * mm, y, str(value))
        y -= 8 * mm
    draw_qr(c, ticket_url, x=w - 54 * mm, y=18 * mm, size=36 * mm)
    c.setFont(FONT, 9)
    c.drawString(18 * mm, 24 * mm, "扫码查看排队进度与办件进度；证件出证后凭取件码自助领取。")
    c.showPage()
    c.save()
    return buf.getvalue()
