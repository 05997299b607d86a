"""智能预审: reading an uploaded ID card or business licence offline and checking it against the form
and the register.

The engine is RapidOCR on onnxruntime (PP-OCRv4 detection and recognition models shipped inside the
``rapidocr-onnxruntime`` wheel: nothing is downloaded at run time; ADR 0006). Field extraction is rules
over the recognised lines (labels such as 姓名, 公民身份号码, 统一社会信用代码); a red seal is found by
colour. ``render_document`` draws the synthetic documents the tests and the benchmark read (random data,
rotation, blur and JPEG noise), with a CJK font from the Debian package the Makefile installs.
"""

import datetime
import io
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pypdfium2 as pdfium
from django.conf import settings
from django.utils.translation import gettext_noop
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from smartgov.core.validators import is_valid_id_number, is_valid_uscc

ENGINE_NAME = "rapidocr-onnxruntime 1.4.4 (PP-OCRv4)"
KINDS = {"id_card": "居民身份证", "business_licence": "营业执照"}
# what the officer sees beside the image, in this order (templates translate the labels)
FIELD_LABELS = {
    "id_card": {"name": gettext_noop("姓名"), "id_number": gettext_noop("公民身份号码"),
                "birth_date": gettext_noop("出生日期")},
    "business_licence": {"name": gettext_noop("名称"), "uscc": gettext_noop("统一社会信用代码"),
                         "legal_representative": gettext_noop("法定代表人"), "established_on": gettext_noop("成立日期"),
                         "valid_until": gettext_noop("营业期限至"), "seal": gettext_noop("登记机关印章")},
}
MAX_PIXELS = 4000 * 4000
_lock = threading.Lock()
_engine = None


class UnreadableDocument(ValueError):
    """The file is not an image this pre-review can read."""


@dataclass
class OcrResult:
    fields: dict
    lines: list[str]
    ms: float
    engine: str = ENGINE_NAME
    seal: bool | None = None
    extra: dict = field(default_factory=dict)


def engine():
    """One engine per process (the models take ~1 s to load)."""
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR  # noqa: PLC0415 — deferred: heavy (ONNX runtime, ~220 ms), loaded on the first OCR call

            n = settings.SMART_OCR_THREADS or -1
            # documents are photographed large and printed large: detecting on a 960-px image is enough
            _engine = RapidOCR(det_intra_op_num_threads=n, cls_intra_op_num_threads=n, rec_intra_op_num_threads=n,
                               det_limit_type="max", det_limit_side_len=960)
        return _engine


PDF_LONG_SIDE = 2000  # pixels a PDF page is drawn at for reading (a scan's detail, not a poster's)


def _pdf_page(data: bytes) -> Image.Image:
    """The first page of a PDF (a scanned or an electronic document: a card, a licence) drawn as an
    image by PDFium (``pypdfium2``, Chromium's PDF engine), for the same reading as a photo."""
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument("无法读取PDF文件") from exc
    try:
        if len(doc) == 0:
            raise UnreadableDocument("PDF文件没有页面")
        page = doc[0]
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            raise UnreadableDocument("PDF页面尺寸无效")
        scale = min(8.0, PDF_LONG_SIDE / max(width, height))
        return page.render(scale=scale).to_pil().convert("RGB")
    finally:
        doc.close()


def _image(data: bytes) -> Image.Image:
    if data[:5] == b"%PDF-":
        return _pdf_page(data)
    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_PIXELS:
            raise UnreadableDocument("图片过大")
        return img.convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise UnreadableDocument("无法读取图片（请上传JPG、PNG或PDF）") from exc


@dataclass(frozen=True)
class Box:
    text: str
    x0: float
    x1: float
    cy: float
    h: float


def _boxes(img: Image.Image) -> list[Box]:
    arr = np.asarray(img)[:, :, ::-1].copy()  # RGB → BGR, as OpenCV expects
    result, _ = engine()(arr)
    boxes = []
    for points, text, _score in result or []:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        boxes.append(Box(text.replace(" ", ""), min(xs), max(xs), sum(ys) / 4, max(ys) - min(ys)))
    return sorted(boxes, key=lambda b: (b.cy, b.x0))


