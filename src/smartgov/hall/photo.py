"""Checks of a digital photo against 《出入境证件相片照相指引》 (公安部出入境管理局), with Pillow and numpy.

Rules checked (each a stable code with a Chinese message):

- ``format``: JPEG, 24-bit RGB;
- ``file_size``: 20 KB – 80 KB;
- ``pixels``: width 354–480, height 472–640;
- ``aspect``: width : height = 3 : 4 (±2 %);
- ``background``: the strips beside the head are plain (per-channel standard deviation ≤ 12) and light:
  white / light grey (low saturation, brightness ≥ 198) or light blue (hue 190–225°, brightness ≥ 167);
- ``subject_missing`` / ``not_centred`` / ``head_position``: the subject (pixels unlike the background)
  is centred horizontally (its centre of mass within 8 % of the width from the middle) and the top of
  the head lies 2–15 % of the height below the top edge (the guide: 3–5 mm of 48 mm).

It is a quality gate before an officer's look, not face recognition: it finds the subject's silhouette
against the plain background, which is what the guide's centring and margin rules are about.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

MIN_BYTES, MAX_BYTES = 20 * 1024, 80 * 1024
WIDTH, HEIGHT = (354, 480), (472, 640)


@dataclass
class Problem:
    code: str
    message: str


def _hsv(rgb: np.ndarray) -> tuple[float, float, float]:
    r, g, b = (float(x) for x in rgb)
    v = max(r, g, b)
    c = v - min(r, g, b)
    s = 0.0 if v == 0 else c / v
    if c == 0:
        h = 0.0
    elif v == r:
        h = 60 * (((g - b) / c) % 6)
    elif v == g:
        h = 60 * ((b - r) / c + 2)
    else:
        h = 60 * ((r - g) / c + 4)
    return h, s, v


def check_photo(data: bytes) -> list[Problem]:
    """Every rule the photo breaks (empty: the photo passes)."""
    problems: list[Problem] = []
    if not MIN_BYTES <= len(data) <= MAX_BYTES:
        problems.append(Problem("file_size", f"文件大小应在20KB到80KB之间（实为{len(data) / 1024:.1f}KB）"))
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError):
        return [*problems, Problem("format", "无法识别的图像文件，请上传JPEG照片")]
    if image.format != "JPEG" or image.mode != "RGB":
        problems.append(Problem("format", f"须为24位RGB真彩色JPEG（实为{image.format} {image.mode}）"))
        image = image.convert("RGB")
    w, h = image.size
    if not (WIDTH[0] <= w <= WIDTH[1] and HEIGHT[0] <= h <= HEIGHT[1]):
        problems.append(Problem("pixels", f"像素尺寸应为宽354–480、高472–640（实为{w}×{h}）"))
    if abs(w / h - 0.75) > 0.015:
        problems.append(Problem("aspect", f"宽高比应为3:4（实为{w}:{h}）"))
    pixels = np.asarray(image, dtype=np.float32)
    # the background: strips at both sides of the upper third, beside the head
    strip = max(w // 12, 4)
    sample = np.concatenate([pixels[: h // 3, :strip].reshape(-1, 3), pixels[: h // 3, -strip:].reshape(-1, 3)])
    mean, spread = sample.mean(axis=0), sample.std(axis=0)
    hue, sat, val = _hsv(mean)
    light_grey = sat <= 0.12 and val >= 198
    light_blue = 190 <= hue <= 225 and val >= 167
    if spread.max() > 12:
        problems.append(Problem("background", "背景应色彩均匀、无渐变、无阴影或其他物体"))
    elif not (light_grey or light_blue):
        problems.append(Problem("background", "背景应为白色、浅灰色或淡蓝色"))
    # the subject: pixels far from the background colour
    distance = np.sqrt(((pixels - mean) ** 2).sum(axis=2))
    subject = distance > 60
    if subject.mean() < 0.08:
        return [*problems, Problem("subject_missing", "未检测到人像，请正面免冠拍摄")]
    upper = subject[: int(h * 0.6)]
    cols = np.nonzero(upper.any(axis=0))[0]
    xs = np.nonzero(upper)[1]
    centre = xs.mean() / w if xs.size else 0.5
    if abs(centre - 0.5) > 0.08 or (cols.size and abs((cols[0] + cols[-1]) / 2 / w - 0.5) > 0.08):
        problems.append(Problem("not_centred", "人像应在相片中水平居中"))
    rows = np.nonzero(subject[:, w // 3: 2 * w // 3].mean(axis=1) > 0.2)[0]
    top = rows[0] / h if rows.size else 0.0
    if not 0.02 <= top <= 0.15:
        problems.append(Problem("head_position", f"头顶距相片上边缘应约为高度的3/48–5/48（实为{top:.0%}）"))
    return problems
