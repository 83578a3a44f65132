"""Files to upload: real images made with Pillow, and the hostile ones of issue 14."""

import io
import struct
import zlib

from PIL import Image, ImageCms, ImageDraw

RED = (220, 20, 20)
BLUE = (20, 20, 220)

# EXIF tags
ORIENTATION = 0x0112
GPS_IFD = 0x8825
MAKE = 0x010F


def picture(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way an image was turned."""
    image = Image.new("RGB", (width, height), BLUE)
    ImageDraw.Draw(image).rectangle([0, 0, width // 2 - 1, height - 1], fill=RED)
    return image.convert(mode) if mode != "RGB" else image


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg(width: int = 800, height: int = 600, **options) -> bytes:
    return encoded(picture(width, height), "JPEG", quality=90, **options)


def png(width: int = 800, height: int = 600, mode: str = "RGB") -> bytes:
    return encoded(picture(width, height, mode), "PNG")


def webp(width: int = 800, height: int = 600) -> bytes:
    return encoded(picture(width, height), "WEBP", quality=90)


def animated_gif(width: int = 120, height: int = 80) -> bytes:
    frames = [
        picture(width, height).convert("P"),
        Image.new("RGB", (width, height), (0, 200, 0)).convert("P"),
    ]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def photo_with_gps(width: int = 400, height: int = 300, orientation: int = 6) -> bytes:
    """A camera JPEG: EXIF with an orientation and a GPS position, a comment, an ICC
    profile."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Acme Camera"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return jpeg(width, height, exif=exif.tobytes(), comment=b"taken at home", icc_profile=icc)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid PNG of width x height black pixels, one bit each: its IDAT inflates to
    ~112 MB (as 8-bit greyscale, 900 MB) from ~110 KB."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")
    )


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    b'<script>alert(document.cookie)</script><rect width="100" height="100"/></svg>'
)
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_with_html_appended() -> bytes:
    """A polyglot: a valid PNG, and an HTML page after its IEND chunk."""
    return png(64, 64) + HTML_PAGE


def truncated_jpeg() -> bytes:
    data = jpeg(800, 600)
    return data[: len(data) // 2]