def _has_red_seal(img: Image.Image) -> bool:
    """A seal is a sizeable patch of saturated red where the registering authority seals a licence: its
    lower right part (the national emblem at the top is left out)."""
    img = img.crop((img.width // 2, img.height // 2, img.width, img.height))
    small = np.asarray(img.resize((max(1, img.width // 4), max(1, img.height // 4)))).astype(np.int16)
    r, g, b = small[:, :, 0], small[:, :, 1], small[:, :, 2]
    red = (r > 150) & (r - g > 70) & (r - b > 70)
    return bool(red.mean() > 0.004)


ID_RE = re.compile(r"(?<![0-9])([1-9][0-9]{16}[0-9Xx])(?![0-9])")
USCC_RE = re.compile(r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Z])")
DATE_RE = re.compile(r"(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})")


def _after(boxes: list[Box], label: str) -> str:
    """The value of ``label``: the rest of its own box, else the nearest box to its right on the same
    row (rows are matched by centre height, which tolerates the few degrees a phone photo is turned)."""
    for b in boxes:
        if b.text.startswith(label):
            rest = b.text[len(label):].lstrip(":：")
            if rest:
                return rest
            right = [o for o in boxes if o.x0 > b.x1 - 5 and abs(o.cy - b.cy) < 0.8 * max(b.h, o.h)]
            return min(right, key=lambda o: o.x0).text if right else ""
    return ""


def _date(text: str) -> str:
    m = DATE_RE.search(text or "")
    if not m:
        return ""
    try:
        return datetime.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return ""


def extract(kind: str, boxes: list[Box]) -> dict:
    text = "".join(b.text for b in boxes)
    if kind == "id_card":
        id_number = next((m.upper() for m in ID_RE.findall(text)), "")
        name = _after(boxes, "姓名")
        name = re.split(r"性别|民族", name)[0]
        return {"name": name, "id_number": id_number, "birth_date": _date(_after(boxes, "出生"))}
    if kind == "business_licence":
        uscc = next((m for m in USCC_RE.findall(text.upper())), "")
        term = _after(boxes, "营业期限")
        until = ""
        if "至" in term:
            until = "长期" if "长期" in term.split("至", 1)[1] else _date(term.split("至", 1)[1])
        return {"name": _after(boxes, "名称"), "uscc": uscc, "legal_representative": _after(boxes, "法定代表人"),
                "established_on": _date(_after(boxes, "成立日期")), "valid_until": until}
    raise UnreadableDocument("不支持的材料类型")


def kind_for_material(name: str) -> str | None:
    """Which document an item's material is, by its name (居民身份证…, 营业执照…); None: not one this
    pre-review reads."""
    if "身份证" in name:
        return "id_card"
    if "营业执照" in name:
        return "business_licence"
    return None


def read_document(data: bytes, *, kind: str) -> OcrResult:
    if kind not in KINDS:
        raise UnreadableDocument("不支持的材料类型")
    img = _image(data)
    t0 = time.perf_counter()
    boxes = _boxes(img)
    fields = extract(kind, boxes)
    seal = _has_red_seal(img) if kind == "business_licence" else None
    return OcrResult(fields=fields, lines=[b.text for b in boxes], ms=(time.perf_counter() - t0) * 1000, seal=seal)


def check(kind: str, result: OcrResult, expected: dict, *, today: datetime.date) -> list[dict]:
    """Plain-Chinese problems, field by field: what was read against what the form (and the register)
    says. An empty list means nothing to fix."""
    f, problems = result.fields, []

    def add(key, message):
        problems.append({"field": key, "message": message})

    if kind == "id_card":
        if not f.get("id_number"):
            add("id_number", "没有识别出身份证号码，请上传清晰、完整的身份证人像面照片")
        elif not is_valid_id_number(f["id_number"]):
            add("id_number", "识别出的身份证号码校验不通过，照片可能不清晰")
        elif expected.get("id_number") and f["id_number"] != expected["id_number"].upper():
            add("id_number", "身份证号码与申请表填写的不一致")
        if not f.get("name"):
            add("name", "没有识别出姓名，请上传清晰的身份证照片")
        elif expected.get("name") and f["name"] != expected["name"]:
            add("name", f"身份证上的姓名“{f['name']}”与申请人“{expected['name']}”不一致")
    elif kind == "business_licence":
        if not f.get("uscc"):
            add("uscc", "没有识别出统一社会信用代码")
        elif not is_valid_uscc(f["uscc"]):
            add("uscc", "识别出的统一社会信用代码校验不通过，照片可能不清晰")
        elif expected.get("uscc") and f["uscc"] != expected["uscc"].upper():
            add("uscc", "统一社会信用代码与申请表填写的不一致")
        if expected.get("name") and f.get("name") != expected["name"]:
            add("name", f"营业执照上的名称“{f.get('name') or '未识别'}”与申请表的“{expected['name']}”不一致")
        if f.get("valid_until") and f["valid_until"] != "长期" and f["valid_until"] < today.isoformat():
            add("valid_until", f"营业执照已于{f['valid_until']}到期")
        if result.seal is False:
            add("seal", "营业执照上没有看到登记机关的红色印章，请上传完整的照片")
    return problems


# --- synthetic documents (tests and the benchmark) -----------------------------------------------------

def _font(size: int):
    return ImageFont.truetype(settings.SMART_OCR_FONT, size)


def render_document(kind: str, data: dict, *, rotate: float = 0.0, blur: float = 0.0, jpeg_quality: int = 90) -> bytes:
    """Draw an ID card's portrait side or a business licence with ``data``, then rotate, blur and
    JPEG-compress it as a phone photo would. Needs the CJK font (``SMARTGOV_SMART_OCR_FONT``)."""
    if kind == "id_card":
        img = Image.new("RGB", (856, 540), (236, 242, 246))
        d = ImageDraw.Draw(img)
        f, big = _font(30), _font(36)
        d.text((60, 60), "姓名", fill=(60, 90, 140), font=f)
        d.text((160, 56), data["name"], fill=(20, 20, 20), font=big)
        d.text((60, 130), "性别", fill=(60, 90, 140), font=f)
        d.text((160, 130), data["sex"], fill=(20, 20, 20), font=f)
        d.text((300, 130), "民族", fill=(60, 90, 140), font=f)
        d.text((400, 130), "汉", fill=(20, 20, 20), font=f)
        b = datetime.date.fromisoformat(data["birth_date"])
        d.text((60, 200), "出生", fill=(60, 90, 140), font=f)
        d.text((160, 200), f"{b.year}年{b.month}月{b.day}日", fill=(20, 20, 20), font=f)
        d.text((60, 270), "住址", fill=(60, 90, 140), font=f)
        d.text((160, 270), data.get("address", "示范市东城区东华路1号"), fill=(20, 20, 20), font=f)
        d.text((60, 440), "公民身份号码", fill=(60, 90, 140), font=f)
        d.text((270, 436), data["id_number"], fill=(20, 20, 20), font=big)
        d.rectangle((640, 60, 800, 260), fill=(200, 205, 210))  # the photo
    elif kind == "business_licence":
        img = Image.new("RGB", (1200, 850), (250, 247, 240))
        d = ImageDraw.Draw(img)
        d.text((480, 50), "营业执照", fill=(160, 30, 30), font=_font(64))
        f = _font(30)
        rows = [("统一社会信用代码", data["uscc"]), ("名称", data["name"]), ("类型", "有限责任公司"),
                ("法定代表人", data["legal_representative"]), ("成立日期", data["established_on_cn"]),
                ("营业期限", data["term_cn"]), ("住所", data.get("address", "示范市东城区东华路1号"))]
        for i, (label, value) in enumerate(rows):
            d.text((90, 180 + i * 70), label, fill=(40, 40, 40), font=f)
            d.text((380, 180 + i * 70), value, fill=(20, 20, 20), font=f)
        if data.get("seal", True):
            d.ellipse((880, 560, 1080, 760), outline=(215, 30, 30), width=8)
            d.text((930, 645), "登记机关", fill=(215, 30, 30), font=_font(26))
    else:
        raise UnreadableDocument("不支持的材料类型")
    if rotate:
        img = img.rotate(rotate, expand=True, fillcolor=(255, 255, 255), resample=Image.Resampling.BICUBIC)
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=jpeg_quality)
    return out.getvalue()
