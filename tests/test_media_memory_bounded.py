"""Decoding memory is bounded whatever the file: peak RSS growth of `inspect` (the API) and `render`
(the worker), each measured in a fresh subprocess (ru_maxrss), on images built to be expensive:
7000×7000 (49 MP, under MEDIA_MAX_PIXELS) in every format, and the largest each format accepts.

A baseline JPEG is checked at 1/8 scale at any size; PNG, WebP, HEIF and progressive JPEG must be
decoded whole, so each has a pixel cap (MEDIA_DECODE_MEMORY_MB / its cost per pixel) and above it
is refused from its header, before any pixel is decoded. A resource bound, not a timing."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from app.blueprints.media import validation
from app.settings import PROJECT_ROOT

MEASURE = r"""
import json, resource, sys, tempfile
from pathlib import Path
from app.blueprints.media import processing, validation
path, what = Path(sys.argv[1]), sys.argv[2]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = None
try:
    if what == "inspect":
        outcome = validation.inspect(path, max_pixels=50_000_000, decode_memory_mb=int(sys.argv[3])).format.value
    else:
        with tempfile.TemporaryDirectory() as out:
            processing.render(path, Path(out), display_px=2048, thumbnail_px=320, fmt=sys.argv[4])
            outcome = "rendered"
except Exception as error:
    outcome = getattr(error, "code", repr(error))
print(json.dumps({"outcome": outcome,
                  "growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""
BUDGET_MB = 128  # the default MEDIA_DECODE_MEMORY_MB
MARGIN_MB = 16   # the interpreter's own allocations while it works


def measure(path, what: str, budget_mb: int = BUDGET_MB, fmt: str = "jpeg") -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), what, str(budget_mb), fmt], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def flat(size) -> Image.Image:
    """Flat colour with a corner block: tiny files, full-size decodes (what a bomb-like upload is)."""
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    return image


def write(tmp_path, name: str, image: Image.Image, fmt: str, **options):
    path = tmp_path / name
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    image.save(path, format=fmt, **options)
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """7000×7000: 49 MP, under the 50 MP cap; a few hundred KB each."""
    tmp = tmp_path_factory.mktemp("big")
    image = flat((7000, 7000))
    return {"png": write(tmp, "big.png", image, "PNG", compress_level=9),
            "webp": write(tmp, "big.webp", image, "WEBP", quality=50, method=0),
            "progressive": write(tmp, "big-progressive.jpg", image, "JPEG", quality=80, progressive=True),
            "baseline": write(tmp, "big.jpg", image, "JPEG", quality=80)}


@pytest.mark.parametrize("kind", ["png", "webp", "progressive"])
def test_a_49_mp_image_decoded_whole_is_refused_from_its_header(big, kind):
    assert big[kind].stat().st_size < 1_000_000
    got = measure(big[kind], "inspect")
    assert got["outcome"] == "media_too_many_pixels"
    assert got["growth_mb"] < 24, got  # the WebP reader holds the whole file; nothing is decoded


def test_a_49_mp_baseline_jpeg_is_checked_and_rendered_within_the_bound(big):
    got = measure(big["baseline"], "inspect")
    assert got["outcome"] == "jpeg" and got["growth_mb"] < 16, got  # decoded at 1/8 scale
    got = measure(big["baseline"], "render")
    # Decoded at 1/2 scale (3500 px still covers the 2048 px display copy), then resized once.
    assert got["outcome"] == "rendered" and got["growth_mb"] < BUDGET_MB, got


@pytest.mark.parametrize("kind, fmt, options", [
    ("PNG", "PNG", {"compress_level": 1}),
    ("WEBP", "WEBP", {"quality": 50, "method": 0}),
    ("JPEG", "JPEG", {"quality": 80, "progressive": True}),
    ("HEIF", "HEIF", {"quality": 50}),
])
def test_the_largest_image_of_each_format_stays_within_the_budget(tmp_path, kind, fmt, options):
    # At the cap, scaled down with the budget so the test stays quick: the bound is per pixel.
    budget = 32
    cap = validation.full_decode_max_pixels(kind, budget)
    side = int(cap ** 0.5) - 8
    path = write(tmp_path, f"cap.{kind.lower()}", flat((side, side)), fmt, **options)
    got = measure(path, "inspect", budget)
    assert got["outcome"] != "media_too_many_pixels", got
    assert got["growth_mb"] < budget + MARGIN_MB, got
    over = write(tmp_path, f"over.{kind.lower()}", flat((side + 64, side + 64)), fmt, **options)
    assert measure(over, "inspect", budget)["outcome"] == "media_too_many_pixels"
    rendered = measure(path, "render", budget, "webp" if kind == "WEBP" else "jpeg")
    assert rendered["outcome"] == "rendered" and rendered["growth_mb"] < budget + MARGIN_MB, rendered
