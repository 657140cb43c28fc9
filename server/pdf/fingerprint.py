"""The invisible per-reader mark: a keyed luminance pattern that survives JPEG, scaling
and a phone photo of the screen.

Each reader's copy of a page carries a pseudo-random ±1 pattern of ``CELLS``×``CELLS``
cells, drawn from an HMAC of a mark key (``key_for``) and the deployment's secret, tiled
across the page and added to the luminance at ``AMPLITUDE`` levels (white becomes
239–255: a faint grey texture). Cells are 12 px on the 1600 px render, so the
pattern lives at low spatial frequencies that JPEG at quality 50 and a halving keep.

Decoding needs no original: ``estimate`` finds the tiling lattice (period and angle) in
the image's whitened spectrum, where the repeated tile shows as a comb of peaks that text
does not make, ``fold`` averages every period of the image into one tile (page content,
not periodic, averages out), and ``score`` correlates that tile with a candidate's pattern
over every cyclic shift and quarter turn (so cropping and an unknown origin do not
matter). Perspective of a few degrees is meant to be handled by folding each quarter of
the image with its own lattice estimates and keeping the best. Known weakness: dense text
and the visible mark's own tiling make combs that outrank the pattern's, so a cropped or
photographed dense page is often not traced (docs/SECURITY.md, finding 8).
"""
from __future__ import annotations

import functools
import hashlib
import hmac

import numpy as np

CELLS = 16  # pattern cells per tile side
CELL_PX = 12  # cell size on the 1600 px render: a 192 px tile, about 8 across a page
AMPLITUDE = 8.0  # luminance levels either side (4 was lost under the visible mark and text)
BINS = 2 * CELLS  # folding resolution: half a cell
CLIP = 5.0  # pixels this many times the quiet level are not the pattern (text, the visible mark)
SMOOTH = 0.8
SPECTRUM_CAP = 8.0  # one strong peak (a text line pitch, the visible mark) counts no more


def key_for(secret: str, mark_key: str) -> bytes:
    """The pattern seed of one reader's copy (``mark_key``: reader, version, page)."""
    return hmac.new(secret.encode(), b"hemicycle-watermark:" + mark_key.encode(),
                    hashlib.sha256).digest()


