"""Notices (受理通知书, 不予受理通知书, 补正材料通知书, 办理结果通知书): signed with the department's SM2
key, printable as PDF with a QR code that anyone can check at ``/onestop/notices/<number>/``."""

import io

import orjson
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from smartgov.accounts.selectors import public_key
from smartgov.accounts.services import signing_key_for
from smartgov.core.pdf import CJK, draw_qr, draw_seal, register_cjk_font

from .models import Application, Notice, NoticeKind


def _canonical(content: dict) -> bytes:
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


def issue_notice(app: Application, kind: str, *, body: str, extra: dict | None = None) -> Notice:
    """Write and sign a notice (inside the caller's transaction)."""
    number = f"{app.number}-{kind[:3].upper()}{app.notices.filter(kind=kind).count() + 1}"
    content = {"number": number, "kind": kind, "title": NoticeKind(kind).label, "application": app.number,
               "item": app.item.name, "applicant": app.applicant_name, "department": app.department.name,
               "issued_on": timezone.localdate().isoformat(), "body": body, **(extra or {})}
    key_id, private = signing_key_for(app.department)
    signed = _canonical(content)
    return Notice.objects.create(application=app, kind=kind, number=number, content=content,
                                 signed_content=signed.decode(), signature=private.sign(signed).hex(), key_id=key_id)


def verify_notice(notice: Notice) -> bool:
    key = public_key(notice.key_id)
    return bool(key and _canonical(notice.content) == notice.signed_content.encode()
                and key.verify(bytes.fromhex(notice.signature), notice.signed_content.encode()))


def render_notice_pdf(notice: Notice, verify_url: str) -> bytes:
    register_cjk_font()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4)
    width, height = A4
    c = notice.content
    canvas.setTitle(f"{c['title']} {c['number']}")
    canvas.setFont(CJK, 20)
    canvas.drawCentredString(width / 2, height - 30 * mm, c["title"])
    canvas.setFont(CJK, 11)
    canvas.drawRightString(width - 20 * mm, height - 40 * mm, f"编号：{c['number']}")
    y = height - 55 * mm
    rows = [("申请人", c["applicant"]), ("申请事项", c["item"]), ("办件编号", c["application"])]
    if notice.kind == NoticeKind.ACCEPTANCE and notice.application.query_code:
        # printed, never signed: the signed content is shown to anyone who checks the notice online
        code = notice.application.query_code
        rows.append(("查询码", f"{code[:4]}-{code[4:]}（凭办件编号和查询码可在“办件查询”查看进度）"))
    for label, value in rows:
        canvas.drawString(25 * mm, y, f"{label}：{value}")
        y -= 8 * mm
    y -= 4 * mm
    for paragraph in c["body"].split("\n"):
        line = ""
        for ch in paragraph:
            line += ch
            if canvas.stringWidth(line, CJK, 11) > width - 55 * mm:
                canvas.drawString(25 * mm, y, line)
                y, line = y - 7 * mm, ""
        canvas.drawString(25 * mm, y, line)
        y -= 9 * mm
    for entry in c.get("list", []):
        canvas.drawString(30 * mm, y, f"• {entry}")
        y -= 7 * mm
    canvas.drawRightString(width - 25 * mm, 70 * mm, c["department"])
    canvas.drawRightString(width - 25 * mm, 62 * mm, c["issued_on"])
    draw_seal(canvas, c["department"], x=width - 48 * mm, y=68 * mm, radius=20 * mm)  # appearance only
    draw_qr(canvas, verify_url, x=25 * mm, y=30 * mm, size=35 * mm)
    canvas.setFont(CJK, 8)
    canvas.drawString(25 * mm, 25 * mm, "扫码核验本文书真伪（SM2 电子签名）")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
