"""Schemathesis hooks for `make fuzz` (loaded by schemathesis.toml's `hooks`).

The upload's schema says the `file` part is `image/jpeg`, `image/png`, `image/gif` or
`image/webp` (its `encoding`); without a strategy for those media types schemathesis
would fill the part with arbitrary bytes, which are no image of any type. These give it
real images of each type, so that an upload the server refuses is a finding.
"""

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image, ImageDraw

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
# Tiny and one wider than the smallest rendition (600), so renditions are made too.
SIZES = ((1, 1), (3, 2), (640, 360))


def picture(width: int, height: int, fmt: str) -> bytes:
    image = Image.new("RGB", (width, height), (20, 20, 220))
    ImageDraw.Draw(image).rectangle([0, 0, max(width // 2 - 1, 0), height - 1], fill=(220, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


for media_type, fmt in FORMATS.items():
    samples = [picture(width, height, fmt) for width, height in SIZES]
    schemathesis.openapi.media_type(media_type, st.sampled_from(samples))
