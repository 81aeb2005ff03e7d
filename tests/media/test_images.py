"""The photo pipeline (media/images.py), on images made here with Pillow: no binary fixtures."""

from __future__ import annotations

import hashlib
import io
import os
import random
import struct
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageCms, TiffImagePlugin

from media.errors import MediaErrorCode
from media.images import MediaRejected, ProcessedImage, process_image, sniff_content_type

MB = 1024 * 1024
LIMITS = {"max_bytes": 10 * MB, "max_pixels": 40_000_000}
RED, GREEN, BLUE, GREY = (220, 30, 30), (30, 200, 30), (30, 30, 220), (128, 128, 128)
#: JPEG/PNG/WebP metadata that Pillow reports in `info` when it reads a file.
METADATA_KEYS = {"exif", "xmp", "icc_profile", "comment", "transparency", "dpi", "Raw profile type exif"}
#: Display P3's primaries adapted to D50, as in Apple's profile: the wide-gamut colour space iPhones embed.
P3_COLORANTS = {
    b"rXYZ": (0.515121, 0.241196, -0.001053),
    b"gXYZ": (0.291977, 0.692245, 0.041885),
    b"bXYZ": (0.157104, 0.066574, 0.784073),
}


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def process(data: bytes, **options) -> ProcessedImage:
    return process_image(data, **{**LIMITS, **options})


def rejection(data: bytes, **options) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        process(data, **options)
    return caught.value