@functools.lru_cache(maxsize=4096)
def pattern(seed: bytes) -> np.ndarray:
    """The ±1 cells of a seed, with as many +1 as −1."""
    rng = np.random.default_rng(int.from_bytes(seed[:16], "big"))
    cells = np.array([1.0, -1.0] * (CELLS * CELLS // 2))
    rng.shuffle(cells)
    return cells.reshape(CELLS, CELLS)


def _blur_periodic(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur by FFT (wrapping at the edges: right for a tile)."""
    h, w = image.shape
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    kernel = np.exp(-2 * (np.pi * sigma) ** 2 * (fx ** 2 + fy ** 2))
    return np.real(np.fft.ifft2(np.fft.fft2(image) * kernel))


@functools.lru_cache(maxsize=256)
def _tile(seed: bytes, cell_px: int) -> np.ndarray:
    """The pattern as a smooth tile of pixels in [−1, 1] (soft cell edges: no blocks)."""
    tile = np.kron(pattern(seed), np.ones((cell_px, cell_px)))
    tile = _blur_periodic(tile, cell_px / 4)
    return (tile / np.abs(tile).max()).astype(np.float32)


def period_px(width: int) -> int:
    """The pattern's period on an image ``width`` px wide."""
    return max(4, round(CELL_PX * width / 1600)) * CELLS


def embed(rgb: np.ndarray, seed: bytes) -> np.ndarray:
    """``rgb`` (H×W×3 uint8) with the pattern added to its luminance."""
    h, w = rgb.shape[:2]
    cell_px = period_px(w) // CELLS
    tile = np.rint(_tile(seed, cell_px) * AMPLITUDE - AMPLITUDE).astype(np.int16)
    reps = (-(-h // tile.shape[0]), -(-w // tile.shape[1]))
    mark = np.tile(tile, reps)[:h, :w, None]
    out = rgb.astype(np.int16)
    out += mark
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


# --- decoding -------------------------------------------------------------------------

def residual(grey: np.ndarray) -> np.ndarray:
    """The image's band where the pattern lives, zero where anything stronger than the
    pattern is (text, the visible mark, edges): only the flat paper around them is read."""
    g = grey.astype(np.float32)
    band = _blur_periodic(g, SMOOTH) - _blur_periodic(g, 30.0)
    magnitude = np.abs(band)
    quiet = float(np.percentile(magnitude, 20)) + 0.5
    band[magnitude > CLIP * quiet] = 0.0
    return band


def _whitened_spectrum(r: np.ndarray) -> np.ndarray:
    h, w = r.shape
    window = np.hanning(h)[:, None] * np.hanning(w)[None, :]
    power = np.abs(np.fft.fft2(r * window)) ** 2
    background = _blur_periodic(power, 4.0) + 1e-9
    return np.minimum(power / background, SPECTRUM_CAP)


def _comb_scores(spectrum, periods, angles, harmonics):
    """Mean whitened power at the lattice points of each (period, angle) hypothesis."""
    h, w = spectrum.shape
    m, n = np.meshgrid(np.arange(-harmonics, harmonics + 1), np.arange(-harmonics, harmonics + 1))
    keep = (m != 0) & (n != 0)  # the axes: text lines and page edges make peaks there too
    m, n = m[keep].astype(np.float32), n[keep].astype(np.float32)
    p = np.asarray(periods, np.float32)[:, None, None]
    a = np.deg2rad(np.asarray(angles, np.float32))[None, :, None]
    fx = (m * np.cos(a) - n * np.sin(a)) / p
    fy = (m * np.sin(a) + n * np.cos(a)) / p
    kx = np.rint(fx * w).astype(np.int64) % w
    ky = np.rint(fy * h).astype(np.int64) % h
    return spectrum[ky, kx].mean(axis=-1)


def estimate(r: np.ndarray, count: int = 10) -> list[tuple[float, float]]:
    """The ``count`` likeliest (period px, angle degrees) of the tiling lattice in a residual.
    Text makes combs of its own (line pitch, letter pitch), so one estimate is not enough:
    the correlation with a reader's pattern decides among these."""
    spectrum = _whitened_spectrum(r)
    periods = np.geomspace(max(24.0, CELL_PX * 2.5), max(30.0, min(r.shape) / 2.5), 260)
    angles = np.arange(-8, 8.01, 0.5)
    coarse = _comb_scores(spectrum, periods, angles, 3)
    # Local maxima only (a peak's neighbours are the same lattice, slightly off).
    padded = np.pad(coarse, 1, mode="edge")
    neighbours = np.max([padded[1 + dy:1 + dy + coarse.shape[0], 1 + dx:1 + dx + coarse.shape[1]]
                         for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx], axis=0)
    peaks = np.argwhere(coarse >= neighbours)
    peaks = peaks[np.argsort(coarse[peaks[:, 0], peaks[:, 1]])[::-1][:count]]
    found = []
    for i, j in peaks:
        fine_p = periods[i] * np.linspace(0.985, 1.015, 31)
        fine_a = angles[j] + np.linspace(-0.5, 0.5, 21)
        fine = _comb_scores(spectrum, fine_p, fine_a, 7)
        k, m = np.unravel_index(np.argmax(fine), fine.shape)
        found.append((float(fine_p[k]), float(fine_a[m])))
    return found


def fold(r: np.ndarray, period: float, angle: float) -> np.ndarray:
    """Every period of the residual averaged into one tile of BINS×BINS."""
    h, w = r.shape
    a = np.deg2rad(angle)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (x * np.cos(a) + y * np.sin(a)) / period
    v = (-x * np.sin(a) + y * np.cos(a)) / period
    bu = (np.floor(u * BINS).astype(np.int64)) % BINS
    bv = (np.floor(v * BINS).astype(np.int64)) % BINS
    index = (bv * BINS + bu).ravel()
    values = r.ravel()
    sums = np.bincount(index, weights=values, minlength=BINS * BINS)
    counts = np.bincount(index, weights=(values != 0).astype(np.float32), minlength=BINS * BINS)
    tile = (sums / np.maximum(counts, 1)).reshape(BINS, BINS)
    return tile - tile.mean()


@functools.lru_cache(maxsize=4096)
def _reference_spectrum(seed: bytes) -> np.ndarray:
    ref = np.kron(pattern(seed), np.ones((BINS // CELLS, BINS // CELLS)))
    ref = _blur_periodic(ref, 0.5)
    ref = (ref - ref.mean()) / np.linalg.norm(ref - ref.mean())
    return np.conj(np.fft.fft2(ref))


def score(folded: list[np.ndarray], seed: bytes) -> float:
    """The best normalised correlation of the folded tiles with the seed's pattern, over
    every cyclic shift and quarter turn (1 would be a perfect copy, ~0.1 is chance)."""
    reference = _reference_spectrum(seed)
    best = 0.0
    for tile in folded:
        norm = np.linalg.norm(tile)
        if norm == 0:
            continue
        for turn in range(4):
            spectrum = np.fft.fft2(np.rot90(tile, turn) / norm)
            best = max(best, float(np.real(np.fft.ifft2(spectrum * reference)).max()))
    return best


def folded_tiles(grey: np.ndarray) -> list[np.ndarray]:
    """The folded tiles a decoder correlates: the whole image and its four quarters
    (overlapping), each with its own lattice estimate (perspective bends the lattice)."""
    r = residual(np.asarray(grey, np.float32))
    h, w = r.shape
    regions = [r] + [r[y0:y0 + h * 3 // 5, x0:x0 + w * 3 // 5]
                     for y0 in (0, h * 2 // 5) for x0 in (0, w * 2 // 5)]
    tiles = []
    for region in regions:
        if min(region.shape) < 96:
            continue
        # A lattice found may be the visible mark's, a whole multiple of the pattern's.
        tiles.extend(fold(region, period / k, angle) for period, angle in estimate(region)
                     for k in (1, 2) if period / k >= 20)
    return tiles


DECODE_SIDE = 1150  # decoding works at about half the render: faster, and JPEG noise averages


def grey_for_decoding(image) -> np.ndarray:
    """A Pillow image as the luminance array the decoder reads, at most DECODE_SIDE px."""
    from PIL import Image

    grey = image.convert("L")
    longest = max(grey.size)
    if longest > DECODE_SIDE:
        factor = DECODE_SIDE / longest
        grey = grey.resize((max(1, round(grey.width * factor)), max(1, round(grey.height * factor))),
                           Image.Resampling.BOX)
    return np.asarray(grey)
