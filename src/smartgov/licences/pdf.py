"""A printable rendering of a licence (版式文件, after GB/T 36905's appearance requirements): A4, the
title, the face fields, holder, issuer, dates, identifier and the verification QR code.

Chinese text uses the platform's embedded font (core.pdf); the identifier is set in Courier so any
text extractor reads it back exactly; the issuing department's seal appearance sits by the QR code.
"""

import io

from reportlab.lib.colors import HexColor, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from smartgov.core.pdf import CJK, draw_qr, draw_seal, register_cjk_font, wrap_text

from . import selectors
from .models import Licence, LicenceStatus

RED = HexColor("#b91c1c")


def render_licence_pdf(licence: Licence) -> bytes:
    register_cjk_font()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{licence.licence_type.name} {licence.identifier}")
    canvas.setAuthor(licence.department.name)
    canvas.setSubject("电子证照 SmartGov")
    width, height = A4
    left, right = 22 * mm, width - 22 * mm

    canvas.setStrokeColor(RED)
    canvas.setLineWidth(2)
    canvas.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)
    canvas.setLineWidth(0.5)
    canvas.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)

    canvas.setFillColor(RED)
    canvas.setFont(CJK, 30)
    canvas.drawCentredString(width / 2, height - 45 * mm, licence.licence_type.name)
    canvas.setFillColor(black)
    canvas.setFont(CJK, 11)
    canvas.drawCentredString(width / 2, height - 54 * mm, "电子证照")

    y = height - 72 * mm
    holder_label = "持证人" if licence.holder_person_id else "持证主体"
    id_label = "身份证号（脱敏）" if licence.holder_person_id else "统一社会信用代码"
    rows = [(holder_label, licence.holder_name), (id_label, licence.holder_public_id)]
    labels = {f["key"]: f["label"] for f in licence.licence_type.field_template}
    rows += [(labels.get(key, key), value) for key, value in licence.data.items()]
    rows += [
        ("发证机关", licence.department.name),
        ("签发日期", licence.issued_on.isoformat()),
        ("有效期", f"{licence.valid_from.isoformat()} 至 "
                   f"{licence.valid_until.isoformat() if licence.valid_until else '长期'}"),
        ("可信等级", licence.get_trust_level_display()),
    ]
    status = licence.effective_status()
    if status != LicenceStatus.VALID:
        rows.append(("状态", f"{LicenceStatus(status).label} {licence.revocation_reason}".strip()))
    value_x, value_width = left + 42 * mm, right - left - 42 * mm
    for label, value in rows:
        canvas.setFont(CJK, 12)
        canvas.setFillColor(HexColor("#6b7280"))
        canvas.drawString(left, y, label)
        canvas.setFillColor(black)
        for line in wrap_text(str(value), value_width, CJK, 13) or [""]:
            canvas.setFont(CJK, 13)
            canvas.drawString(value_x, y, line)
            y -= 7 * mm
        y -= 2 * mm

    qr_size = 55 * mm
    qr_y = 40 * mm
    draw_qr(canvas, selectors.verify_url(licence), x=right - qr_size, y=qr_y, size=qr_size)
    draw_seal(canvas, licence.department.name, x=left + 30 * mm, y=qr_y + qr_size / 2, radius=21 * mm)
    canvas.setFont(CJK, 9)
    canvas.drawCentredString(right - qr_size / 2, qr_y - 5 * mm, "扫码核验证照真伪")

    canvas.setFont(CJK, 10)
    canvas.drawString(left, qr_y + 30 * mm, "证照标识")
    canvas.setFont("Courier", 8.5)
    canvas.drawString(left, qr_y + 24 * mm, licence.identifier)
    canvas.setFont(CJK, 9)
    canvas.setFillColor(HexColor("#6b7280"))
    canvas.drawString(left, qr_y + 16 * mm, f"SM2签名，密钥ID {licence.key_id}")
    canvas.drawString(left, qr_y + 10 * mm, "本证照由发证机关以SM2数字签名签发，扫描二维码可离线或在线核验。")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