def decoded(rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


def close(pixel, expected, tolerance=6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def phone_exif(*, orientation=None, taken=None, offset=None, latitude=None, longitude=None) -> Image.Exif:
    """EXIF as a phone camera writes it; `latitude`/`longitude` are (ref, (degrees, minutes, seconds))."""
    exif = Image.Exif()
    exif[0x0110] = "Simpul Phone 1"  # Model: identifying metadata that must not survive
    if orientation is not None:
        exif[0x0112] = orientation
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken
    if offset is not None:
        exif.get_ifd(0x8769)[0x9011] = offset
    gps = exif.get_ifd(0x8825)
    for ref_tag, tag, value in ((1, 2, latitude), (3, 4, longitude)):
        if value is not None:
            gps[ref_tag], gps[tag] = value
    return exif


def png_claiming(width: int, height: int) -> bytes:
    """A small, valid PNG whose IHDR (CRC fixed) claims another size: its pixel data fits 8x8, not that."""
    data = bytearray(encode(Image.new("RGB", (8, 8), RED), "PNG"))
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(data[12:29]))
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def display_p3_profile() -> bytes:
    """lcms's sRGB profile with Display P3's primaries written over sRGB's (its description still says sRGB)."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", profile, 128)
    for index in range(count):
        signature, offset, _size = struct.unpack_from(">4sII", profile, 132 + 12 * index)
        if signature in P3_COLORANTS:
            values = (round(value * 65536) for value in P3_COLORANTS[signature])
            struct.pack_into(">4s4x3i", profile, offset, b"XYZ ", *values)
    return bytes(profile)


# --- sniffing --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3", "application/pdf"),
        (b"<html><body>not a photo</body></html>", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", None),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"\xff\xd8", None),
        (b"", None),
    ],
)
def test_sniff_content_type_reads_magic_bytes_only(head, expected):
    assert sniff_content_type(head) == expected


# --- a 12 MP phone photo ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def phone_photo() -> tuple[bytes, ProcessedImage]:
    """A 4000x3000 JPEG stored sideways (orientation 6: turn 90° clockwise to show), red in its stored top-left
    corner, taken in Jakarta, with EXIF, XMP, a comment and an ICC profile; and what the pipeline makes of it."""
    image = Image.new("RGB", (4000, 3000), GREY)
    image.paste(RED, (0, 0, 400, 300))
    exif = phone_exif(
        orientation=6,
        taken="2025:03:14 09:26:53",
        offset="+07:00",
        latitude=("S", (6.0, 12.0, 30.5)),
        longitude=("E", (106.0, 49.0, 36.2)),
    )
    data = encode(
        image,
        "JPEG",
        quality=92,
        exif=exif,
        xmp=b"<x:xmpmeta><rdf:Description exif:GPSLatitude='6,12.5S'/></x:xmpmeta>",
        comment=b"owner: Budi Santoso",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    return data, process(data)


def test_phone_photo_is_shown_upright(phone_photo):
    data, result = phone_photo
    assert (result.content_type, result.size, result.sha256) == (
        "image/jpeg",
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert (result.width, result.height) == (3000, 4000)
    full = decoded(result.full)
    assert (result.full.content_type, result.full.width, result.full.height) == ("image/jpeg", 1920, 2560)
    assert full.size == (1920, 2560)
    # Turned clockwise, the stored top-left corner is shown top-right.
    assert close(full.getpixel((1880, 40)), RED)
    assert close(full.getpixel((40, 40)), GREY)
    assert close(full.getpixel((1880, 2520)), GREY)


def test_phone_photo_capture_time_and_position_are_read(phone_photo):
    _data, result = phone_photo
    assert result.captured_at == datetime(2025, 3, 14, 9, 26, 53, tzinfo=timezone(timedelta(hours=7)))
    assert result.latitude == pytest.approx(-(6 + 12 / 60 + 30.5 / 3600))
    assert result.longitude == pytest.approx(106 + 49 / 60 + 36.2 / 3600)


def test_phone_photo_renditions_carry_no_metadata(phone_photo):
    _data, result = phone_photo
    for rendition in (result.full, *result.thumbnails.values()):
        image = decoded(rendition)
        assert not METADATA_KEYS & set(image.info), image.info.keys()
        assert len(image.getexif()) == 0
        for secret in (b"Exif", b"xmpmeta", b"Budi", b"Simpul Phone", b"ICC_PROFILE"):
            assert secret not in rendition.data


def test_phone_photo_thumbnails(phone_photo):
    _data, result = phone_photo
    assert list(result.thumbnails) == [1024, 320]
    for side, expected_size in ((1024, (768, 1024)), (320, (240, 320))):
        rendition = result.thumbnails[side]
        image = decoded(rendition)
        assert (rendition.width, rendition.height) == image.size == expected_size
        assert rendition.content_type == "image/jpeg" and image.format == "JPEG"
        assert rendition.sha256 == hashlib.sha256(rendition.data).hexdigest()
        assert close(image.getpixel((image.width - 5, 5)), RED)
    assert result.full.sha256 == hashlib.sha256(result.full.data).hexdigest()


# --- EXIF facts ------------------------------------------------------------------------------------------------------


def small_jpeg(**exif) -> bytes:
    return encode(Image.new("RGB", (64, 48), GREY), "JPEG", exif=phone_exif(**exif))


@pytest.mark.parametrize(
    ("exif", "expected"),
    [
        ({"taken": "2024:12:31 23:59:59"}, datetime(2024, 12, 31, 23, 59, 59)),
        ({"taken": "2024:12:31 23:59:59", "offset": "+08:00"}, datetime(2024, 12, 31, 15, 59, 59, tzinfo=UTC)),
        ({"taken": "2024:12:31 23:59:59", "offset": "-03:30"}, datetime(2025, 1, 1, 3, 29, 59, tzinfo=UTC)),
        ({"taken": "2024:12:31 23:59:59", "offset": "   :  "}, datetime(2024, 12, 31, 23, 59, 59)),
        ({"taken": "0000:00:00 00:00:00"}, None),
        ({"taken": "yesterday"}, None),
        ({}, None),
    ],
)
def test_capture_time(exif, expected):
    captured_at = process(small_jpeg(**exif)).captured_at
    assert captured_at == expected
    if expected is not None:
        assert (captured_at.tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        (("N", (1.0, 30.0, 0.0)), ("E", (124.0, 50.0, 24.0)), (1.5, 124.84)),
        (("S", (8.0, 39.0, 0.0)), ("E", (115.0, 13.0, 12.0)), (-8.65, 115.22)),
        (("N", (40.0, 45.0, 0.0)), ("W", (73.0, 58.0, 48.0)), (40.75, -73.98)),
        (("", (6.0, 0.0, 0.0)), ("E", (106.0, 0.0, 0.0)), (None, None)),  # hemisphere unknown
        (("S", (6.0, 0.0, 0.0)), None, (None, None)),
        (("S", (TiffImagePlugin.IFDRational(6, 0), 0.0, 0.0)), ("E", (106.0, 0.0, 0.0)), (None, None)),
        (("S", (95.0, 0.0, 0.0)), ("E", (106.0, 0.0, 0.0)), (None, None)),
    ],
)
def test_gps_position(latitude, longitude, expected):
    result = process(small_jpeg(latitude=latitude, longitude=longitude))
    assert (result.latitude, result.longitude) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [
        (1, "top-left"),
        (2, "top-right"),
        (3, "bottom-right"),
        (4, "bottom-left"),
        (5, "top-left"),
        (6, "top-right"),
        (7, "bottom-right"),
        (8, "bottom-left"),
    ],
)
def test_every_exif_orientation(orientation, corner):
    """The stored top-left corner is red; where it is shown depends on the orientation (CIPA DC-008)."""
    image = Image.new("RGB", (100, 50), GREY)
    image.paste(RED, (0, 0, 20, 20))
    result = process(encode(image, "PNG", exif=phone_exif(orientation=orientation)))
    shown = decoded(result.full)
    assert shown.size == ((100, 50) if orientation <= 4 else (50, 100)) == (result.width, result.height)
    right, bottom = shown.width - 6, shown.height - 6
    corners = {"top-left": (5, 5), "top-right": (right, 5), "bottom-left": (5, bottom), "bottom-right": (right, bottom)}
    assert [name for name, point in corners.items() if close(shown.getpixel(point), RED)] == [corner]


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # Pillow reports the malformed EXIF
def test_malformed_exif_is_ignored():
    data = encode(Image.new("RGB", (64, 48), GREY), "JPEG", exif=b"Exif\x00\x00MM\x00*\xff\xff\xff\xff")
    result = process(data)
    assert (result.captured_at, result.latitude, result.width) == (None, None, 64)


# --- refusals --------------------------------------------------------------------------------------------------------


def test_empty_file():
    assert rejection(b"").code == MediaErrorCode.EMPTY


def test_byte_limit():
    data = encode(Image.new("RGB", (64, 48), GREY), "JPEG")
    assert process(data, max_bytes=len(data)).size == len(data)
    error = rejection(data, max_bytes=len(data) - 1)
    assert (error.code, error.limit) == (MediaErrorCode.TOO_LARGE, len(data) - 1)


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        b"PK\x03\x04" + bytes(100),
    ],
    ids=["html", "pdf", "gif", "zip"],
)
def test_other_types_are_refused_whatever_the_name(data):
    assert rejection(data).code == MediaErrorCode.UNSUPPORTED_TYPE


def test_pdf_is_sniffed_but_is_no_photo():
    data = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    assert sniff_content_type(data) == "application/pdf"
    assert rejection(data).code == MediaErrorCode.UNSUPPORTED_TYPE


@pytest.mark.parametrize("full_max_side", [2560, 900])  # 900: decoded at a reduced scale (draft)
def test_truncated_jpeg_is_corrupt(phone_photo, full_max_side):
    data, _result = phone_photo
    assert rejection(data[: len(data) // 2], full_max_side=full_max_side).code == MediaErrorCode.CORRUPT


@pytest.mark.parametrize("format", ["PNG", "WEBP"])
def test_truncated_png_and_webp_are_corrupt(format):
    image = Image.effect_noise((300, 200), 40).convert("RGB")
    data = encode(image, format)
    assert process(data).full.width == 300
    assert rejection(data[: len(data) * 2 // 3]).code == MediaErrorCode.CORRUPT


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff" + bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 50,
        b"RIFF\x10\x00\x00\x00WEBPVP8 junk",
    ],
    ids=["jpeg", "png", "webp"],
)
def test_magic_bytes_followed_by_garbage_are_corrupt(data):
    assert rejection(data).code == MediaErrorCode.CORRUPT


def test_png_bomb_is_refused_from_its_header():
    """30000x30000 is over twice Pillow's MAX_IMAGE_PIXELS: Pillow itself raises DecompressionBombError."""
    error = rejection(png_claiming(30_000, 30_000))
    assert (error.code, error.limit) == (MediaErrorCode.TOO_MANY_PIXELS, LIMITS["max_pixels"])


def test_pixels_over_pillows_warning_limit_are_refused_even_if_allowed():
    """10000x10000 makes Pillow warn (over MAX_IMAGE_PIXELS, under twice that): refused although max_pixels allows it."""
    with pytest.warns(Image.DecompressionBombWarning):
        error = rejection(png_claiming(10_000, 10_000), max_pixels=200_000_000)
    assert (error.code, error.limit) == (MediaErrorCode.TOO_MANY_PIXELS, Image.MAX_IMAGE_PIXELS)


def test_pixel_limit_is_checked_before_decoding():
    """The header claims 2000x2000 but the data holds 8x8: decoding would fail as CORRUPT."""
    assert rejection(png_claiming(2000, 2000), max_pixels=4_000_000).code == MediaErrorCode.CORRUPT
    error = rejection(png_claiming(2000, 2000), max_pixels=3_999_999)
    assert (error.code, error.limit) == (MediaErrorCode.TOO_MANY_PIXELS, 3_999_999)


def test_jpeg_bomb_is_refused_from_its_header():
    assert rejection(jpeg_claiming(60_000, 60_000)).code == MediaErrorCode.TOO_MANY_PIXELS
    assert rejection(jpeg_claiming(5000, 5000), max_pixels=1_000_000).code == MediaErrorCode.TOO_MANY_PIXELS


def test_webp_pixel_limit():
    data = encode(Image.new("RGB", (200, 100), GREY), "WEBP")
    assert rejection(data, max_pixels=19_999).code == MediaErrorCode.TOO_MANY_PIXELS
    assert process(data, max_pixels=20_000).width == 200


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # Pillow reports the malformed EXIF
def test_damaged_files_are_processed_or_refused_never_crash():
    """Truncations and flipped bytes anywhere in small JPEG, PNG and WebP files: a MediaRejected or a result."""
    randomness = random.Random(20250314)
    image = Image.effect_noise((96, 64), 50).convert("RGB")
    for format in ("JPEG", "PNG", "WEBP"):
        original = encode(image, format, exif=phone_exif(orientation=6, latitude=("S", (6.0, 1.0, 2.0))))
        for _ in range(60):
            data = bytearray(original)
            if randomness.random() < 0.3:
                del data[randomness.randrange(12, len(data)) :]
            for _ in range(randomness.randint(1, 4)):
                data[randomness.randrange(12, len(data))] = randomness.randrange(256)
            try:
                result = process(bytes(data))
            except MediaRejected:
                continue
            assert (result.full.width, result.full.height) in ((96, 64), (64, 96))


# --- formats ---------------------------------------------------------------------------------------------------------


def half_transparent(mode="RGBA") -> Image.Image:
    """Red on the left half, fully transparent on the right."""
    image = Image.new("RGBA", (300, 200), (*RED, 255))
    image.paste((0, 0, 0, 0), (150, 0, 300, 200))
    return image.convert(mode) if mode != "RGBA" else image


@pytest.mark.parametrize("format", ["PNG", "WEBP"])
def test_transparency_is_kept_in_a_png_and_thumbnails_are_on_white(format):
    result = process(encode(half_transparent(), format, lossless=True))
    full = decoded(result.full)
    assert (result.full.content_type, full.format, full.mode) == ("image/png", "PNG", "RGBA")
    assert full.getpixel((10, 10)) == (*RED, 255)
    assert full.getpixel((290, 10))[3] == 0
    assert not METADATA_KEYS & set(full.info)
    for rendition in result.thumbnails.values():
        thumbnail = decoded(rendition)
        assert (rendition.content_type, thumbnail.mode) == ("image/jpeg", "RGB")
        assert close(thumbnail.getpixel((5, 5)), RED)
        assert close(thumbnail.getpixel((thumbnail.width - 5, 5)), (255, 255, 255))


def test_palette_png_with_a_transparent_entry_stays_transparent():
    image = Image.new("P", (300, 200), 0)
    image.putpalette([*RED, 0, 0, 0])
    image.paste(1, (150, 0, 300, 200))
    full = decoded(process(encode(image, "PNG", transparency=1)).full)
    assert full.mode == "RGBA" and full.getpixel((290, 10))[3] == 0


@pytest.mark.parametrize(
    ("image", "format"),
    [
        (Image.new("RGBA", (120, 80), (*BLUE, 255)), "PNG"),  # an alpha channel, every pixel opaque
        (Image.new("RGB", (120, 80), BLUE), "PNG"),
        (Image.new("RGB", (120, 80), BLUE), "WEBP"),
        (Image.new("RGB", (120, 80), BLUE).quantize(8), "PNG"),
    ],
    ids=["opaque-rgba-png", "rgb-png", "webp", "palette-png"],
)
def test_opaque_images_become_jpegs(image, format):
    result = process(encode(image, format, quality=100))
    full = decoded(result.full)
    assert (result.full.content_type, full.format, full.mode, full.size) == ("image/jpeg", "JPEG", "RGB", (120, 80))
    assert close(full.getpixel((60, 40)), BLUE)


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped():
    row = struct.pack("<32H", *[65535] * 16, *[32768] * 16)  # left half white, right half middle grey
    image = Image.frombytes("I;16", (32, 16), row * 16)
    full = decoded(process(encode(image, "PNG")).full)
    assert (full.mode, full.getpixel((4, 8)), abs(full.getpixel((28, 8)) - 128) <= 2) == ("L", 255, True)


def test_cmyk_jpeg_becomes_rgb():
    full = decoded(process(encode(Image.new("CMYK", (80, 60), (0, 255, 255, 0)), "JPEG", quality=100)).full)
    assert full.mode == "RGB" and close(full.getpixel((40, 30)), (255, 0, 0), tolerance=10)


def test_multi_picture_jpeg_gives_its_first_picture():
    first, second = Image.new("RGB", (80, 60), RED), Image.new("RGB", (80, 60), BLUE)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    result = process(data)
    assert result.content_type == "image/jpeg"
    assert close(decoded(result.full).getpixel((40, 30)), RED)


def test_animated_png_gives_its_first_frame():
    frames = [Image.new("RGB", (80, 60), RED), Image.new("RGB", (80, 60), BLUE)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    assert close(decoded(process(data).full).getpixel((40, 30)), RED)


# --- colour ----------------------------------------------------------------------------------------------------------


def test_wide_gamut_colours_are_converted_to_srgb():
    colour = (40, 180, 60)
    p3 = display_p3_profile()
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), colour),
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
    ).getpixel((0, 0))
    assert not close(expected, colour, tolerance=15)  # else this test would prove nothing
    result = process(encode(Image.new("RGB", (64, 48), colour), "JPEG", quality=100, icc_profile=p3))
    full = decoded(result.full)
    assert "icc_profile" not in full.info
    assert close(full.getpixel((32, 24)), expected, tolerance=3)
    assert close(decoded(result.thumbnails[320]).getpixel((32, 24)), expected, tolerance=3)


