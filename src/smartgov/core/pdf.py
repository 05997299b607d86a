"""PDF and QR drawing that several apps share (licences, one-stop notices, the EID card, pages).

Chinese text uses Noto Sans SC (OFL 1.1, shipped in core/fonts/), embedded as a subset of the glyphs
each PDF uses, so every viewer shows it (a CID font such as STSong-Light is not embedded and renders
only where the reader has the Adobe Asian font pack). QR codes and seals are drawn as vectors: sharp at
any zoom, no image library needed.
"""

import math
from pathlib import Path

import segno
from reportlab.lib.colors import HexColor, black
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

CJK = "NotoSansSC"
CJK_FILE = Path(__file__).parent / "fonts" / "NotoSansSC-Regular.ttf"
_registered = False


def register_cjk_font() -> None:
    """Register the embedded CJK font once per process (call before drawing Chinese text)."""
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont(CJK, str(CJK_FILE)))
        _registered = True


def draw_seal(canvas: Canvas, name: str, *, x: float, y: float, radius: float, label: str = "电子印章") -> None:
    """The appearance of an official seal (公章样式) generated from the department's name: a red ring,
    the name along the upper arc, a star, and ``label`` below. Only an appearance: the SM2 signature in
    the QR payload is what proves the document (GB/T 38540 separates the two)."""
    register_cjk_font()
    red = HexColor("#d0021b")
    canvas.saveState()
    canvas.setStrokeColor(red)
    canvas.setFillColor(red)
    canvas.setLineWidth(radius * 0.06)
    canvas.circle(x, y, radius, stroke=1, fill=0)
    star = radius * 0.28  # five-pointed star in the centre
    points = []
    for i in range(10):
        r = star if i % 2 == 0 else star * 0.4
        a = math.pi / 2 + i * math.pi / 5
        points.append((x + r * math.cos(a), y + r * math.sin(a)))
    path = canvas.beginPath()
    path.moveTo(*points[0])
    for p in points[1:]:
        path.lineTo(*p)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)
    chars = list(name)[:24]
    size = radius * (0.30 if len(chars) <= 12 else 0.22)
    span = math.radians(min(250, 22 * len(chars)))  # the name runs over the top, left to right
    for i, ch in enumerate(chars):
        a = math.pi / 2 + span / 2 - (span * (i + 0.5) / len(chars))
        r = radius * 0.78
        canvas.saveState()
        canvas.translate(x + r * math.cos(a), y + r * math.sin(a))
        canvas.rotate(math.degrees(a) - 90)
        canvas.setFont(CJK, size)
        canvas.drawCentredString(0, -size * 0.35, ch)
        canvas.restoreState()
    canvas.setFont(CJK, radius * 0.2)
    canvas.drawCentredString(x, y - radius * 0.62, label)
    canvas.restoreState()


def draw_qr(canvas: Canvas, text: str, *, x: float, y: float, size: float, border: int = 2) -> None:
    """Draw ``text`` as a QR code (error level M) in the square at (x, y), quiet zone of ``border`` modules."""
    matrix = [list(row) for row in segno.make(text, error="m").matrix_iter(border=border)]
    module = size / len(matrix)
    canvas.setFillColor(black)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * module, y + size - (r + 1) * module, module, module, stroke=0, fill=1)


def wrap_text(text: str, width: float, font: str, size: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (character by character: Chinese has no spaces)."""
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, font, size) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


def qr_svg(text: str, *, scale: int = 3, dark: str = "#1f2937") -> str:
    """An inline SVG QR code (error level M) for a page."""
    return segno.make(text, error="m").svg_inline(scale=scale, dark=dark)
