"""Synthetic ID photos drawn with Pillow: a dark-clothed head-and-shoulders silhouette on a plain
background, with texture so the JPEG lands in the guide's 20–80 KB."""

import io

import numpy as np
from PIL import Image, ImageDraw


def portrait(*, size=(390, 520), background=(250, 250, 250), offset_x=0, head_top=0.08, quality=90,
             fmt="JPEG", noise=2.0, seed=7) -> bytes:
    w, h = size
    img = Image.new("RGB", size, background)
    d = ImageDraw.Draw(img)
    cx = w // 2 + offset_x
    top = int(h * head_top)
    head_w, head_h = int(w * 0.42), int(h * 0.5)
    d.rectangle([cx - int(w * 0.45), top + int(head_h * 0.85), cx + int(w * 0.45), h], fill=(40, 45, 60))  # shoulders
    d.ellipse([cx - head_w // 2, top, cx + head_w // 2, top + head_h], fill=(205, 160, 130))  # face
    d.ellipse([cx - head_w // 2, top, cx + head_w // 2, top + head_h // 3], fill=(30, 25, 20))  # hair
    rng = np.random.default_rng(seed)
    arr = np.asarray(img, dtype=np.float32)
    subject = np.abs(arr - np.array(background, dtype=np.float32)).sum(axis=2) > 30
    arr += rng.normal(0, noise, arr.shape)
    arr[subject] += rng.normal(0, 18, (int(subject.sum()), 3))
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buf.getvalue()
