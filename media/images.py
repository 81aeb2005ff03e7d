"""The photo pipeline: from the bytes a resident uploads to the images Simpul stores and serves.

Pure and framework-free: bytes in, bytes and facts out. The caller stores the renditions (Django storage) and records
the facts (models), in the request or in a worker. Nothing here reads Django settings, except `MediaRejected.message`,
which is translated text and is translated when read.

`process_image`, in order:

1. Refuses on the bytes alone, before decoding: empty input, more than `max_bytes`, anything that is not JPEG, PNG or
   WebP by its magic bytes (the client's file name and content type are never consulted).
2. Opens the file with the sniffed format's decoder only and refuses more than `max_pixels` by the size in the header,
   before any pixel is decoded (decompression bombs). Pillow's own limit, `Image.MAX_IMAGE_PIXELS`, applies too.
3. Decodes every pixel, so a truncated or damaged file is refused rather than stored half grey (this relies on
   Pillow's `ImageFile.LOAD_TRUNCATED_IMAGES` staying False, its default). A JPEG at least twice the size of the full
   rendition is decoded at 1/2, 1/4 or 1/8 scale (`Image.draft`): half the decoding time for a 48 MP photo.
4. Reads the capture time and GPS position from EXIF and applies the EXIF orientation.
5. Renders the full image and the thumbnails with no metadata at all: no EXIF, XMP, comment, text chunk or ICC
   profile. Colours described by an embedded ICC profile other than sRGB are converted to sRGB first, so dropping the
   profile doesn't shift them (sRGB is what every viewer assumes when there is no profile).

Formats of the renditions:

- Full image: JPEG, unless the image has transparent pixels: then PNG. PNGs without transparency and WebPs become
  JPEGs too. Residents send photos, and JPEG is the format for photos; only PNG keeps transparency in every viewer,
  PDF report generator and e-mail client, which WebP still doesn't.
- Thumbnails: always JPEG, transparent pixels shown on white.
- Animated PNGs and WebPs: the first frame.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms

from media.errors import MediaErrorCode

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"

#: The upload types `process_image` accepts, each with the one Pillow decoder allowed to open it.
_DECODERS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}

JPEG_QUALITY = 85
#: zlib level of PNG renditions (transparent images only). zlib's default, 6, makes a flat screenshot 25% smaller
#: for 50% more time, but a photo-like image only 2% smaller for 3x the time (2 s at 2560x1920 instead of 0.6 s).
PNG_COMPRESS_LEVEL = 3
#: Downscaling filters. The full image, from up to 12 MP and more, with HAMMING: as fast as BILINEAR and sharper
#: (BICUBIC costs 60% more there, ~50 ms for a 12 MP photo); thumbnails, cheap at their sizes, with BICUBIC.
FULL_RESAMPLE = Image.Resampling.HAMMING
THUMBNAIL_RESAMPLE = Image.Resampling.BICUBIC

# EXIF tags (CIPA DC-008) and the transposition that shows an image upright for each orientation value.
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4
_TRANSPOSITIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_SIDES = {
    Image.Transpose.TRANSPOSE,
    Image.Transpose.ROTATE_270,
    Image.Transpose.TRANSVERSE,
    Image.Transpose.ROTATE_90,
}

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_COLORANTS = ("red_colorant", "green_colorant", "blue_colorant")

#: What Pillow raises for a file it cannot decode: damaged, truncated, or not what its magic bytes claim.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError)


def sniff_content_type(head: bytes) -> str | None:
    """The content type the file's first bytes (at least 12 of them) prove, or None for anything else.

    Recognises JPEG, PNG, WebP and PDF; HTML, ZIP, GIF, empty input and the rest are None.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


_MESSAGES = {
    MediaErrorCode.EMPTY: _("The file is empty."),
    MediaErrorCode.TOO_LARGE: _("The file is larger than %(limit)s MB."),
    MediaErrorCode.TOO_MANY_PIXELS: _("The image has more than %(limit)s megapixels."),
    MediaErrorCode.UNSUPPORTED_TYPE: _("Only JPEG, PNG and WebP images are accepted."),
    MediaErrorCode.CORRUPT: _("The image is damaged or incomplete."),
}
#: What one unit of `MediaRejected.limit` is shown as in messages: bytes as MB (1024²), pixels as megapixels.
_LIMIT_UNITS = {MediaErrorCode.TOO_LARGE: 1024 * 1024, MediaErrorCode.TOO_MANY_PIXELS: 1_000_000}


class MediaRejected(Exception):
    """An upload refused for a reason the uploader can fix: `code` says which, `message` says it to people.

    `limit` is the limit exceeded (bytes for TOO_LARGE, pixels for TOO_MANY_PIXELS), None for the other codes.
    `str()` of the exception is the code, so logging it never needs Django settings.
    """

    def __init__(self, code: MediaErrorCode, limit: int | None = None):
        super().__init__(str(code))
        self.code = code
        self.limit = limit

    @property
    def message(self) -> str:
        """The reason in the language active when read (Django settings must be configured by then)."""
        text = str(_MESSAGES[self.code])
        if self.limit is None:
            return text
        return text % {"limit": f"{self.limit / _LIMIT_UNITS[self.code]:.1f}".removesuffix(".0")}


