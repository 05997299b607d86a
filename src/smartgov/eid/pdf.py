"""The EID card as a PDF (ID-1 card size, 85.6 × 54 mm) with the signed QR payload."""

import io

import segno
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"  # a CID font every PDF reader has: no font file to ship
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def qr_drawing(data: str, size: float) -> Drawing:
    """The QR code as vector squares (sharp at any zoom, no image library needed)."""
    qr = segno.make(data, error="m")
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix) + 8  # 4-module quiet zone on each side
    cell = size / n
    d = Drawing(size, size)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                d.add(Rect((x + 4) * cell, size - (y + 5) * cell, cell, cell, fillColor="#000000",
                           strokeColor=None, strokeWidth=0))
    return d


def eid_card_pdf(*, name: str, eid: str, valid_from, valid_until, issuer: str, payload: str) -> bytes:
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
    renderPDF.draw(qr_drawing(payload, 34 * mm), c, w - 37 * mm, 3 * mm)
    c.showPage()
    c.save()
    return buf.getvalue()
