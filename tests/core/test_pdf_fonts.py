"""Every PDF carries its Chinese font (an embedded TrueType subset, not a CID font the viewer must
have), and notices and licences carry the department's seal appearance."""

import re
import shutil
import subprocess

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from smartgov.core.pdf import CJK_FILE, draw_seal


def _fonts(pdf: bytes) -> list[str]:
    return re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-_]+)", pdf)


def assert_embedded_cjk(pdf: bytes) -> None:
    fonts = _fonts(pdf)
    assert not any(b"STSong" in f for f in fonts), fonts
    assert any(re.match(rb"[A-Z]{6}\+", f) for f in fonts), fonts  # a subset (tag+name) is embedded
    assert b"/FontFile2" in pdf  # the TrueType program itself is in the file


def test_the_font_ships_with_its_licence():
    assert CJK_FILE.stat().st_size > 1_000_000
    assert "SIL Open Font License" in (CJK_FILE.parent / "OFL.txt").read_text()


def test_seal_draws_the_name_in_the_embedded_font(tmp_path):
    import io

    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=0)
    draw_seal(canvas, "示范市市场监督管理局", x=100, y=100, radius=50)
    canvas.save()
    assert_embedded_cjk(buf.getvalue())
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=buf.getvalue(), capture_output=True).stdout.decode()
        assert "电子印章" in text


@pytest.mark.django_db
def test_licence_notice_and_eid_card_pdfs_embed_the_font():
    from smartgov.eid.pdf import eid_card_pdf

    card = eid_card_pdf(name="张三", eid="E0123456789ABCDEFG", valid_from=__import__("datetime").date(2026, 1, 1),
                        valid_until=__import__("datetime").date(2036, 1, 1), issuer="示范市公安局", payload="SGE1.x")
    assert_embedded_cjk(card)
