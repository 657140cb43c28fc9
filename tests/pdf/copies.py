"""What a leaker does to a page image: strip the visible mark by colour, and degrade the
copy (JPEG, scaling, a phone photo of the screen, cropping). Shared by the watermark
tests and bench/watermark.py."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter


def keep_dark_non_red(image: Image.Image) -> Image.Image:
    """The review's attack: black where a pixel is dark and not reddish, white elsewhere."""
    rgb = np.asarray(image.convert("RGB")).astype(np.int32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    grey = (r * 299 + g * 587 + b * 114) // 1000
    reddish = (r - np.maximum(g, b)) > 40
    keep = (grey < 160) & ~reddish
    return Image.fromarray(np.where(keep, 0, 255).astype(np.uint8))


def keep_darker_than(image: Image.Image, level: int = 100) -> Image.Image:
    """Thresholding: only pixels darker than ``level`` (what text is) survive."""
    grey = np.asarray(image.convert("L"))
    return Image.fromarray(np.where(grey < level, 0, 255).astype(np.uint8))


def jpeg(image: Image.Image, quality: int = 50) -> Image.Image:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def scale(image: Image.Image, factor: float = 0.5) -> Image.Image:
    return image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                        Image.Resampling.BILINEAR)


def crop_margins(image: Image.Image, fraction: float = 0.1) -> Image.Image:
    w, h = image.size
    return image.crop((int(fraction * w), int(fraction * h), int((1 - fraction) * w),
                       int((1 - fraction) * h)))


def phone_photo(image: Image.Image, *, angle: float = 3.0, keystone: float = 0.03,
                seed: int = 0) -> Image.Image:
    """A photo of the page on a screen: tilted, in perspective, through the screen's pixel
    grid (resampled nearest, then the lens blur: moiré-like), darker and flatter, noisy,
    the edges cropped, saved as the phone's JPEG."""
    rng = np.random.default_rng(seed)
    image = image.convert("RGB").rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                                        fillcolor=(40, 40, 40))
    w, h = image.size
    k = keystone * w
    image = image.transform((w, h), Image.Transform.QUAD, (k, 0, 0, h, w, h, w - k, 0),
                            Image.Resampling.BICUBIC)
    image = image.resize((int(w * 0.62), int(h * 0.62)), Image.Resampling.NEAREST)
    image = image.resize((int(w * 0.9), int(h * 0.9)), Image.Resampling.BILINEAR)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    image = ImageEnhance.Contrast(image).enhance(0.8)
    image = ImageEnhance.Brightness(image).enhance(0.9)
    pixels = np.asarray(image).astype(np.float32) + rng.normal(0, 4, (image.height, image.width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return jpeg(crop_margins(image, 0.08), 80)
