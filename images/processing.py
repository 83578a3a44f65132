"""Turning an upload into pixels we trust, re-encoded: the original and its renditions.

Nothing the client sent is stored or served as it came. The bytes are read up to a hard
limit, recognised by their content among an allow-list of formats (never by the file's
name or declared type), refused when the header's dimensions exceed the pixel limit
(before any pixel is decoded: a decompression bomb never reaches ``load()``), decoded
completely (a truncated file fails), turned upright by their EXIF orientation, and
encoded again from the pixels alone: no EXIF, GPS, XMP, ICC profile or comment survives.

Animated images (GIF, APNG, animated WebP) keep their first frame. GIFs are stored as
PNG: lossless, smaller, and one format less to serve.
"""

import io
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

# Pillow's default, stated here because decoding depends on it: a truncated file raises
# instead of being padded with grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow's own bomb check (a warning above this, an error above twice it, both before
# decoding) on our limit; decode() refuses anything above the limit in force anyway.
Image.MAX_IMAGE_PIXELS = settings.MEDIA_MAX_PIXELS

ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
RENDITION_WIDTHS = (600, 1000, 1600, 2400)

JPEG_QUALITY = 85
WEBP_QUALITY = 80
# libwebp's effort, 0-6: 4 is its default; higher buys a few percent of size for much
# more time per upload.
WEBP_METHOD = 4
# Resizing reduces by an integer factor first (fast, box filter), then applies Lanczos
# over the last factor of at least this much: no visible difference from Lanczos alone.
REDUCING_GAP = 3.0

# Format of the stored original for each decoded format: (Pillow format, extension,
# content type).
STORED_AS = {
    "JPEG": ("JPEG", "jpg", "image/jpeg"),
    "PNG": ("PNG", "png", "image/png"),
    "GIF": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
}
RENDITION_FORMAT = ("WEBP", "webp", "image/webp")

# From this size up, an RGB image is turned upright band by band (see ``upright``).
BANDWISE_PIXELS = 16_000_000

# EXIF orientation -> the transposition that makes the image upright (as
# PIL.ImageOps.exif_transpose, which copies the image even when nothing changes).
ORIENTATION_TAG = 0x0112
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageRejected(Exception):
    """The upload is not an image we accept; ``message`` says why, for the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    width: int
    height: int
    extension: str
    content_type: str


@dataclass(frozen=True)
class ProcessedImage:
    """The re-encoded original and its renditions (ascending by width)."""

    original: EncodedImage
    renditions: list[EncodedImage]

    @property
    def width(self) -> int:
        return self.original.width

    @property
    def height(self) -> int:
        return self.original.height

    @property
    def content_type(self) -> str:
        return self.original.content_type


def mebibytes(count: int) -> str:
    value = count / (1024 * 1024)
    return f"{value:g} MiB" if value >= 1 else f"{count} bytes"


def read_limited(file: IO[bytes], *, max_bytes: int) -> bytes:
    """The whole upload, or ``ImageRejected`` as soon as it is longer than ``max_bytes``."""
    if file.seekable():
        file.seek(0)
    data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRejected(f"The file is too large: an image may be at most {mebibytes(max_bytes)}.")
    if not data:
        raise ImageRejected("The submitted file is empty.")
    return data


def process_upload(file: IO[bytes], *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """Read, check, decode and re-encode an upload; ``ImageRejected`` for anything we do
    not accept, whatever went wrong."""
    return process_bytes(read_limited(file, max_bytes=max_bytes), max_pixels=max_pixels)


def process_bytes(data: bytes, *, max_pixels: int) -> ProcessedImage:
    """The stored original and the renditions of an upload's bytes.

    A 40-megapixel image is 160 MB in memory (Pillow keeps RGB in 4 bytes a pixel), so
    no two full-size images are alive at once where it can be helped: each step that
    makes a new image closes the one it came from (``Image.close`` releases the pixels
    whoever still refers to the object), and the full-size image goes as soon as the
    largest rendition has been resized from it."""
    image, source_format = decode(data, max_pixels=max_pixels)
    try:
        original = encode_original(image, source_format=source_format)
        widths = [width for width in RENDITION_WIDTHS if width < image.width]
        if not widths:
            return ProcessedImage(original=original, renditions=[])
        image = replaced(image, rendition_source(image))
        return ProcessedImage(original=original, renditions=renditions(image, widths))
    except (OSError, ValueError) as exc:  # an encoder refusing what it was given
        raise ImageRejected("The image could not be processed.") from exc
    finally:
        image.close()


def decode(data: bytes, *, max_pixels: int) -> tuple[Image.Image, str]:
    """The upload's pixels, upright, in a mode every encoder takes, with no metadata; and
    the format they came in."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError as exc:
        raise ImageRejected("Upload a JPEG, PNG, GIF or WebP image; this file is not one.") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_many_pixels(max_pixels) from exc
    except Exception as exc:  # a damaged header: plugins raise all sorts
        raise ImageRejected("The file is not a valid image.") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected("The file is not a valid image.")
    if width * height > max_pixels:
        raise too_many_pixels(max_pixels)
    source_format = image.format
    try:
        image.load()  # the first frame only, for animations
        orientation = exif_orientation(image)
        image = replaced(image, to_srgb(image, image.info.get("icc_profile")))
        image = replaced(image, normalised_mode(image))
        if transposition := UPRIGHT.get(orientation):
            image = upright(image, transposition)
    except ImageRejected:
        raise
    except Exception as exc:  # truncated or corrupt data: decoders raise all sorts
        raise ImageRejected("The file is not a valid image: it is damaged or incomplete.") from exc
    # Everything but the pixels: EXIF, XMP, ICC, comments, dpi... Nothing of it is
    # written again, whatever an encoder would copy from here.
    image.info = {}
    return image, source_format