@dataclass(frozen=True, slots=True)
class Rendition:
    """One encoded image to store and serve, without any metadata."""

    content_type: str
    width: int
    height: int
    sha256: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """An accepted upload: facts about it and the renditions to store in its place.

    `width` and `height` are the upload's own, as displayed (after the EXIF orientation); `captured_at` is aware
    when the camera recorded its UTC offset, naive (the camera's local time) otherwise; `latitude` and `longitude`
    (decimal degrees, south and west negative) are both set or both None. `thumbnails` is keyed by the requested long
    side; images are never enlarged, so a thumbnail is smaller than asked only when the image itself is.
    """

    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    captured_at: datetime | None
    latitude: float | None
    longitude: float | None
    full: Rendition
    thumbnails: dict[int, Rendition]


def process_image(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    full_max_side: int = 2560,
    thumb_sides: tuple[int, ...] = (1024, 320),
) -> ProcessedImage:
    """Checks an uploaded image and renders what Simpul stores: a full image and thumbnails, metadata stripped.

    The full image's long side is at most `full_max_side`, each thumbnail's at most its entry in `thumb_sides`. Raises
    MediaRejected for an empty, too large, unsupported, too many pixels or damaged file. See the module docstring.
    """
    content_type = _accepted_type(data, max_bytes)
    image, header_size = _decode(data, content_type, max_pixels, full_max_side)
    orientation, exif, gps = _read_exif(image)
    transposition = _TRANSPOSITIONS.get(orientation)
    width, height = header_size[::-1] if transposition in _SWAPS_SIDES else header_size
    latitude, longitude = _gps_position(gps)

    icc_profile = image.info.get("icc_profile")
    full = _normalise_mode(image)
    target = _fit(header_size, full_max_side)
    if full.size != target:
        full = full.resize(target, FULL_RESAMPLE)
    if transposition is not None:
        full = full.transpose(transposition)
    full = _to_srgb(full, icc_profile)
    # Nothing of the upload's metadata may reach an encoder: Pillow falls back on `info` for some (JPEG comment, PNG
    # ICC profile and transparency). Every later image derives from this one and inherits the empty `info`.
    full.info = {}

    return ProcessedImage(
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
        captured_at=_capture_time(exif),
        latitude=latitude,
        longitude=longitude,
        full=_encode(full),
        thumbnails=_thumbnails(full, thumb_sides),
    )


def _accepted_type(data: bytes, max_bytes: int) -> str:
    """The sniffed content type of an upload `process_image` accepts, or MediaRejected before any decoding."""
    if not data:
        raise MediaRejected(MediaErrorCode.EMPTY)
    if len(data) > max_bytes:
        raise MediaRejected(MediaErrorCode.TOO_LARGE, max_bytes)
    content_type = sniff_content_type(data[:12])
    if content_type not in _DECODERS:
        raise MediaRejected(MediaErrorCode.UNSUPPORTED_TYPE)
    return content_type


def _decode(data: bytes, content_type: str, max_pixels: int, full_max_side: int) -> tuple[Image.Image, tuple[int, int]]:
    """The decoded image (possibly at a reduced JPEG scale) and its size according to the header."""
    limit = max_pixels if Image.MAX_IMAGE_PIXELS is None else min(max_pixels, Image.MAX_IMAGE_PIXELS)
    try:
        # Pillow checks its own limit here: above twice MAX_IMAGE_PIXELS it raises DecompressionBombError, above
        # MAX_IMAGE_PIXELS it warns, and the check below, bound by MAX_IMAGE_PIXELS too, refuses what it warned about.
        image = Image.open(io.BytesIO(data), formats=[_DECODERS[content_type]])
        header_size = image.size
        if header_size[0] * header_size[1] > limit:
            raise MediaRejected(MediaErrorCode.TOO_MANY_PIXELS, limit)
        # Only the JPEG decoder honours a draft: it then decodes at the smallest of 1/2, 1/4 or 1/8 scale that is
        # still at least this size, so the full rendition never comes from fewer pixels than it has.
        image.draft(None, _fit(header_size, full_max_side))
        image.load()
    except Image.DecompressionBombError as error:
        raise MediaRejected(MediaErrorCode.TOO_MANY_PIXELS, limit) from error
    except _DECODE_ERRORS as error:
        raise MediaRejected(MediaErrorCode.CORRUPT) from error
    return image, header_size