@pytest.mark.parametrize(
    "profile",
    [ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), b"not an ICC profile" * 10],
    ids=["srgb", "unreadable"],
)
def test_srgb_or_unreadable_profiles_are_dropped_without_conversion(profile):
    colour = (40, 180, 60)
    full = decoded(process(encode(Image.new("RGB", (64, 48), colour), "JPEG", quality=100, icc_profile=profile)).full)
    assert "icc_profile" not in full.info
    assert close(full.getpixel((32, 24)), colour, tolerance=3)


# --- sizes -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "options", "full", "thumbnails"),
    [
        ((3000, 1000), {}, (2560, 853), {1024: (1024, 341), 320: (320, 107)}),
        ((900, 1600), {}, (900, 1600), {1024: (576, 1024), 320: (180, 320)}),
        ((200, 100), {}, (200, 100), {1024: (200, 100), 320: (200, 100)}),
        ((4000, 3000), {"full_max_side": 1000}, (1000, 750), {1024: (1000, 750), 320: (320, 240)}),
        ((1200, 1200), {"thumb_sides": (64, 512, 128)}, (1200, 1200), {64: (64, 64), 512: (512, 512), 128: (128, 128)}),
    ],
    ids=["landscape", "portrait", "smaller-than-thumbnails", "draft-decoded", "custom-sides"],
)
def test_rendition_sizes(size, options, full, thumbnails):
    result = process(encode(Image.new("RGB", size, GREY), "JPEG"), **options)
    assert (result.width, result.height) == size
    assert (result.full.width, result.full.height) == decoded(result.full).size == full
    assert list(result.thumbnails) == list(thumbnails)
    for side, expected in thumbnails.items():
        assert (result.thumbnails[side].width, result.thumbnails[side].height) == expected
        assert decoded(result.thumbnails[side]).size == expected


