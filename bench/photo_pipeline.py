"""Photo pipeline benchmark: a 12-megapixel phone JPEG to a stored full image (EXIF stripped) and two thumbnails.

    .venv/bin/python bench/photo_pipeline.py             # 30 timed runs per case after 3 warm-up runs
    .venv/bin/python bench/photo_pipeline.py --runs 10

Target (issue 3): under 300 ms for the 12 MP JPEG. The photos are made here: luminance texture at several scales
(noise, smoothed noise, a gradient) and low-frequency colour, so that they compress like a photo (~4 MB at JPEG
quality 92), with the EXIF a phone writes (orientation 6, capture time, GPS, model). Cases:

  12 MP phone JPEG           4000x3000, no ICC profile (as most Android phones), shown rotated: the target
  12 MP, Display P3 profile  the same with a wide-gamut ICC profile (as iPhones): adds the conversion to sRGB
  48 MP JPEG                 8000x6000 (a 48/50 MP camera mode): decoded at half scale thanks to JPEG draft mode
  decode only                Pillow decoding the 12 MP JPEG at full scale, nothing else: the floor

Wall time is what a user waits; CPU time is this process's, and stays honest when other work shares the machine
(the pipeline is single-threaded, so on an idle machine the two agree). Last, the peak resident memory one photo
adds to a fresh process. Results: bench/photo_pipeline.md.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageCms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media.images import process_image  # after the line above: the repository must be on sys.path

MAX_BYTES = 32 * 1024 * 1024  # room for the 48 MP case; the production limit is the caller's
MAX_PIXELS = 50_000_000
#: Display P3's primaries adapted to D50, as in Apple's profile.
P3_COLORANTS = {
    b"rXYZ": (0.515121, 0.241196, -0.001053),
    b"gXYZ": (0.291977, 0.692245, 0.041885),
    b"bXYZ": (0.157104, 0.066574, 0.784073),
}


def photo(width: int, height: int) -> Image.Image:
    """A synthetic photo: luminance detail at three scales over a gradient, plus slowly varying colour."""
    resample = Image.Resampling
    gradient = Image.linear_gradient("L").resize((width, height))
    blobs = Image.effect_noise((width // 64, height // 64), 70).resize((width, height), resample.BICUBIC)
    luma = ImageChops.blend(blobs, gradient, 0.4)
    texture = Image.effect_noise((width // 3, height // 3), 25).resize((width, height), resample.BILINEAR)
    luma = ImageChops.add(luma, texture, offset=-128)
    luma = ImageChops.add(luma, Image.effect_noise((width, height), 3), offset=-128)
    channels = [
        ImageChops.add(
            luma,
            Image.effect_noise((width // 128, height // 128), 25).resize((width, height), resample.BICUBIC),
            offset=-128,
        )
        for _ in range(3)
    ]
    return Image.merge("RGB", channels)


def phone_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Simpul", "Bench Phone", 6
    exif.get_ifd(0x8769).update({0x9003: "2025:03:14 09:26:53", 0x9011: "+07:00"})
    exif.get_ifd(0x8825).update({1: "S", 2: (2.0, 55.0, 12.4), 3: "E", 4: (103.0, 51.0, 3.3)})
    return exif


def display_p3_profile() -> bytes:
    """lcms's sRGB profile with Display P3's primaries: a matrix/TRC profile that costs what Apple's does."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", profile, 128)
    for index in range(count):
        signature, offset, _size = struct.unpack_from(">4sII", profile, 132 + 12 * index)
        if signature in P3_COLORANTS:
            values = (round(value * 65536) for value in P3_COLORANTS[signature])
            struct.pack_into(">4s4x3i", profile, offset, b"XYZ ", *values)
    return bytes(profile)


def jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=phone_exif(), **options)
    return buffer.getvalue()


def decode_only(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def measure(function, runs: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each timed run."""
    for _ in range(warmup):
        function()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return walls, cpus


#: Run in a fresh interpreter: the peak resident memory one photo adds to a process that has the pipeline loaded.
PEAK_MEMORY_SCRIPT = """
import re, sys
from media.images import process_image
def peak_kb():  # VmHWM, not ru_maxrss: that one keeps the parent's peak across exec
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
data = open(sys.argv[1], "rb").read()
before = peak_kb()
process_image(data, max_bytes=len(data), max_pixels=50_000_000)
print((peak_kb() - before) / 1024)
"""


def peak_memory_mb(data: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".jpg") as file:
        file.write(data)
        file.flush()
        completed = subprocess.run(
            [sys.executable, "-c", PEAK_MEMORY_SCRIPT, file.name],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            check=True,
        )
    return float(completed.stdout)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per case (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    arguments = parser.parse_args()

    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs")
    print(f"Python {platform.python_version()}, Pillow {Image.__version__}, load average {os.getloadavg()}")
    twelve = photo(4000, 3000)
    cases = {
        "12 MP phone JPEG": jpeg(twelve, quality=92),
        "12 MP, Display P3 profile": jpeg(twelve, quality=92, icc_profile=display_p3_profile()),
        "48 MP JPEG": jpeg(photo(8000, 6000), quality=85),
    }

    print()
    print("| case | input | wall p50 | wall p95 | CPU p50 | CPU p95 | full | thumbnail 1024 | thumbnail 320 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, data in cases.items():
        result = process_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
        walls, cpus = measure(
            lambda data=data: process_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS),
            arguments.runs,
            arguments.warmup,
        )
        renditions = [result.full, result.thumbnails[1024], result.thumbnails[320]]
        sizes = " | ".join(f"{r.width}x{r.height}, {len(r.data) / 1e3:,.0f} kB" for r in renditions)
        print(
            f"| {name} | {result.width}x{result.height}, {len(data) / 1e6:.1f} MB"
            f" | {statistics.median(walls):.0f} ms | {percentile(walls, 0.95):.0f} ms"
            f" | {statistics.median(cpus):.0f} ms | {percentile(cpus, 0.95):.0f} ms | {sizes} |"
        )
    walls, cpus = measure(lambda: decode_only(cases["12 MP phone JPEG"]), arguments.runs, arguments.warmup)
    print(
        f"| decode only (12 MP, full scale) | | {statistics.median(walls):.0f} ms | {percentile(walls, 0.95):.0f} ms"
        f" | {statistics.median(cpus):.0f} ms | {percentile(cpus, 0.95):.0f} ms | | | |"
    )
    print()
    print(f"{arguments.runs} timed runs per case after {arguments.warmup} warm-up runs; load average {os.getloadavg()}")
    for name in ("12 MP phone JPEG", "48 MP JPEG"):
        print(f"Peak memory one {name} adds to a process: {peak_memory_mb(cases[name]):.0f} MB")


if __name__ == "__main__":
    main()
