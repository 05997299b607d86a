"""The EID card as a PDF (ID-1 card size, 85.6 × 54 mm) with the signed QR payload."""

import io

from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from smartgov.core.pdf import CJK as FONT
from smartgov.core.pdf import draw_qr, register_cjk_font


def eid_card_pdf(*, name: str, eid: str, valid_from, valid_until, issuer: str, payload: str) -> bytes:
    register_cjk_font()
    buf = io.BytesIO()
    w, h = 85.6 * mm, 54 * mm
    c = canvas.Canvas(buf, pagesize=(w, h))
    c.setTitle(f"EID {eid}")
    c.setFillColorRGB(0.72, 0.11, 0.11)
    c.rect(0, h - 10 * mm, w, 10 * mm, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont(FONT, 10)
    c.drawString(4 * mm, h - 6.5 * mm, "电子身份凭证 EID")
    c.setFillColorRGB(0.1, 0.1, 0.1)
    c.setFont(FONT, 11)
    c.drawString(4 * mm, h - 17 * mm, name)
    c.setFont(FONT, 6.5)
    lines = [f"EID：{eid}", f"有效期：{valid_from:%Y.%m.%d}–{valid_until:%Y.%m.%d}", f"签发：{issuer}",
             "扫码核验签名与状态"]
    for i, line in enumerate(lines):
        c.drawString(4 * mm, h - (23 + i * 5) * mm, line)
    draw_qr(c, payload, x=w - 37 * mm, y=3 * mm, size=34 * mm, border=4)
    c.showPage()
    c.save()
    return buf.getvalue()