def replaced(image: Image.Image, result: Image.Image) -> Image.Image:
    """``result``, made from ``image``; ``image`` is closed if it is another image, so
    that its pixels are freed now rather than when the last name for it goes."""
    if result is not image:
        image.close()
    return result


def upright(image: Image.Image, transposition: Image.Transpose) -> Image.Image:
    """``image`` transposed; ``image`` itself is closed.

    A large RGB image (a camera's JPEG) is turned one band at a time: Pillow keeps an RGB
    pixel in 4 bytes and each band's in 1, so at most 7 bytes a pixel are alive (the image
    and its bands, then the bands and the result) instead of 8 (the image and its turned
    copy): 40 MB less at 40 megapixels. The pixels are the same either way; the extra
    pass is not worth it below ``BANDWISE_PIXELS``."""
    if image.mode != "RGB" or image.width * image.height < BANDWISE_PIXELS:
        return replaced(image, image.transpose(transposition))
    bands = list(image.split())
    image.close()
    for index, band in enumerate(bands):
        bands[index] = band.transpose(transposition)
        band.close()
    result = Image.merge("RGB", bands)
    for band in bands:
        band.close()
    return result


def too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected(
        f"The image has too many pixels: at most {max_pixels / 1_000_000:g} megapixels are accepted."
    )


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1, upright, when absent or unreadable: a damaged EXIF block
    should not cost the photo)."""
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) else 1


def normalised_mode(image: Image.Image) -> Image.Image:
    """L, LA, RGB or RGBA: what JPEG (no alpha), PNG and WebP all encode without
    surprises. Transparency (a palette's or a tRNS chunk's) becomes an alpha channel."""
    mode = image.mode
    if mode in {"L", "RGB", "RGBA", "LA"} and "transparency" not in image.info:
        return image
    if mode.startswith("I;16") or mode == "I":
        # 16-bit greyscale: scale to 8 bits rather than clip (Pillow's convert clips).
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode == "CMYK":
        return image.convert("RGB")
    if image.has_transparency_data:
        return image.convert("LA" if mode in {"1", "L", "LA"} else "RGBA")
    return image.convert("L" if mode in {"1", "L"} else "RGB")


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Pixels in sRGB when the upload carried another colour profile (a wide-gamut phone
    photo, a CMYK print file): the profile itself is dropped with the other metadata, and
    browsers read untagged images as sRGB. An unreadable or unusable profile is ignored."""
    if not icc_profile or image.mode not in {"RGB", "RGBA", "CMYK"}:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if image.mode != "CMYK" and "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return image  # already sRGB: the common case, and no work
        output_mode = "RGB" if image.mode == "CMYK" else image.mode
        # In place when the mode stays: no second full-size image (a CMYK one must change).
        in_place = output_mode == image.mode
        converted = ImageCms.profileToProfile(image, source, SRGB, outputMode=output_mode, inPlace=in_place)
        return converted or image
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image


SRGB = ImageCms.createProfile("sRGB")


def encode_original(image: Image.Image, *, source_format: str) -> EncodedImage:
    pillow_format, extension, content_type = STORED_AS[source_format]
    if pillow_format == "JPEG" and image.mode not in {"L", "RGB"}:
        image = image.convert("RGB")
    return EncodedImage(
        data=encoded(image, pillow_format),
        width=image.width,
        height=image.height,
        extension=extension,
        content_type=content_type,
    )


def rendition_source(image: Image.Image) -> Image.Image:
    """What renditions are resized from. With alpha, premultiplied once here: Pillow's
    resize would otherwise make a premultiplied full-size copy on every call."""
    if image.mode in {"RGBA", "LA"}:
        return image.convert("RGBa")
    return image if image.mode in {"RGB", "L"} else image.convert("RGB")


def renditions(image: Image.Image, widths: list[int]) -> list[EncodedImage]:
    """WebP at each of ``widths`` (narrower than the image), ascending. Each is resized
    from the next larger one, not from the original: much less work, no visible
    difference. ``image`` is closed once the largest is made (the full-size image is the
    largest in memory by far), and each rendition once the next smaller one is."""
    pillow_format, extension, content_type = RENDITION_FORMAT
    made = []
    full_width, full_height = image.size
    source = image
    for width in sorted(widths, reverse=True):
        height = max(1, round(full_height * width / full_width))
        resized = source.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
        source = replaced(source, resized)
        ready = webp_ready(source)
        made.append(
            EncodedImage(
                data=encoded(ready, pillow_format),
                width=width,
                height=height,
                extension=extension,
                content_type=content_type,
            )
        )
        if ready is not source:
            ready.close()
    source.close()
    return made[::-1]


def webp_ready(image: Image.Image) -> Image.Image:
    if image.mode == "RGBa":
        return image.convert("RGBA")
    return image if image.mode == "RGB" else image.convert("RGB")


def encoded(image: Image.Image, pillow_format: str) -> bytes:
    """``image`` encoded with explicit options only: no metadata argument, so none is
    written."""
    buffer = io.BytesIO()
    if pillow_format == "JPEG":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    elif pillow_format == "PNG":
        image.save(buffer, "PNG", optimize=False)
    else:
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return buffer.getvalue()