# --- messages and independence from Django ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "limit", "message"),
    [
        (MediaErrorCode.EMPTY, None, "The file is empty."),
        (MediaErrorCode.TOO_LARGE, 10 * MB, "The file is larger than 10 MB."),
        (MediaErrorCode.TOO_LARGE, 5_000_000, "The file is larger than 4.8 MB."),
        (MediaErrorCode.TOO_MANY_PIXELS, 40_000_000, "The image has more than 40 megapixels."),
        (MediaErrorCode.UNSUPPORTED_TYPE, None, "Only JPEG, PNG and WebP images are accepted."),
        (MediaErrorCode.CORRUPT, None, "The image is damaged or incomplete."),
    ],
)
def test_messages(code, limit, message):
    error = MediaRejected(code, limit)
    assert (error.message, str(error)) == (message, code.value)


def test_pipeline_needs_no_django_settings():
    script = (
        "from PIL import Image; import io\n"
        "from media.images import MediaRejected, process_image\n"
        "buffer = io.BytesIO(); Image.new('RGB', (40, 30)).save(buffer, 'PNG')\n"
        "print(process_image(buffer.getvalue(), max_bytes=10**6, max_pixels=10**6).full.content_type)\n"
        "try:\n    process_image(b'<html>', max_bytes=10**6, max_pixels=10**6)\n"
        "except MediaRejected as error:\n    print(error)\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    repository = Path(__file__).resolve().parents[2]
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=repository, env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["image/jpeg", "unsupported_type"]
