"""The memory an upload takes. The issue's budget: a worker's peak resident memory stays
under 400 MB while it processes a 40-megapixel upload. Peak memory is per process, so it
is measured in a fresh one, with Django set up as in a worker (``bench.images``, which
``docs/performance.md`` quotes)."""

from bench import images as bench_images
from images import processing

# What processing may add to a worker's resident memory for 40 megapixels (the worst
# case: a photo that must be turned). Two full-size RGB copies at once, as turning an
# image in one piece needs, would be 320 MB.
ADDED_MB = 290


def test_the_bench_floor_does_what_an_upload_does_for_its_largest_rendition():
    assert processing.RENDITION_WIDTHS[-1] == bench_images.LARGEST_RENDITION
    assert processing.WEBP_QUALITY == bench_images.WEBP_QUALITY
    assert processing.WEBP_METHOD == bench_images.WEBP_METHOD
    assert processing.REDUCING_GAP == bench_images.REDUCING_GAP


def test_a_40_megapixel_photo_turned_upright_stays_within_the_memory_budget(tmp_path):
    width, height = bench_images.dimensions(40)
    path = tmp_path / "photo.jpg"
    bench_images.make_photo_file(path, 40, orientation=6)

    result = bench_images.peak_rss(path)

    assert (result["width"], result["height"]) == (width, height)  # stood up
    assert result["peak_mb"] - result["baseline_mb"] < ADDED_MB, result
    assert result["peak_mb"] < 400, result
