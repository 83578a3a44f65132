"""Images for the upload rows of ``make bench``, the floor they are judged against, and the
peak memory of processing one.

- ``photo_jpeg``: a photo-like JPEG made with Pillow (smooth colour fields under sensor
  noise, so that it compresses like a camera's picture, not like a flat test card).
- ``floor_once``: what no upload can beat, timed in the calling process: Pillow decoding
  the file once and encoding its largest rendition (2400 pixels wide, WebP), with the
  resampling and encoder settings ``images.processing`` uses.
- ``python -m bench.images [MEGAPIXELS ...]``: the peak resident memory (``VmHWM``) of a
  fresh process (Django set up as in a worker) that processes a photo of that many
  megapixels (12 and 40 by default), upright and with EXIF orientation 6 (the image must
  be turned), each in a process of its own, as ``docs/performance.md`` reports it.
"""

# ruff: noqa: S603  (runs this same file with the project's Python)
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter

ROOT = Path(__file__).resolve().parent.parent

# images.processing's settings for the largest rendition (checked equal by
# images/tests/test_memory.py): the floor must do the same work the upload does for it.
LARGEST_RENDITION = 2400
WEBP_QUALITY = 80
WEBP_METHOD = 4
REDUCING_GAP = 3.0

ORIENTATION = 0x0112


def photo(width: int, height: int, *, seed: int = 1, noise: float = 12.0) -> Image.Image:
    """An RGB picture with the statistics of a photo: large smooth areas of colour (a
    6 x 4 grid of random colours, blurred into each other) and grain all over."""
    rng = random.Random(seed)  # noqa: S311 - test pictures, not secrets
    fields = Image.new("RGB", (6, 4))
    fields.putdata([tuple(rng.randrange(40, 216) for _ in range(3)) for _ in range(24)])
    smooth = fields.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), noise).filter(ImageFilter.SMOOTH)
    channels = [ImageChops.add(channel, grain, 1.0, -128) for channel in smooth.split()]
    return Image.merge("RGB", channels)


def photo_jpeg(width: int, height: int, *, orientation: int = 1, quality: int = 90, seed: int = 1) -> bytes:
    """``photo`` as a camera JPEG. With an ``orientation`` other than 1 the pixels are
    stored turned, as a phone held upright stores them, and EXIF says how to turn them
    back: ``width`` x ``height`` is the size as shown."""
    image = photo(width, height, seed=seed)
    options: dict = {"quality": quality}
    if orientation != 1:
        # Orientation 6 is "rotate 90 degrees clockwise to show": stored the other way.
        image = image.transpose(Image.Transpose.ROTATE_90)
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def floor_once(data: bytes) -> float:
    """Milliseconds to decode ``data`` and encode its largest rendition."""
    started = time.perf_counter()
    image = Image.open(io.BytesIO(data))
    image.load()
    height = max(1, round(image.height * LARGEST_RENDITION / image.width))
    rendition = image.resize((LARGEST_RENDITION, height), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    rendition.save(io.BytesIO(), "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return (time.perf_counter() - started) * 1000


def multipart(field: str, filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with one file, and its ``Content-Type``."""
    boundary = f"bench{random.getrandbits(64):016x}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# --- Peak memory of processing one upload ---------------------------------------------------


def _resident_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, in MB. Not ``ru_maxrss``:
    on Linux a process started by another keeps the peak of its parent from before
    ``exec``, a pytest process's or the bench's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _measure_in_this_process(path: str) -> dict[str, float]:
    """Set Django up as a worker has it, then process the file at ``path`` as an upload
    is processed; the resident set before, and its peak, in MB."""
    import django

    django.setup()
    from django.conf import settings
    from django.urls import get_resolver

    from images import processing

    get_resolver().url_patterns  # noqa: B018 - every view imported, as in a serving worker
    data = Path(path).read_bytes()
    before = _resident_mb("VmRSS")
    started = time.perf_counter()
    processed = processing.process_bytes(data, max_pixels=settings.MEDIA_MAX_PIXELS)
    seconds = time.perf_counter() - started
    peak = _resident_mb("VmHWM")
    return {
        "baseline_mb": before,
        "peak_mb": peak,
        "seconds": seconds,
        "width": processed.width,
        "height": processed.height,
        "renditions": len(processed.renditions),
    }


def peak_rss(path: Path, settings_module: str = "config.settings.test") -> dict[str, float]:
    """``_measure_in_this_process`` in a fresh Python process (peak memory is per process)."""
    return json.loads(_run("--measure", str(path), settings_module=settings_module))


def make_photo_file(path: Path, megapixels: float, *, orientation: int = 1) -> None:
    """Write ``photo_jpeg`` of ``megapixels`` to ``path``, in a process of its own: making
    a 40-megapixel picture takes some 600 MB, which the caller need not keep."""
    _run("--make", str(path), str(megapixels), str(orientation))


def _run(*args: str, settings_module: str = "config.settings.test") -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.images", *args],
        cwd=ROOT,
        env={**_clean_env(), "DJANGO_SETTINGS_MODULE": settings_module},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}


def dimensions(megapixels: float) -> tuple[int, int]:
    """The largest 3:2 landscape of at most ``megapixels`` (40: just under the limit)."""
    height = int((megapixels * 1_000_000 / 1.5) ** 0.5)
    return int(height * 1.5), height


def main(argv: list[str]) -> None:
    if argv[:1] == ["--measure"]:
        print(json.dumps(_measure_in_this_process(argv[1])))
        return
    if argv[:1] == ["--make"]:
        width, height = dimensions(float(argv[2]))
        Path(argv[1]).write_bytes(photo_jpeg(width, height, orientation=int(argv[3])))
        return
    workdir = ROOT / ".bench"
    workdir.mkdir(exist_ok=True)
    for megapixels in [float(arg) for arg in argv] or [12.0, 40.0]:
        width, height = dimensions(megapixels)
        for orientation in (1, 6):
            path = workdir / f"photo-{megapixels:g}mp-o{orientation}.jpg"
            if not path.exists():
                make_photo_file(path, megapixels, orientation=orientation)
            result = peak_rss(path)
            print(
                f"{megapixels:g} MP ({width} x {height}), orientation {orientation}, "
                f"{path.stat().st_size / 1e6:.1f} MB file: baseline {result['baseline_mb']:.0f} MB, "
                f"peak {result['peak_mb']:.0f} MB (+{result['peak_mb'] - result['baseline_mb']:.0f}), "
                f"{result['seconds']:.2f} s"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