def _read_exif(image: Image.Image) -> tuple[int | None, dict, dict]:
    """The EXIF orientation, the EXIF sub-IFD and the GPS IFD; missing or malformed EXIF reads as empty."""
    try:
        exif = image.getexif()
        return exif.get(_ORIENTATION), dict(exif.get_ifd(_EXIF_IFD)), dict(exif.get_ifd(_GPS_IFD))
    except Exception:  # EXIF is optional, and Pillow's parser raises assorted errors on malformed data
        return None, {}, {}


def _capture_time(exif: dict) -> datetime | None:
    """DateTimeOriginal, aware if OffsetTimeOriginal is a valid UTC offset, else naive; None if absent or invalid."""
    value = exif.get(_DATETIME_ORIGINAL)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=_utc_offset(exif.get(_OFFSET_TIME_ORIGINAL)))


def _utc_offset(value: object) -> tzinfo | None:
    """An EXIF OffsetTime* value ("+07:00") as a tzinfo, None if absent or invalid."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip("\x00 "), "%z").tzinfo
    except ValueError:
        return None


def _gps_position(gps: dict) -> tuple[float | None, float | None]:
    """(latitude, longitude) in decimal degrees from the GPS IFD, or (None, None) unless both are valid.

    A coordinate without its hemisphere reference counts as invalid: Indonesia straddles the equator, so assuming
    north would put half the country's photos in the wrong place.
    """
    latitude = _degrees(gps.get(_GPS_LATITUDE), gps.get(_GPS_LATITUDE_REF), "N", "S", 90)
    longitude = _degrees(gps.get(_GPS_LONGITUDE), gps.get(_GPS_LONGITUDE_REF), "E", "W", 180)
    if latitude is None or longitude is None:
        return None, None
    return latitude, longitude


def _degrees(value: object, ref: object, positive: str, negative: str, bound: int) -> float | None:
    """An EXIF GPS coordinate (degrees, minutes, seconds as rationals) as signed decimal degrees, None if invalid."""
    if not isinstance(ref, str) or ref.strip("\x00 ").upper() not in (positive, negative):
        return None
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    try:
        degrees = sum(float(part) / 60**index for index, part in enumerate(value))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(degrees) or not 0 <= degrees <= bound:  # a zero denominator reads as NaN
        return None
    return -degrees if ref.strip("\x00 ").upper() == negative else degrees


def _normalise_mode(image: Image.Image) -> Image.Image:
    """The image in L, RGB or CMYK, or in RGBA if some pixel is not fully opaque (and only then)."""
    if image.mode.startswith("I"):  # 16-bit greyscale PNG
        image = image.point(lambda value: value / 256).convert("L")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        return rgba if rgba.getchannel("A").getextrema()[0] < 255 else rgba.convert("RGB")
    return image if image.mode in ("L", "RGB", "CMYK") else image.convert("RGB")


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """`size` scaled down, aspect kept, so that its long side is at most `max_side`; never enlarged."""
    width, height = size
    scale = max_side / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The image in sRGB (or L), converted through its ICC profile unless that profile is sRGB already.

    A profile that cannot be read or doesn't fit the image's colour space is ignored, as browsers do; CMYK without a
    usable profile is converted with Pillow's naive formula.
    """
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if not _is_srgb(source):
                output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
                return ImageCms.profileToProfile(image, source, _SRGB, outputMode=output_mode)
        except (ImageCms.PyCMSError, OSError):
            pass  # unreadable (OSError) or not for this colour space (PyCMSError): as if absent
    return image.convert("RGB") if image.mode == "CMYK" else image


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """Whether an RGB profile has sRGB's primaries (which every sRGB profile variant shares, within rounding)."""
    if profile.profile.xcolor_space != "RGB ":
        return False
    for name in _COLORANTS:
        colorant, reference = getattr(profile.profile, name), getattr(_SRGB.profile, name)
        if colorant is None or any(abs(a - b) > 0.002 for a, b in zip(colorant[0], reference[0], strict=True)):
            return False
    return True


def _thumbnails(full: Image.Image, sides: tuple[int, ...]) -> dict[int, Rendition]:
    """JPEG thumbnails of the full image, each downscaled from the next larger one (cheaper, and as sharp)."""
    if full.mode == "RGBA":
        opaque = Image.new("RGB", full.size, "white")
        opaque.paste(full, mask=full.getchannel("A"))
        full = opaque
    renditions = {}
    source = full
    for side in sorted(set(sides), reverse=True):
        target = _fit(source.size, side)
        if source.size != target:
            source = source.resize(target, THUMBNAIL_RESAMPLE)
        renditions[side] = _encode(source)
    return {side: renditions[side] for side in sides}


def _encode(image: Image.Image) -> Rendition:
    """The image as a PNG if it has an alpha channel, else as a baseline JPEG (no Huffman optimisation: slower)."""
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
        content_type = PNG
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
        content_type = JPEG
    data = buffer.getvalue()
    return Rendition(content_type, image.width, image.height, hashlib.sha256(data).hexdigest(), data)
